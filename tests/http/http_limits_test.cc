// The HTTP edge keeps each client within bounds and every public document
// behind the same headers (issue 18 §2 and §5): the connection limit, event
// streams' buffers and quotas, the public documents' security headers, and
// a console session's secret being no API token.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/secret_token.h"
#include "server/http/http_server.h"
#include "tests/http/console_fixture.h"
#include "tests/http/http_server_fixture.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using console_testing::ConsoleTest;
using ::testing::ContainsRegex;
using testing::CoreHarness;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A blocking TCP client of 127.0.0.1:`port` that reads only when asked.
// Reads give up after 10 s, so a missing answer fails rather than hangs.
class RawClient {
 public:
  // `receive_buffer` > 0: SO_RCVBUF, set before connecting, so that a
  // client that stops reading stops the server's writes soon.
  explicit RawClient(int port, int receive_buffer = 0)
      : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer,
                   sizeof receive_buffer);
    }
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { Close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool Send(const std::string& data) {
    size_t sent = 0;
    while (connected_ && sent < data.size()) {
      const ssize_t n =
          ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return connected_;
  }

  // Reads until what was received holds `needle`; false on end of stream,
  // error or timeout first.
  bool ReadUntil(const std::string& needle) {
    while (text_.find(needle) == std::string::npos) {
      char buf[64 * 1024];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return false;
      text_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  const std::string& text() const { return text_; }

  void SetTimeout(int seconds) {
    timeval timeout{seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }

 private:
  int fd_;
  bool connected_ = false;
  std::string text_;
};

std::string Get(const std::string& target, int port,
                const std::string& cookie = "") {
  return absl::StrCat(
      "GET ", target, " HTTP/1.1\r\nHost: 127.0.0.1:", port, "\r\n",
      cookie.empty() ? ""
                     : absl::StrCat("Cookie: herald_console=", cookie, "\r\n"),
      "\r\n");
}

// Polls `served` (which makes a fresh request) until it says yes: for what
// the server learns from a client closing, which takes a moment but no timer.
bool Eventually(const std::function<bool()>& served) {
  for (int i = 0; i < 400; ++i) {
    if (served()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST(HttpConnectionLimitTest,
     OverTheLimitANewConnectionGets503WithRetryAfterAndOnceOneClosesIsServed) {
  CoreHarness h;
  StatusPage page(h.deps);
  HttpDeps deps{.intake = h.intake,
                .status_page = page,
                .registry = h.registry,
                .metrics = h.http_metrics,
                .webhook_token_sha256 = Sha256Hex("x")};
  deps.max_connections = 2;
  HttpServer server(deps);
  const int port = *server.Bind("127.0.0.1:0");
  server.Start();

  // Two kept-alive connections, each answered once, so both are admitted.
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<RawClient>(port));
    ASSERT_TRUE(held.back()->Send(Get("/healthz", port)));
    ASSERT_TRUE(held.back()->ReadUntil("ok\n"));
  }
  EXPECT_EQ(h.http_metrics.http_connections.Value(), 2);

  httplib::Client c("127.0.0.1", port);
  auto refused = c.Get("/healthz");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->get_header_value("Retry-After"), "1");
  EXPECT_THAT(refused->body, HasSubstr("\"reason\":\"overloaded\""));
  EXPECT_THAT(refused->body, HasSubstr("limit of 2 connections"));
  EXPECT_EQ(h.http_metrics.HttpRefused("connection_limit").Value(), 1);

  held.front()->Close();
  EXPECT_TRUE(Eventually([&] {
    auto r = c.Get("/healthz");
    return r && r->status == 200;
  }));
}

TEST(PublicDocumentsTest,
     EveryPublicDocumentForbidsScriptFramingAndSniffingAndTheDataAllowsCors) {
  CoreHarness h;
  StatusPage page(h.deps);
  HttpServer server(HttpDeps{.intake = h.intake,
                             .status_page = page,
                             .registry = h.registry,
                             .metrics = h.http_metrics,
                             .webhook_token_sha256 = Sha256Hex("x")});
  const int port = *server.Bind("127.0.0.1:0");
  server.Start();
  httplib::Client c("127.0.0.1", port);

  ASSERT_GE(PublicDocumentPaths().size(), 7u);
  for (const std::string& path : PublicDocumentPaths()) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->get_header_value_count("Content-Security-Policy"), 1u) << path;
    const std::string csp = r->get_header_value("Content-Security-Policy");
    EXPECT_THAT(csp, HasSubstr("default-src 'none'")) << path;
    EXPECT_THAT(csp, HasSubstr("frame-ancestors 'none'")) << path;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff") << path;
    http_testing::ExpectCorsOnDataOnly(*r, path);
  }
  // What is not a public document still gets the defaults.
  for (const std::string path : {"/healthz", "/metrics", "/no-such-page"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_THAT(r->get_header_value("Content-Security-Policy"),
                HasSubstr("frame-ancestors 'none'"))
        << path;
  }
}

TEST(PublicDocumentsTest, AServedDocumentKeepsTheConnectionAsTheRequestAsks) {
  CoreHarness h;
  StatusPage page(h.deps);
  HttpServer server(HttpDeps{.intake = h.intake,
                             .status_page = page,
                             .registry = h.registry,
                             .metrics = h.http_metrics,
                             .webhook_token_sha256 = Sha256Hex("x"),
                             .public_changes = &h.events,
                             .clock = &h.clock});
  const int port = *server.Bind("127.0.0.1:0");
  server.Start();
  const std::string body = page.RenderAtom().value();

  // HTTP/1.1: a HEAD and two GETs on one connection, each whole; the last
  // is of another document, so that its end shows where the reading ends.
  RawClient keep(port);
  ASSERT_TRUE(keep.Send(
      absl::StrCat("HEAD /history.atom HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                   Get("/history.atom", port), Get("/healthz", port))));
  ASSERT_TRUE(keep.ReadUntil(body + "HTTP/1.1 200 OK\r\n"));
  ASSERT_TRUE(keep.ReadUntil("ok\n"));
  const std::string length =
      absl::StrCat("Content-Length: ", body.size(), "\r\n");
  const std::string& text = keep.text();
  size_t heads = 0, bodies = 0;
  for (size_t at = 0; (at = text.find(length, at)) != std::string::npos; ++at) {
    ++heads;
  }
  for (size_t at = 0; (at = text.find(body, at)) != std::string::npos; ++at) {
    ++bodies;
  }
  EXPECT_EQ(heads, 2u);
  EXPECT_EQ(bodies, 1u) << "the HEAD has none";
  EXPECT_THAT(text, Not(HasSubstr("Connection: close")));
  EXPECT_THAT(text, HasSubstr("X-Request-Id: "));

  // HTTP/1.0 without keep-alive: the answer says close, and closes.
  RawClient once(port);
  ASSERT_TRUE(once.Send("GET /history.atom HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(once.ReadUntil(body));
  EXPECT_THAT(once.text(), HasSubstr("Connection: close\r\n"));
  EXPECT_FALSE(once.ReadUntil("more")) << "closed after the reply";
  // HTTP/1.0 asking to keep it: the answer says so.
  RawClient kept(port);
  ASSERT_TRUE(kept.Send(
      "GET /history.atom HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  ASSERT_TRUE(kept.ReadUntil(body));
  EXPECT_THAT(kept.text(), HasSubstr("Connection: keep-alive\r\n"));
}

// A second HTTP edge over the console fixture's services and sessions,
// tuned by the test.
class EventStreamLimitsTest : public console_testing::ConsoleTest {
 protected:
  int Serve(const std::function<void(HttpDeps&)>& tune) {
    HttpDeps deps{.intake = g_.core.intake,
                  .status_page = page_,
                  .registry = g_.core.registry,
                  .metrics = g_.core.http_metrics,
                  .webhook_token_sha256 = Sha256Hex("x")};
    deps.console = &console_;
    tune(deps);
    tuned_ = std::make_unique<HttpServer>(deps);
    const int port = *tuned_->Bind("127.0.0.1:0");
    tuned_->Start();
    return port;
  }

  // Opens /console/events as `cookie` and reads the answer's head.
  std::unique_ptr<RawClient> OpenStream(int port, const std::string& cookie) {
    auto client = std::make_unique<RawClient>(port);
    EXPECT_TRUE(client->Send(Get("/console/events", port, cookie)));
    EXPECT_TRUE(client->ReadUntil("\r\n\r\n"));
    return client;
  }

  std::unique_ptr<HttpServer> tuned_;
};

TEST_F(EventStreamLimitsTest,
       AStreamThatNeverReadsStaysBoundedAndIsToldItLagged) {
  const int port =
      Serve([](HttpDeps& d) { d.event_stream_buffer_bytes = 64 * 1024; });
  RawClient stream(port, /*receive_buffer=*/4096);
  ASSERT_TRUE(stream.Send(Get("/console/events", port, SignIn("carol"))));
  ASSERT_TRUE(stream.ReadUntil("\"kind\":\"watching\""));

  // 16 MB of events while the client reads nothing: fewer events than the
  // hub's own queue holds, so whatever is dropped, the stream dropped.
  const std::string big(16 * 1024, 'x');
  for (int i = 0; i < 1000; ++i) {
    g_.core.events.Publish({.at = absl::Now(),
                            .incident_id = 1,
                            .kind = "update",
                            .actor = "alice",
                            .text = big});
  }
  // Reading again, the client gets what was held (the buffer, and what the
  // kernel's socket buffers took), then how much it missed.
  ASSERT_TRUE(stream.ReadUntil("\"kind\":\"lagged\""));
  EXPECT_LT(stream.text().size(), size_t{8} << 20);
  EXPECT_THAT(stream.text(),
              ContainsRegex("\"text\":\"[0-9]+ event\\(s\\) dropped"));
  EXPECT_GE(g_.core.http_metrics.HttpRefused("event_stream_lagged").Value(), 1);

  // The stream goes on: once the client has caught up with what was held,
  // news reaches it again. (Until then, news is dropped and counted too.)
  stream.SetTimeout(1);
  bool caught_up = false;
  for (int i = 0; i < 20 && !caught_up; ++i) {
    g_.core.events.Publish({.at = absl::Now(),
                            .incident_id = 1,
                            .kind = "update",
                            .actor = "alice",
                            .text = "after the flood"});
    caught_up = stream.ReadUntil("after the flood");
  }
  EXPECT_TRUE(caught_up);
}

TEST_F(EventStreamLimitsTest, StreamsBeyondTheSessionsOrThePersonsQuotaGet429) {
  const int port = Serve([](HttpDeps& d) {
    d.max_event_streams_per_session = 2;
    d.max_event_streams_per_person = 3;
  });
  const std::string first = SignIn("carol");
  const std::string second = SignIn("carol");

  std::vector<std::unique_ptr<RawClient>> open;
  for (int i = 0; i < 2; ++i) {
    open.push_back(OpenStream(port, first));
    EXPECT_THAT(open.back()->text(), StartsWith("HTTP/1.1 200")) << i;
  }
  auto third = OpenStream(port, first);
  EXPECT_THAT(third->text(), StartsWith("HTTP/1.1 429"));
  EXPECT_TRUE(third->ReadUntil("close a console tab"));
  EXPECT_THAT(third->text(), HasSubstr("this console session"));

  open.push_back(OpenStream(port, second));  // carol's third
  EXPECT_THAT(open.back()->text(), StartsWith("HTTP/1.1 200"));
  auto fourth = OpenStream(port, second);
  EXPECT_THAT(fourth->text(), StartsWith("HTTP/1.1 429"));
  EXPECT_TRUE(fourth->ReadUntil("across their sessions"));
  EXPECT_EQ(g_.core.http_metrics.HttpRefused("event_stream_limit").Value(), 2);

  // Someone else is not held to carol's quota.
  EXPECT_THAT(OpenStream(port, SignIn("bob"))->text(),
              StartsWith("HTTP/1.1 200"));

  // A stream's place is free again as soon as its client goes.
  open.front()->Close();
  EXPECT_TRUE(Eventually([&] {
    return absl::StartsWith(OpenStream(port, first)->text(), "HTTP/1.1 200");
  }));
}

TEST_F(ConsoleTest, ASessionsSecretCannotSignInAsIfItWereAToken) {
  const std::string cookie = SignIn("carol");
  ASSERT_FALSE(cookie.empty());
  auto r = client_->Post("/console/sign-in", "token=" + cookie,
                         "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

}  // namespace
}  // namespace herald
