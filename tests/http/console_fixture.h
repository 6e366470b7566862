// ConsoleTest: heraldd's HTTP edge with the comms console over the real
// in-process gRPC services (GrpcHarness), and an HTTP client that signs
// demo people in. Shared by the console's test files.
#ifndef HERALD_TESTS_HTTP_CONSOLE_FIXTURE_H_
#define HERALD_TESTS_HTTP_CONSOLE_FIXTURE_H_

#include <httplib.h>

#include <memory>
#include <optional>
#include <regex>
#include <string>

#include "gtest/gtest.h"
#include "server/base/secret_token.h"
#include "server/http/http_server.h"
#include "tests/testing/grpc_harness.h"

namespace herald::console_testing {

using testing::GrpcHarness;

inline std::string TokenOf(const std::string& person) {
  return testing::TokenFor(person);
}

// heraldd's HTTP edge with the console, over the in-process gRPC services.
class ConsoleTest : public ::testing::Test {
 protected:
  ConsoleTest()
      : api_(g_.server->InProcessChannel(grpc::ChannelArguments()),
             g_.authorizer.console_channel_key()),
        console_{g_.authorizer, g_.sessions, *g_.core.renderer, "Acme Cloud",
                 false,         &api_,       &g_.core.events},
        page_(g_.core.deps),
        server_(HttpDeps{.intake = g_.core.intake,
                         .status_page = page_,
                         .registry = g_.core.registry,
                         .metrics = g_.core.http_metrics,
                         .webhook_token_sha256 = Sha256Hex("x"),
                         .console = &console_}) {
    port_ = *server_.Bind("127.0.0.1:0");
    server_.Start();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }

  // Signs `person` in; returns the session cookie's value ("" on failure)
  // and keeps the whole Set-Cookie header in `set_cookie_`.
  std::string SignIn(const std::string& person) {
    auto r = client_->Post("/console/sign-in", "token=" + TokenOf(person),
                           "application/x-www-form-urlencoded");
    if (!r || r->status != 303) return "";
    set_cookie_ = r->get_header_value("Set-Cookie");
    std::smatch m;
    return std::regex_search(set_cookie_, m,
                             std::regex("herald_console=([0-9a-f]+)"))
               ? m[1].str()
               : "";
  }

  httplib::Result Home(const std::string& cookie) {
    return client_->Get("/console/", {{"Cookie", "herald_console=" + cookie}});
  }

  // The CSRF token the home page's sign-out form carries.
  std::string CsrfOf(const std::string& cookie) {
    auto r = Home(cookie);
    std::smatch m;
    return r && std::regex_search(
                    r->body, m,
                    std::regex("name=\"csrf\" value=\"([0-9a-f]+)\""))
               ? m[1].str()
               : "";
  }

  httplib::Result SignOut(const std::string& cookie, const std::string& csrf,
                          httplib::Headers extra = {}) {
    extra.emplace("Cookie", "herald_console=" + cookie);
    return client_->Post("/console/sign-out", extra, "csrf=" + csrf,
                         "application/x-www-form-urlencoded");
  }

  GrpcHarness g_;
  ConsoleApi api_;
  ConsoleDeps console_;
  StatusPage page_;
  HttpServer server_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
  std::string set_cookie_;
};

class ConsoleApiTest : public ConsoleTest {
 protected:
  // POSTs `json` to the API method as the holder of `cookie`, with the
  // session's CSRF token unless `csrf` says otherwise.
  httplib::Result Api(const std::string& method, const std::string& json,
                      const std::string& cookie,
                      std::optional<std::string> csrf = std::nullopt) {
    httplib::Headers headers{{"Cookie", "herald_console=" + cookie}};
    const std::string token = csrf ? *csrf : CsrfOf(cookie);
    if (!token.empty()) headers.emplace("X-CSRF-Token", token);
    return client_->Post("/console/api/" + method, headers, json,
                         "application/json");
  }

  // An engineer's update on a fresh checkout incident; returns the draft.
  v1::Message Draft() {
    const int64_t incident =
        g_.core.intake.Ingest(testing::FiringGroup("g1", "checkout", {"fp"}))
            ->incident_id;
    return g_.core.workflow
        .PostUpdate(testing::Engineer(), incident, "rolled back")
        ->draft;
  }
};

}  // namespace herald::console_testing

#endif  // HERALD_TESTS_HTTP_CONSOLE_FIXTURE_H_
