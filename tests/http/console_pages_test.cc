// The comms console's pages over real HTTP and the real in-process gRPC
// services: the inbox (order, audience, age, the cadence badge), the review
// page (each channel's rendering, the engineers' notes, the diff, an
// apology's personal copies), the edit, approve and reject forms (roles,
// CSRF, stale versions), the incident view with its reach per channel,
// and the server-sent events behind the live updates.
#include <httplib.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/http/console_fixture.h"

namespace herald {
namespace {

using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class ConsolePagesTest : public console_testing::ConsoleApiTest {
 protected:
  httplib::Result Get(const std::string& path, const std::string& cookie) {
    return client_->Get(path, {{"Cookie", "herald_console=" + cookie}});
  }

  // POSTs a console form as the holder of `cookie`, with the CSRF token its
  // pages carry unless `csrf` says otherwise.
  httplib::Result PostForm(const std::string& path, const std::string& cookie,
                           httplib::Params fields,
                           std::optional<std::string> csrf = std::nullopt) {
    fields.emplace("csrf", csrf ? *csrf : CsrfOf(cookie));
    return client_->Post(path, {{"Cookie", "herald_console=" + cookie}},
                         fields);
  }

  v1::Message Stored(int64_t id) {
    return g_.core.Read<v1::Message>(
        [&](StoreReader& r) { return r.GetMessage(id); });
  }

  int64_t Incident(const std::string& group, const std::string& service) {
    return g_.core.intake.Ingest(testing::FiringGroup(group, service, {"fp"}))
        ->incident_id;
  }
};

TEST_F(ConsolePagesTest, TheInboxListsWaitingDraftsNewestIncidentFirst) {
  const v1::Message checkout = Draft();  // INC-1, two subscribers
  g_.core.clock.Advance(absl::Minutes(5));
  const int64_t dashboard = Incident("g2", "dashboard");
  const v1::Message later =
      g_.core.workflow.PostUpdate(testing::Engineer(), dashboard, "cache cold")
          ->draft;
  g_.core.clock.Advance(absl::Minutes(7));

  auto r = Get("/console/", SignIn("carol"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const size_t newer = r->body.find(later.ref() + ":");
  const size_t older = r->body.find(checkout.ref() + ":");
  ASSERT_NE(newer, std::string::npos);
  ASSERT_NE(older, std::string::npos);
  EXPECT_LT(newer, older);
  EXPECT_THAT(r->body, HasSubstr("2 subscribers"));  // globex and initech
  EXPECT_THAT(r->body, HasSubstr("12 minutes ago"));
  EXPECT_THAT(r->body, HasSubstr("<td>alice</td>"));
  EXPECT_THAT(r->body, HasSubstr("<td>status update</td>"));
  // The open incidents are listed too, each linking to its view.
  EXPECT_THAT(r->body, HasSubstr("href=\"/console/incidents/INC-1\""));
}

TEST_F(ConsolePagesTest, TheInboxMarksAnIncidentPastItsUpdateCadence) {
  Draft();  // a critical incident: customers are due news within 30 minutes
  const std::string carol = SignIn("carol");
  auto fresh = Get("/console/", carol);
  EXPECT_THAT(fresh->body, HasSubstr("next update due"));
  EXPECT_THAT(fresh->body, Not(HasSubstr("update overdue since")));

  g_.core.clock.Advance(absl::Minutes(31));
  auto late = Get("/console/", carol);
  EXPECT_THAT(late->body, HasSubstr("class=\"badge overdue\""));
  EXPECT_THAT(late->body, HasSubstr("update overdue since"));
}

TEST_F(ConsolePagesTest, ReviewShowsEachChannelTheNotesAndTheDiff) {
  const v1::Message draft = Draft();
  const std::string bob = SignIn("bob");
  auto edit = PostForm("/console/messages/" + draft.ref() + "/edit", bob,
                       {{"version", "1"},
                        {"title", draft.title()},
                        {"body", "We rolled back the checkout release."}});
  ASSERT_EQ(edit->status, 303) << edit->body;

  auto r = Get("/console/messages/" + draft.ref(), SignIn("carol"));
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_THAT(r->body, AllOf(HasSubstr("<h3>Status page</h3>"),
                             HasSubstr("<h3>Email</h3>"),
                             HasSubstr("<h3>Short text (SMS, Slack)</h3>")));
  // The email's HTML part is framed from its own, script-free address.
  EXPECT_THAT(r->body, HasSubstr("sandbox src=\"/console/messages/" +
                                 draft.ref() + "/email/0\""));
  // The engineer's note it came from, marked.
  EXPECT_THAT(r->body, ContainsRegex("alice: rolled back <span class=\"badge\">"
                                     "this message was drafted from it"));
  // The diff from version 1 to 2, word by word.
  EXPECT_THAT(r->body, HasSubstr("Changes from version 1 to 2"));
  EXPECT_THAT(r->body, HasSubstr("We <del>are investigating a problem "
                                 "affecting Checkout. Rolled back.</del><ins>"
                                 "rolled back the checkout release.</ins>"));
  EXPECT_THAT(r->body, HasSubstr("Approve and publish version 2"));
}

TEST_F(ConsolePagesTest, TheEmailFrameIsTheHtmlPartUnderAScriptFreePolicy) {
  const v1::Message draft = Draft();
  auto r =
      Get("/console/messages/" + draft.ref() + "/email/0", SignIn("carol"));
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_THAT(r->body, HasSubstr("<html"));
  const std::string csp = r->get_header_value("Content-Security-Policy");
  EXPECT_THAT(csp, HasSubstr("default-src 'none'"));
  EXPECT_THAT(csp, Not(HasSubstr("script-src")));
  EXPECT_THAT(csp, HasSubstr("frame-ancestors 'self'"));
  EXPECT_EQ(
      Get("/console/messages/" + draft.ref() + "/email/9", SignIn("carol"))
          ->status,
      404);
}

TEST_F(ConsolePagesTest, AnApologyReviewShowsCustomersOwnCopiesAndCredits) {
  const int64_t incident = Incident("g1", "checkout");
  g_.core.clock.Advance(absl::Hours(3));
  auto resolved = g_.core.workflow.Resolve(testing::CommsLead(), incident,
                                           "A bad deploy of the cart");
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  const v1::Message& apology = resolved->drafts.back();
  ASSERT_EQ(apology.kind(), v1::MESSAGE_KIND_APOLOGY);

  auto r = Get("/console/messages/" + apology.ref(), SignIn("carol"));
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_THAT(r->body,
              HasSubstr("As grace@globex.example (1 of 2, in en) gets it."));
  EXPECT_THAT(r->body,
              HasSubstr("As peter@initech.example (2 of 2, in en) gets it."));
  EXPECT_THAT(r->body, HasSubstr("Dear Grace,"));  // addressed by name
  EXPECT_THAT(r->body, HasSubstr("25%"));  // business plan, over 2 hours down
}

TEST_F(ConsolePagesTest, AnEngineersWordsAreMarkedAndPublishingThemIsAChoice) {
  const v1::Message draft = Draft();
  ASSERT_THAT(draft.engineer_words(), Not(IsEmpty()));
  const std::string carol = SignIn("carol");
  auto page = Get("/console/messages/" + draft.ref(), carol);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("<mark>" + draft.engineer_words(0)));
  EXPECT_THAT(page->body, HasSubstr("name=\"as_written\""));

  auto unchosen = PostForm("/console/messages/" + draft.ref() + "/approve",
                           carol, {{"version", "1"}});
  EXPECT_GE(unchosen->status, 400);
  EXPECT_THAT(unchosen->body, HasSubstr("still holds an engineer"));
  EXPECT_EQ(Stored(draft.id()).state(), draft.state());

  auto chosen = PostForm("/console/messages/" + draft.ref() + "/approve", carol,
                         {{"version", "1"}, {"as_written", "yes"}});
  ASSERT_EQ(chosen->status, 303) << chosen->body;
  EXPECT_EQ(Stored(draft.id()).state(), v1::MESSAGE_STATE_PUBLISHED);
}

TEST_F(ConsolePagesTest,
       TheReviewSaysWhichLanguagesLackATranslationAndTakesOne) {
  v1::Subscriber hans;
  hans.set_id("zz-hans");
  hans.set_email("hans@example.de");
  hans.set_locale("de");
  hans.add_component_ids("checkout");
  ASSERT_TRUE(g_.core.subscribers.Add(testing::CommsLead(), hans).ok());
  const v1::Message draft = Draft();
  const std::string carol = SignIn("carol");
  auto page = Get("/console/messages/" + draft.ref(), carol);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("id=\"missing-translations\""));
  EXPECT_THAT(page->body, HasSubstr("name=\"translation_title.de\""));

  auto edited = PostForm(
      "/console/messages/" + draft.ref() + "/edit", carol,
      {{"version", "1"},
       {"title", draft.title()},
       {"body", "We rolled back the release."},
       {"translation_title.de", "Störung im Checkout"},
       {"translation_body.de", "Wir haben die Version zurückgenommen."}});
  ASSERT_EQ(edited->status, 303) << edited->body;
  const v1::Message stored = Stored(draft.id());
  EXPECT_EQ(stored.translations().at("de").body(),
            "Wir haben die Version zurückgenommen.");
  page = Get("/console/messages/" + draft.ref(), carol);
  EXPECT_THAT(page->body, Not(HasSubstr("id=\"missing-translations\"")));
  EXPECT_THAT(page->body, HasSubstr(">Wir haben die Version zurückgenommen."
                                    "</textarea>"));

  // A translation into a language herald cannot write in is refused with
  // the language named, and what was typed is kept.
  auto french = PostForm("/console/messages/" + draft.ref() + "/edit", carol,
                         {{"version", "2"},
                          {"title", draft.title()},
                          {"body", "We rolled back the release."},
                          {"translation_title.fr", "Panne"},
                          {"translation_body.fr", "Nous avons annulé."}});
  EXPECT_EQ(french->status, 400);
  EXPECT_THAT(french->body, HasSubstr("translations[fr]"));
  EXPECT_EQ(Stored(draft.id()).version(), 2);
}

TEST_F(ConsolePagesTest, ApprovingAVersionSinceEditedIsRefusedAndSaysWhy) {
  const v1::Message draft = Draft();
  const std::string carol = SignIn("carol");
  ASSERT_EQ(Api("herald.v1.MessageService/EditMessage",
                "{\"message\": \"" + draft.ref() +
                    "\", \"body\": \"Someone else's words.\"}",
                SignIn("bob"))
                ->status,
            200);
  auto stale = PostForm("/console/messages/" + draft.ref() + "/approve", carol,
                        {{"version", "1"}});
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 409);
  EXPECT_THAT(stale->body,
              HasSubstr(draft.ref() + " changed: you reviewed version 1, it "
                                      "is now version 2; review it again"));
  // The page shows the new version to review, in the edit form too, and
  // nothing went out.
  EXPECT_THAT(stale->body,
              HasSubstr("required>Someone else&#39;s words.</textarea>"));
  EXPECT_EQ(Stored(draft.id()).state(), draft.state());

  auto approved = PostForm("/console/messages/" + draft.ref() + "/approve",
                           carol, {{"version", "2"}});
  ASSERT_EQ(approved->status, 303) << approved->body;
  EXPECT_EQ(approved->get_header_value("Location"),
            "/console/messages/" + draft.ref() + "?done=approved");
  EXPECT_EQ(Stored(draft.id()).state(), v1::MESSAGE_STATE_PUBLISHED);
  EXPECT_EQ(Stored(draft.id()).approver_id(), "carol");
}

TEST_F(ConsolePagesTest, AnAnnouncementIsApprovedWithItsNoticesAsShown) {
  const absl::Time now = g_.core.clock.Now();
  absl::StatusOr<ScheduledMaintenance> m =
      g_.core.maintenance.Schedule(testing::Engineer(), {{"checkout"},
                                                         now + absl::Hours(48),
                                                         now + absl::Hours(50),
                                                         "Database upgrade.",
                                                         ""});
  ASSERT_TRUE(m.ok()) << m.status();
  const std::string ref = m->draft.ref();
  const std::string carol = SignIn("carol");
  // The form carries each notice's version as the page shows it.
  auto page = Get("/console/messages/" + ref, carol);
  ASSERT_EQ(page->status, 200);
  httplib::Params seen = {{"version", "1"}, {"as_written", "yes"}};
  for (const v1::Message& n : m->notices) {
    const std::string field =
        absl::StrCat("name=\"covered.", n.ref(), "\" value=\"1\"");
    EXPECT_THAT(page->body, HasSubstr(field));
    seen.emplace("covered." + n.ref(), "1");
  }
  // A notice reworded meanwhile sends the lead back to read it.
  const v1::Message& started = m->notices[1];
  ASSERT_TRUE(
      g_.core.workflow
          .Edit(testing::Comms(), started.id(), 0, "", "The upgrade has begun.")
          .ok());
  auto stale = PostForm("/console/messages/" + ref + "/approve", carol, seen);
  EXPECT_EQ(stale->status, 409);
  EXPECT_THAT(stale->body, HasSubstr(started.ref() + " changed"));
  EXPECT_EQ(Stored(m->draft.id()).state(), m->draft.state());
  seen.erase("covered." + started.ref());
  seen.emplace("covered." + started.ref(), "2");
  auto approved =
      PostForm("/console/messages/" + ref + "/approve", carol, seen);
  ASSERT_EQ(approved->status, 303) << approved->body;
  EXPECT_EQ(Stored(started.id()).state(), v1::MESSAGE_STATE_APPROVED);
}

TEST_F(ConsolePagesTest, AFailedEditKeepsWhatThePersonTyped) {
  const v1::Message draft = Draft();
  const std::string bob = SignIn("bob");
  ASSERT_EQ(PostForm("/console/messages/" + draft.ref() + "/edit", bob,
                     {{"version", "1"}, {"title", "t"}, {"body", "first"}})
                ->status,
            303);
  auto stale = PostForm("/console/messages/" + draft.ref() + "/edit", bob,
                        {{"version", "1"}, {"title", "t"}, {"body", "mine"}});
  EXPECT_EQ(stale->status, 409);
  EXPECT_THAT(stale->body, HasSubstr(">mine</textarea>"));
}

TEST_F(ConsolePagesTest, RejectingNeedsAReasonAndRecordsIt) {
  const v1::Message draft = Draft();
  const std::string carol = SignIn("carol");
  auto no_reason = PostForm("/console/messages/" + draft.ref() + "/reject",
                            carol, {{"version", "1"}, {"reason", ""}});
  EXPECT_EQ(no_reason->status, 400);
  EXPECT_EQ(Stored(draft.id()).state(), draft.state());

  auto rejected = PostForm("/console/messages/" + draft.ref() + "/reject",
                           carol, {{"version", "1"}, {"reason", "Too vague"}});
  ASSERT_EQ(rejected->status, 303) << rejected->body;
  EXPECT_EQ(Stored(draft.id()).state(), v1::MESSAGE_STATE_REJECTED);
  EXPECT_THAT(Get("/console/messages/" + draft.ref(), carol)->body,
              HasSubstr("Rejected by carol: Too vague"));
}

TEST_F(ConsolePagesTest, AnEngineerReadsButCannotApprove) {
  const v1::Message draft = Draft();
  const std::string alice = SignIn("alice");
  auto page = Get("/console/messages/" + draft.ref(), alice);
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("can read this message but not edit"));
  EXPECT_THAT(page->body, Not(HasSubstr("/approve\"")));

  auto forced = PostForm("/console/messages/" + draft.ref() + "/approve", alice,
                         {{"version", "1"}});
  EXPECT_EQ(forced->status, 403);
  EXPECT_THAT(forced->body, HasSubstr("approve"));
  EXPECT_EQ(Stored(draft.id()).state(), draft.state());
}

TEST_F(ConsolePagesTest, FormsWithoutTheSessionsCsrfTokenChangeNothing) {
  const v1::Message draft = Draft();
  const std::string carol = SignIn("carol");
  const std::string bob_csrf = CsrfOf(SignIn("bob"));
  for (const std::string& csrf : {std::string(), std::string("00"), bob_csrf}) {
    auto r = PostForm("/console/messages/" + draft.ref() + "/approve", carol,
                      {{"version", "1"}}, csrf);
    EXPECT_EQ(r->status, 403) << "csrf=" << csrf;
  }
  auto cross_site =
      client_->Post("/console/messages/" + draft.ref() + "/approve",
                    {{"Cookie", "herald_console=" + carol},
                     {"Origin", "https://evil.example"}},
                    httplib::Params{{"version", "1"}, {"csrf", CsrfOf(carol)}});
  EXPECT_EQ(cross_site->status, 403);
  EXPECT_EQ(Stored(draft.id()).state(), draft.state());
  // Without a session, pages send you to sign in and forms are refused.
  EXPECT_EQ(Get("/console/messages/" + draft.ref(), "gone")->status, 303);
  EXPECT_EQ(PostForm("/console/messages/" + draft.ref() + "/approve", "gone",
                     {{"version", "1"}}, "x")
                ->status,
            401);
}

TEST_F(ConsolePagesTest, TheIncidentViewShowsTheTimelineAndReachPerChannel) {
  const v1::Message draft = Draft();
  const std::string carol = SignIn("carol");
  ASSERT_EQ(PostForm("/console/messages/" + draft.ref() + "/approve", carol,
                     {{"version", "1"}, {"as_written", "yes"}})
                ->status,
            303);
  auto r = Get("/console/incidents/INC-1", carol);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_THAT(r->body, HasSubstr("0 of 2 recipients reached"));
  EXPECT_THAT(r->body,
              HasSubstr("not yet tried: 0 delivered, 2 pending, 0 failed"));
  EXPECT_THAT(r->body, HasSubstr("<td>HighErrorRate</td>"));  // the alert
  EXPECT_THAT(r->body, HasSubstr("rolled back"));             // the update
  EXPECT_EQ(Get("/console/incidents/INC-99", carol)->status, 404);
}

TEST_F(ConsolePagesTest, AnIncidentWith20000AlertsShowsAPageAndLinksTheNext) {
  const int64_t id = testing::IncidentWithManyAlerts(g_.core, 20000);
  const std::string carol = SignIn("carol");
  const std::string path = "/console/incidents/" + IncidentRef(id);
  auto r = Get(path, carol);
  ASSERT_EQ(r->status, 200) << r->body.substr(0, 500);
  EXPECT_LT(r->body.size(), 1024u * 1024);
  EXPECT_THAT(r->body, HasSubstr("100 of 20000"));
  std::smatch next;
  ASSERT_TRUE(std::regex_search(
      r->body, next,
      std::regex("id=\"next-page\" rel=\"next\" href=\"([^\"]+)\"")));
  auto second = Get(next[1].str(), carol);
  ASSERT_EQ(second->status, 200) << second->body.substr(0, 500);
  EXPECT_LT(second->body.size(), 1024u * 1024);
  EXPECT_THAT(second->body, HasSubstr("(a later page)"));
  EXPECT_THAT(second->body, HasSubstr("Checkout pod 100 answers"));
  EXPECT_THAT(r->body, Not(HasSubstr("Checkout pod 100 answers")));
}

TEST_F(ConsolePagesTest, PagesWorkWithoutScriptAndAllowOnlyTheirOwn) {
  Draft();
  auto r = Get("/console/", SignIn("carol"));
  // Everything is in the HTML; the script only refreshes it.
  EXPECT_THAT(r->body, HasSubstr("<script src=\"/console/console.js\" defer>"));
  EXPECT_THAT(r->get_header_value("Content-Security-Policy"),
              AllOf(HasSubstr("script-src 'self'"),
                    HasSubstr("frame-ancestors 'none'")));
  auto script = client_->Get("/console/console.js");
  ASSERT_EQ(script->status, 200);
  EXPECT_THAT(script->get_header_value("Content-Type"),
              HasSubstr("text/javascript"));
  EXPECT_THAT(script->body, HasSubstr("new EventSource"));
}

// Reads a /console/events stream on its own thread until told to stop.
class EventStreamReader {
 public:
  EventStreamReader(int port, std::string cookie, std::string query)
      : client_("127.0.0.1", port), thread_([this, cookie, query] {
          auto r = client_.Get(
              "/console/events" + query,
              {{"Cookie", "herald_console=" + cookie}},
              [this](const httplib::Response& response) {
                std::lock_guard<std::mutex> lock(mu_);
                status_ = response.status;
                content_type_ = response.get_header_value("Content-Type");
                return true;
              },
              [this](const char* data, size_t n) {
                std::lock_guard<std::mutex> lock(mu_);
                text_.append(data, n);
                changed_.notify_all();
                return !stop_;
              });
          std::lock_guard<std::mutex> lock(mu_);
          if (!r && status_ == 0) status_ = -1;
          ended_ = true;
          changed_.notify_all();
        }) {}

  ~EventStreamReader() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    client_.stop();  // closes the socket the reader waits on
    thread_.join();
  }

  // Waits (on data, not on time) until the stream holds `needle` or ends.
  bool WaitFor(const std::string& needle) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] {
      return ended_ || text_.find(needle) != std::string::npos;
    });
    return text_.find(needle) != std::string::npos;
  }

  std::string text() {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }
  std::string content_type() {
    std::lock_guard<std::mutex> lock(mu_);
    return content_type_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::string text_;
  std::string content_type_;
  int status_ = 0;
  bool stop_ = false;
  bool ended_ = false;
  httplib::Client client_;
  std::thread thread_;  // last: starts once the rest exists
};

TEST_F(ConsolePagesTest, TheEventStreamCarriesWhatHeraldWatchSees) {
  const v1::Message draft = Draft();
  EventStreamReader stream(port_, SignIn("carol"), "?incident=INC-1");
  ASSERT_TRUE(stream.WaitFor("\"kind\":\"watching\"")) << stream.text();
  EXPECT_EQ(stream.content_type(), "text/event-stream");

  // Another incident's news is not this stream's.
  const int64_t other = Incident("g2", "dashboard");
  ASSERT_TRUE(
      g_.core.workflow.PostUpdate(testing::Engineer(), other, "elsewhere")
          .ok());
  ASSERT_TRUE(
      g_.core.workflow.PostUpdate(testing::Engineer(), 1, "errors falling")
          .ok());
  ASSERT_TRUE(stream.WaitFor("errors falling")) << stream.text();
  EXPECT_THAT(stream.text(), Not(HasSubstr("elsewhere")));
  EXPECT_THAT(stream.text(),
              ContainsRegex("data: \\{[^\n]*\"kind\":\"update\"[^\n]*\n\n"));
}

TEST_F(ConsolePagesTest, StoppingTheServerEndsItsEventStreams) {
  const std::string carol = SignIn("carol");
  std::optional<EventStreamReader> stream;
  {
    HttpDeps deps{.intake = g_.core.intake,
                  .status_page = page_,
                  .registry = g_.core.registry,
                  .metrics = g_.core.http_metrics,
                  .webhook_token_sha256 = Sha256Hex("x")};
    deps.console = &console_;
    HttpServer second(deps);
    const int port = *second.Bind("127.0.0.1:0");
    second.Start();
    stream.emplace(port, carol, "");
    ASSERT_TRUE(stream->WaitFor("\"kind\":\"watching\""));
    EXPECT_EQ(g_.core.events.subscribers(), 1);
  }  // stops and closes, with the stream still open
  EXPECT_EQ(g_.core.events.subscribers(), 0);
  EXPECT_FALSE(stream->WaitFor("never sent"));  // returns: the stream ended
}

TEST_F(ConsolePagesTest, TheEventStreamNeedsALiveSession) {
  EventStreamReader none(port_, "forged", "");
  EXPECT_FALSE(none.WaitFor("data:"));
  auto bad = client_->Get("/console/events?incident=twelve",
                          {{"Cookie", "herald_console=" + SignIn("carol")}});
  EXPECT_EQ(bad->status, 400);
  auto refused = client_->Get("/console/events");
  EXPECT_EQ(refused->status, 401);
}

}  // namespace
}  // namespace herald
