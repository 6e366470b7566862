// The comms console's sign-in, sessions and CSRF protection, over real
// HTTP: the cookie's attributes, sign-out ending the session on the server,
// expiry on the injected clock, and state-changing requests refused without
// the session's CSRF token or from another origin.
#include <httplib.h>

#include <optional>
#include <regex>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/secret_token.h"
#include "server/http/http_server.h"
#include "tests/testing/grpc_harness.h"

namespace herald {
namespace {

using testing::GrpcHarness;
using ::testing::HasSubstr;
using ::testing::Not;

std::string TokenOf(const std::string& person) {
  return testing::TokenFor(person);
}

// heraldd's HTTP edge with the console, over the in-process gRPC services.
class ConsoleTest : public ::testing::Test {
 protected:
  ConsoleTest()
      : api_(g_.server->InProcessChannel(grpc::ChannelArguments())),
        console_{g_.authorizer, g_.sessions, *g_.core.renderer,
                 "Acme Cloud",  false,       &api_},
        page_(g_.core.deps),
        server_([&] {
          HttpDeps d{g_.core.intake, page_, g_.core.registry, g_.core.metrics,
                     Sha256Hex("x")};
          d.console = &console_;
          return d;
        }()) {
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

TEST_F(ConsoleTest, SigningInWithATokenGivesAStrictHttpOnlyExpiringCookie) {
  const std::string cookie = SignIn("carol");
  ASSERT_FALSE(cookie.empty());
  EXPECT_THAT(set_cookie_, HasSubstr("; Path=/console"));
  EXPECT_THAT(set_cookie_, HasSubstr("; HttpOnly"));
  EXPECT_THAT(set_cookie_, HasSubstr("; SameSite=Strict"));
  EXPECT_THAT(set_cookie_, HasSubstr("; Max-Age=28800"));
  EXPECT_THAT(set_cookie_, Not(HasSubstr("Secure")));  // no TLS here
  auto home = Home(cookie);
  ASSERT_EQ(home->status, 200);
  EXPECT_THAT(home->body, HasSubstr("Signed in as <strong>carol</strong>"));
  EXPECT_THAT(home->body, HasSubstr("comms_lead"));
  EXPECT_EQ(home->get_header_value("Cache-Control"), "no-store");
}

TEST_F(ConsoleTest, UnderTlsTheCookieIsSecure) {
  console_.tls = true;
  ASSERT_FALSE(SignIn("carol").empty());
  EXPECT_THAT(set_cookie_, HasSubstr("; Secure"));
}

TEST_F(ConsoleTest, AWrongTokenIsRefusedWithTheFormAgainAndNoCookie) {
  auto r = client_->Post("/console/sign-in", "token=guess",
                         "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_THAT(r->body, HasSubstr("That token is not valid"));
  EXPECT_THAT(r->body, HasSubstr("<label for=\"token\">"));
  EXPECT_FALSE(r->has_header("Set-Cookie"));
}

TEST_F(ConsoleTest, WithoutASessionTheConsoleSendsYouToSignIn) {
  for (const std::string cookie : {std::string(), std::string("forged")}) {
    auto r = Home(cookie);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 303);
    EXPECT_EQ(r->get_header_value("Location"), "/console/sign-in");
  }
}

TEST_F(ConsoleTest, AnExpiredSessionIsOver) {
  const std::string cookie = SignIn("carol");
  g_.core.clock.Advance(absl::Hours(8) - absl::Seconds(1));
  EXPECT_EQ(Home(cookie)->status, 200);
  g_.core.clock.Advance(absl::Seconds(1));
  EXPECT_EQ(Home(cookie)->status, 303);
  auto out = SignOut(cookie, "anything");
  EXPECT_EQ(out->status, 401);
}

TEST_F(ConsoleTest, SigningOutEndsTheSessionOnTheServer) {
  const std::string cookie = SignIn("carol");
  auto out = SignOut(cookie, CsrfOf(cookie));
  ASSERT_EQ(out->status, 303);
  EXPECT_THAT(out->get_header_value("Set-Cookie"), HasSubstr("Max-Age=0"));
  // The old cookie, replayed, opens nothing.
  EXPECT_EQ(Home(cookie)->status, 303);
  EXPECT_FALSE(g_.sessions.Find(cookie).has_value());
}

TEST_F(ConsoleTest, AStateChangeWithoutTheCsrfTokenIsRefused) {
  const std::string cookie = SignIn("carol");
  for (const std::string csrf :
       {std::string(), std::string("0000"), CsrfOf(SignIn("bob"))}) {
    auto r = SignOut(cookie, csrf);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << "csrf \"" << csrf << "\"";
    EXPECT_THAT(r->body, HasSubstr("did not come from the console"));
  }
  EXPECT_EQ(Home(cookie)->status, 200) << "the session must survive";
  // The header works as well as the form field.
  auto by_header = client_->Post("/console/sign-out",
                                 {{"Cookie", "herald_console=" + cookie},
                                  {"X-CSRF-Token", CsrfOf(cookie)}},
                                 "", "application/x-www-form-urlencoded");
  EXPECT_EQ(by_header->status, 303);
}

TEST_F(ConsoleTest, APostFromAnotherOriginIsRefusedEvenWithTheToken) {
  const std::string cookie = SignIn("carol");
  const std::string csrf = CsrfOf(cookie);
  auto r = SignOut(cookie, csrf, {{"Origin", "https://evil.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_THAT(r->body, HasSubstr("came from another site"));
  auto sign_in = client_->Post(
      "/console/sign-in", {{"Origin", "https://evil.example"}},
      "token=" + TokenOf("carol"), "application/x-www-form-urlencoded");
  EXPECT_EQ(sign_in->status, 403) << "no sign-in forced from another site";
  auto same = SignOut(
      cookie, csrf, {{"Origin", "http://127.0.0.1:" + std::to_string(port_)}});
  EXPECT_EQ(same->status, 303);
}

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

TEST_F(ConsoleApiTest, ASessionCallsTheGrpcServicesInProtobufJson) {
  const v1::Message draft = Draft();
  const std::string carol = SignIn("carol");
  auto r = Api("herald.v1.MessageService/ListMessages", "{}", carol);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_THAT(r->body, HasSubstr("\"ref\":\"" + draft.ref() + "\""));
  // Counted and logged as an RPC, like the CLI's.
  EXPECT_EQ(g_.core.metrics.grpc_requests
                .Add({{"method", "/herald.v1.MessageService/ListMessages"},
                      {"code", "OK"}})
                .Value(),
            1);
}

TEST_F(ConsoleApiTest, RolesAreTheGrpcApisAnEngineerCannotApprove) {
  const v1::Message draft = Draft();
  const std::string body = "{\"message\": \"" + draft.ref() + "\"}";
  auto engineer =
      Api("herald.v1.MessageService/ApproveMessage", body, SignIn("alice"));
  ASSERT_TRUE(engineer);
  EXPECT_EQ(engineer->status, 403);
  EXPECT_THAT(engineer->body, HasSubstr("\"code\":\"PERMISSION_DENIED\""));
  auto lead =
      Api("herald.v1.MessageService/ApproveMessage", body, SignIn("carol"));
  EXPECT_EQ(lead->status, 200) << lead->body;
}

TEST_F(ConsoleApiTest, ApprovingAVersionSinceEditedIsAConflictThatSaysWhy) {
  const v1::Message draft = Draft();
  const std::string bob = SignIn("bob");
  auto edit = Api("herald.v1.MessageService/EditMessage",
                  "{\"message\": \"" + draft.ref() +
                      "\", \"body\": \"We rolled back the release.\"}",
                  bob);
  ASSERT_EQ(edit->status, 200) << edit->body;
  auto stale = Api("herald.v1.MessageService/ApproveMessage",
                   "{\"message\": \"" + draft.ref() + "\", \"version\": 1}",
                   SignIn("carol"));
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 409) << stale->body;
  EXPECT_THAT(stale->body, HasSubstr("version"));
}

TEST_F(ConsoleApiTest, TheApiNeedsASessionItsCsrfHeaderAndPost) {
  const std::string carol = SignIn("carol");
  const std::string list = "herald.v1.MessageService/ListMessages";
  auto no_session = Api(list, "{}", "forged", std::string("x"));
  EXPECT_EQ(no_session->status, 401);
  auto no_csrf = Api(list, "{}", carol, std::string());
  EXPECT_EQ(no_csrf->status, 403);
  EXPECT_THAT(no_csrf->body, HasSubstr("X-CSRF-Token"));
  auto wrong_csrf = Api(list, "{}", carol, std::string("0123"));
  EXPECT_EQ(wrong_csrf->status, 403);
  auto get = client_->Get("/console/api/" + list,
                          {{"Cookie", "herald_console=" + carol}});
  EXPECT_EQ(get->status, 405);
}

TEST_F(ConsoleApiTest, UnknownOrStreamingMethodsAndBadJsonAreNamed) {
  const std::string carol = SignIn("carol");
  auto unknown = Api("herald.v1.MessageService/Explode", "{}", carol);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_THAT(unknown->body, HasSubstr("no such API method"));
  EXPECT_EQ(Api("herald.v1.IncidentService/Watch", "{}", carol)->status, 404);
  EXPECT_EQ(Api("grpc.health.v1.Health/Check", "{}", carol)->status, 404);
  auto bad =
      Api("herald.v1.MessageService/ApproveMessage", "{\"nope\": 1}", carol);
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(bad->body, HasSubstr("herald.v1.ApproveMessageRequest"));
}

}  // namespace
}  // namespace herald
