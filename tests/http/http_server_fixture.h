// The fixture and helpers the http_server_test*.cc files share.
#ifndef HERALD_TESTS_HTTP_HTTP_SERVER_FIXTURE_H_
#define HERALD_TESTS_HTTP_HTTP_SERVER_FIXTURE_H_

#include <httplib.h>

#include <atomic>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "server/base/secret_token.h"
#include "server/base/text.h"
#include "server/http/http_server.h"
#include "server/http/self_service_routes.h"
#include "tests/testing/captured_logs.h"
#include "tests/testing/failing_store.h"
#include "tests/testing/harness.h"

namespace herald {
// Named, not anonymous: the fixture is one type in every file.
namespace http_testing {

using testing::CapturedLogs;
using testing::CommsLead;
using testing::CoreHarness;
using testing::Engineer;
using testing::FailingStore;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReadTestData;

constexpr char kToken[] = "webhook-secret";
constexpr size_t kLimit = 64 * 1024;

// A public document at `path` is a page for people (the status page, the
// history) or data other sites may read (the feed, the JSON): only the
// data carries Access-Control-Allow-Origin.
inline void ExpectCorsOnDataOnly(const httplib::Response& r,
                                 const std::string& path) {
  const bool page =
      absl::StartsWith(r.get_header_value("Content-Type"), "text/html");
  EXPECT_EQ(page, path == "/" || path == "/history") << path;
  EXPECT_EQ(r.get_header_value("Access-Control-Allow-Origin"), page ? "" : "*")
      << path;
}

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest()
      : failing_(new FailingStore(NewMemoryStore())),
        h_(std::unique_ptr<Store>(failing_)),
        page_(h_.deps),
        server_(HttpDeps{.intake = h_.intake,
                         .status_page = page_,
                         .registry = h_.registry,
                         .metrics = h_.http_metrics,
                         .webhook_token_sha256 = Sha256Hex(kToken),
                         .webhook_basic_username = "alertmanager",
                         .max_request_bytes = kLimit,
                         .max_inflight_webhooks = 2,
                         .ready = [] { return true; },
                         .io_threads = 2,
                         .portal = &h_.portal,
                         .follow_ups = &h_.follow_ups,
                         .public_changes = &h_.events,
                         .clock = &h_.clock}) {
    port_ = *server_.Bind("127.0.0.1:0");
    server_.Start();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }

  httplib::Result PostWebhook(const std::string& body,
                              const std::string& type = "application/json",
                              const std::string& token = kToken) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client_->Post("/webhooks/alertmanager", headers, body, type.c_str());
  }

  FailingStore* failing_;  // owned by h_
  CoreHarness h_;
  StatusPage page_;
  HttpServer server_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace http_testing
}  // namespace herald

#endif  // HERALD_TESTS_HTTP_HTTP_SERVER_FIXTURE_H_
