// The comms console's sign-in, sessions and CSRF protection, over real
// HTTP: the cookie's attributes, sign-out ending the session on the server,
// expiry on the injected clock, and state-changing requests refused without
// the session's CSRF token or from another origin.
#include <httplib.h>

#include <optional>
#include <regex>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/text.h"
#include "tests/http/console_fixture.h"

namespace herald {
namespace {

using console_testing::ConsoleApiTest;
using console_testing::ConsoleTest;
using console_testing::TokenOf;

using ::testing::HasSubstr;
using ::testing::Not;

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

TEST_F(ConsoleApiTest, ASessionCallsTheGrpcServicesInProtobufJson) {
  const v1::Message draft = Draft();
  const std::string carol = SignIn("carol");
  auto r = Api("herald.v1.MessageService/ListMessages", "{}", carol);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_THAT(r->body, HasSubstr("\"ref\":\"" + draft.ref() + "\""));
  // Counted and logged as an RPC, like the CLI's.
  EXPECT_EQ(g_.core.grpc_metrics.grpc_requests
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
  const std::string carol = SignIn("carol");
  // The draft still holds the engineer's note as written: publishing it
  // unedited is a choice the JSON API makes explicit too.
  auto unchosen = Api("herald.v1.MessageService/ApproveMessage", body, carol);
  EXPECT_THAT(unchosen->body, HasSubstr("\"code\":\"FAILED_PRECONDITION\""));
  EXPECT_THAT(unchosen->body, HasSubstr("publish_as_written"));
  auto lead =
      Api("herald.v1.MessageService/ApproveMessage",
          "{\"message\": \"" + draft.ref() + "\", \"publishAsWritten\": true}",
          carol);
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

// Every console input, sign-in form, page query, action form, event
// stream query and the JSON API, refuses text that is not UTF-8 with a 400
// that names the field, and never echoes the bytes.
TEST_F(ConsoleApiTest, EveryConsoleInputRefusesTextThatIsNotUtf8) {
  const v1::Message draft = Draft();
  const std::string carol = SignIn("carol");
  const std::string csrf = CsrfOf(carol);
  const httplib::Headers cookie = {{"Cookie", "herald_console=" + carol}};
  const std::string form = "application/x-www-form-urlencoded";
  std::vector<std::pair<std::string, httplib::Result>> replies;
  replies.emplace_back("sign-in token",
                       client_->Post("/console/sign-in", "token=%ff", form));
  replies.emplace_back(
      "page query",
      client_->Get("/console/messages/" + draft.ref() + "?done=%ff", cookie));
  replies.emplace_back("event stream query",
                       client_->Get("/console/events?incident=%ff", cookie));
  replies.emplace_back(
      "edit form",
      client_->Post("/console/messages/" + draft.ref() + "/edit", cookie,
                    "csrf=" + csrf + "&version=1&title=ok&body=%C3%28", form));
  replies.emplace_back(
      "reject form",
      client_->Post("/console/messages/" + draft.ref() + "/reject", cookie,
                    "csrf=" + csrf + "&version=1&reason=%1b%5b31m", form));
  for (auto& [what, r] : replies) {
    ASSERT_TRUE(r) << what;
    EXPECT_EQ(r->status, 400) << what << ": " << r->body;
    EXPECT_TRUE(IsValidUtf8(r->body)) << what;
    EXPECT_THAT(r->body, Not(HasSubstr("\x1b"))) << what;
  }
  EXPECT_THAT(replies[3].second->body, HasSubstr("body: "));
  EXPECT_THAT(replies[4].second->body, HasSubstr("reason: "));
  auto api =
      Api("herald.v1.MessageService/EditMessage",
          "{\"message\": \"" + draft.ref() + "\", \"body\": \"\xff\"}", carol);
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 400) << api->body;
  // The draft is as it was.
  EXPECT_EQ(g_.core
                .Read<v1::Message>(
                    [&](StoreReader& r) { return r.GetMessage(draft.id()); })
                .version(),
            draft.version());
}

}  // namespace
}  // namespace herald
