// What the public status page shows: the Statuspage JSON summary and
// history, the HTML page, the self-service pages and the Atom feed. Only
// words a person approved and published appear; components show the status
// the published messages set; incidents and updates come newest first,
// maintenance by its start; approved text is escaped for HTML and XML.
#include "server/statuspage/status_page.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/proto_time.h"
#include "tests/statuspage/status_page_fixture.h"

namespace herald {
// Named, not anonymous: core_test is a unity build.
namespace status_page_testing {

TEST_F(StatusPageTest, NothingIsPublicBeforeAPersonApprovesIt) {
  const int64_t id = Open("g1", "checkout");
  Draft(id, "db failover in eu-west");
  const sp::Summary summary = Summary();
  EXPECT_THAT(summary.incidents(), IsEmpty());
  EXPECT_THAT(History(10).incidents(), IsEmpty());
  for (const auto& [component, status] : ComponentStatuses(summary)) {
    EXPECT_EQ(status, "operational") << component;
  }
  EXPECT_EQ(summary.status().indicator(), "none");
  EXPECT_EQ(summary.status().description(), "All Systems Operational");
  // Neither the alert's summary nor the engineer's note, anywhere.
  const std::string html = *page_.RenderHtml();
  const std::string atom = *page_.RenderAtom();
  for (const std::string& doc : {summary.DebugString(), html, atom}) {
    EXPECT_THAT(doc, Not(HasSubstr("checkout is failing")));
    EXPECT_THAT(doc, Not(HasSubstr("failover")));
  }
  EXPECT_THAT(atom, Not(HasSubstr("<entry>")));
}

TEST_F(StatusPageTest, AReadIsTheSameAsTheLastUntilCustomersCouldSeeAChange) {
  const PublicState before = *page_.Read();
  EXPECT_TRUE(SameContent(before, *page_.Read()));
  // An alert and the engineer's draft change nothing customers see.
  const int64_t id = Open("g1", "checkout");
  Draft(id, "db failover in eu-west");
  const PublicState drafted = *page_.Read();
  EXPECT_TRUE(SameContent(before, drafted));
  // An approved update does; so does a new day (the 90-day bars move).
  Publish(id, "rolled back the deploy");
  const PublicState published = *page_.Read();
  EXPECT_FALSE(SameContent(drafted, published));
  EXPECT_FALSE(SameContent(published, drafted));
  // A resolved outage: a minute on, its component's uptime has moved by
  // less than the page shows, and the read is the same.
  h_.clock.Advance(absl::Hours(1));
  ResolveAndTell(id);
  h_.clock.Advance(absl::Minutes(1));
  const PublicState resolved = *page_.Read();
  ASSERT_LT(resolved.uptime.at("checkout"), 1.0);
  h_.clock.Advance(absl::Minutes(1));
  EXPECT_TRUE(SameContent(resolved, *page_.Read()));
  h_.clock.Advance(absl::Hours(24));
  EXPECT_FALSE(SameContent(resolved, *page_.Read()));
}

TEST_F(StatusPageTest, AnApprovedUpdateShowsItsWordsAndTheStatusItSet) {
  const int64_t id = Open("g1", "checkout");
  const v1::Message published = Publish(id, "rolled back the deploy");
  const sp::Summary summary = Summary();
  ASSERT_THAT(summary.incidents(), SizeIs(1));
  const sp::Incident& shown = summary.incidents(0);
  EXPECT_EQ(shown.id(), Ref(id));
  EXPECT_EQ(shown.name(), published.title());
  EXPECT_EQ(shown.status(), "investigating");
  EXPECT_EQ(shown.impact(), "critical");
  EXPECT_EQ(shown.shortlink(),
            "https://status.acme.example/incidents/" + Ref(id));
  EXPECT_THAT(UpdateBodies(shown), ElementsAre(published.body()));
  EXPECT_EQ(shown.incident_updates(0).id(), published.ref());
  EXPECT_EQ(shown.incident_updates(0).created_at(), FormatUtc(h_.clock.Now()));
  ASSERT_THAT(shown.components(), SizeIs(1));
  EXPECT_EQ(shown.components(0).id(), "checkout");
  EXPECT_THAT(ComponentStatuses(summary),
              ElementsAre(std::pair{"checkout", "major_outage"},
                          std::pair{"api", "operational"},
                          std::pair{"dashboard", "operational"},
                          std::pair{"platform", "operational"}));
  EXPECT_EQ(summary.components(0).updated_at(), FormatUtc(h_.clock.Now()));
  EXPECT_EQ(summary.status().indicator(), "critical");
  EXPECT_EQ(summary.status().description(), "Major System Outage");
}

TEST_F(StatusPageTest, ALaterDraftStaysHiddenAndUpdatesShowNewestFirst) {
  const int64_t id = Open("g1", "checkout");
  const v1::Message first = Publish(id, "rolled back the deploy");
  h_.clock.Advance(absl::Minutes(10));
  const v1::Message second = Draft(id, "errors are falling");
  EXPECT_THAT(UpdateBodies(Summary().incidents(0)), ElementsAre(first.body()));
  Approve(second);
  const sp::Incident shown = Summary().incidents(0);
  EXPECT_THAT(UpdateBodies(shown), ElementsAre(second.body(), first.body()));
  EXPECT_EQ(shown.updated_at(), FormatUtc(h_.clock.Now()));
}

TEST_F(StatusPageTest, TheOverallStatusIsTheWorstImpactStillOpen) {
  Publish(Open("g1", "dashboard", "warning"), "slow graphs");
  EXPECT_EQ(Summary().status().indicator(), "minor");
  EXPECT_EQ(Summary().status().description(), "Minor Service Outage");
  const int64_t api = Open("g2", "api", "error");
  Publish(api, "some requests fail");
  EXPECT_EQ(Summary().status().indicator(), "major");
  ResolveAndTell(api);
  EXPECT_EQ(Summary().status().indicator(), "minor")
      << "a resolved incident no longer counts";
}

TEST_F(StatusPageTest, AResolvedIncidentLeavesTheSummaryButStaysInHistory) {
  const int64_t id = Open("g1", "checkout");
  const v1::Message update = Publish(id, "rolled back the deploy");
  h_.clock.Advance(absl::Minutes(30));
  ResolveAndTell(id);
  const sp::Summary summary = Summary();
  EXPECT_THAT(summary.incidents(), IsEmpty());
  EXPECT_EQ(summary.components(0).status(), "operational");
  EXPECT_EQ(summary.status().indicator(), "none");
  const sp::Summary history = History(10);
  ASSERT_THAT(history.incidents(), SizeIs(1));
  EXPECT_EQ(history.incidents(0).status(), "resolved");
  EXPECT_EQ(history.incidents(0).name(), update.title())
      << "it keeps its name, not the resolution's title";
  EXPECT_EQ(history.incidents(0).resolved_at(), FormatUtc(h_.clock.Now()));
  EXPECT_THAT(history.incidents(0).incident_updates(), SizeIs(2));
}

TEST_F(StatusPageTest, AnUnannouncedResolutionLeavesTheIncidentOpenInPublic) {
  const int64_t id = Open("g1", "checkout");
  Publish(id, "rolled back the deploy");
  ASSERT_TRUE(h_.workflow.Resolve(Engineer(), id, "fixed").ok());
  const sp::Summary summary = Summary();
  ASSERT_THAT(summary.incidents(), SizeIs(1));
  EXPECT_EQ(summary.incidents(0).status(), "investigating");
  EXPECT_EQ(summary.incidents(0).resolved_at(), "");
  EXPECT_EQ(summary.components(0).status(), "major_outage");
}

TEST_F(StatusPageTest, HistoryIsNewestFirstAndKeepsToItsLimit) {
  const int64_t first = Open("g1", "checkout");
  Publish(first, "one");
  ResolveAndTell(first);
  const int64_t second = Open("g2", "api");
  Publish(second, "two");
  const int64_t third = Open("g3", "dashboard");
  Publish(third, "three");
  EXPECT_THAT(IncidentIds(History(10).incidents()),
              ElementsAre(Ref(third), Ref(second), Ref(first)));
  EXPECT_THAT(IncidentIds(History(2).incidents()),
              ElementsAre(Ref(third), Ref(second)));
  EXPECT_THAT(IncidentIds(Summary().incidents()),
              ElementsAre(Ref(third), Ref(second)));
}

TEST_F(StatusPageTest, ComponentsKeepTheConfigsOrderNamesAndPositions) {
  const sp::Summary summary = Summary();
  ASSERT_THAT(summary.components(), SizeIs(4));
  EXPECT_EQ(summary.page().name(), "Acme Cloud");
  EXPECT_EQ(summary.page().url(), "https://status.acme.example");
  const char* const names[] = {"Checkout", "Public API", "Dashboard",
                               "Platform"};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(summary.components(i).name(), names[i]);
    EXPECT_EQ(summary.components(i).position(), i + 1);
    EXPECT_EQ(summary.components(i).page_id(), summary.page().id());
  }
  EXPECT_EQ(summary.components(0).description(),
            "Cart, payment and order confirmation");
}

TEST_F(StatusPageTest, MaintenanceShowsOnceAnnouncedInOrderOfItsStart) {
  const absl::Time now = h_.clock.Now();
  const ScheduledMaintenance later =
      Schedule("api", absl::Hours(5), absl::Hours(6), "gateway upgrade");
  const ScheduledMaintenance sooner =
      Schedule("checkout", absl::Hours(1), absl::Hours(2), "database upgrade");
  EXPECT_THAT(Summary().scheduled_maintenances(), IsEmpty());
  Approve(later.draft);
  Approve(sooner.draft);
  sp::Summary summary = Summary();
  EXPECT_THAT(IncidentIds(summary.scheduled_maintenances()),
              ElementsAre(sooner.incident.ref(), later.incident.ref()));
  const sp::Incident& first = summary.scheduled_maintenances(0);
  EXPECT_EQ(first.impact(), "maintenance");
  EXPECT_EQ(first.status(), "scheduled");
  EXPECT_EQ(first.scheduled_for(), FormatUtc(now + absl::Hours(1)));
  EXPECT_EQ(first.scheduled_until(), FormatUtc(now + absl::Hours(2)));
  EXPECT_THAT(summary.incidents(), IsEmpty()) << "maintenance is not one";
  EXPECT_EQ(summary.status().indicator(), "none");

  h_.clock.Advance(absl::Hours(1));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  summary = Summary();
  EXPECT_EQ(summary.scheduled_maintenances(0).status(), "in_progress");
  EXPECT_EQ(summary.status().indicator(), "maintenance");
  EXPECT_EQ(summary.components(0).status(), "under_maintenance");

  h_.clock.Advance(absl::Minutes(50));
  ASSERT_TRUE(
      h_.maintenance.Complete(testing::Engineer(), sooner.incident.id()).ok());
  EXPECT_THAT(IncidentIds(Summary().scheduled_maintenances()),
              ElementsAre(later.incident.ref()))
      << "a completed maintenance is gone";
}

TEST_F(StatusPageTest, APostmortemShowsOnTheResolvedIncident) {
  const int64_t id = Open("g1", "checkout");
  Publish(id, "rolled back the deploy");
  ResolveAndTell(id);
  ASSERT_TRUE(h_.aftercare
                  .AttachPostmortem(CommsLead(), id,
                                    "A bad config push.\n\nWe added a check.")
                  .ok());
  const sp::Incident shown = History(10).incidents(0);
  EXPECT_EQ(shown.status(), "postmortem");
  EXPECT_EQ(shown.postmortem_body(), "A bad config push.\n\nWe added a check.");
  EXPECT_EQ(shown.postmortem_published_at(), FormatUtc(h_.clock.Now()));
  // The incident's page shows it a paragraph at a time.
  const PublicState state = *page_.Read();
  const std::string html = *page_.RenderIncidentPage(
      state, *StatusPage::FindIncident(state, Ref(id)));
  EXPECT_THAT(html, HasSubstr("<p>A bad config push.</p>"));
  EXPECT_THAT(html, HasSubstr("<p>We added a check.</p>"));
}

TEST_F(StatusPageTest, ApprovedTextIsEscapedForHtmlAndXml) {
  const int64_t id = Open("g1", "checkout");
  const v1::Message draft = Draft(id, "x");
  ASSERT_TRUE(h_.workflow
                  .Edit(Comms(), draft.id(), 1, "Checkout <b>slow</b> & odd",
                        "<script>alert(1)</script>")
                  .ok());
  Approve(draft);
  const std::string html = *page_.RenderHtml();
  const std::string atom = *page_.RenderAtom();
  for (const std::string& doc : {html, atom}) {
    EXPECT_THAT(doc, Not(HasSubstr("<script>")));
    EXPECT_THAT(doc, Not(HasSubstr("<b>slow")));
    EXPECT_THAT(doc, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
    EXPECT_THAT(doc, HasSubstr("Checkout &lt;b&gt;slow&lt;/b&gt; &amp; odd"));
  }
  // The JSON carries the words as they are; its encoder escapes them.
  EXPECT_EQ(Summary().incidents(0).name(), "Checkout <b>slow</b> & odd");
}

TEST_F(StatusPageTest, ControlCharactersNeverReachThePage) {
  const int64_t id = Open("g1", "checkout");
  const v1::Message draft = Draft(id, "x");
  ASSERT_TRUE(h_.workflow
                  .Edit(Comms(), draft.id(), 1, "Checkout\x01 down",
                        "Errors\x1b[31m rising")
                  .ok());
  Approve(draft);
  const sp::Incident shown = Summary().incidents(0);
  EXPECT_THAT(shown.name(), Not(HasSubstr("\x01")));
  EXPECT_THAT(shown.incident_updates(0).body(), Not(HasSubstr("\x1b")));
  EXPECT_THAT(*page_.RenderAtom(), Not(HasSubstr("\x1b")));
}

TEST_F(StatusPageTest, TheFeedListsEveryUpdateNewestFirstWithStableIds) {
  const int64_t checkout = Open("g1", "checkout");
  const v1::Message a = Publish(checkout, "one");
  h_.clock.Advance(absl::Minutes(1));
  const int64_t api = Open("g2", "api");
  const v1::Message b = Publish(api, "two");
  h_.clock.Advance(absl::Minutes(1));
  const v1::Message c = Publish(checkout, "three");
  ASSERT_TRUE(recorded_page_.RenderAtom().ok());
  const TemplateContext feed = renderer_.LastContext("history.atom.xml");
  const std::string url = "https://status.acme.example";
  std::vector<std::string> ids, links;
  for (const TemplateContext& e : feed.lists.at("entries")) {
    ids.push_back(e.values.at("id"));
    links.push_back(e.values.at("link"));
  }
  EXPECT_THAT(ids, ElementsAre(url + "/#" + c.ref(), url + "/#" + b.ref(),
                               url + "/#" + a.ref()));
  // Each entry links to its incident's page.
  EXPECT_THAT(links, ElementsAre(url + "/incidents/" + Ref(checkout),
                                 url + "/incidents/" + Ref(api),
                                 url + "/incidents/" + Ref(checkout)));
  EXPECT_EQ(feed.values.at("updated"), FormatUtc(h_.clock.Now()));
  EXPECT_EQ(feed.values.at("feed_id"), url + "/history.atom");

  // A later update adds an entry and changes none of the others' ids.
  h_.clock.Advance(absl::Minutes(1));
  Publish(api, "four");
  ASSERT_TRUE(recorded_page_.RenderAtom().ok());
  const TemplateContext newer = renderer_.LastContext("history.atom.xml");
  std::vector<std::string> later;
  for (const TemplateContext& e : newer.lists.at("entries")) {
    later.push_back(e.values.at("id"));
  }
  ASSERT_THAT(later, SizeIs(4));
  EXPECT_EQ(std::vector<std::string>(later.begin() + 1, later.end()), ids);
}

TEST_F(StatusPageTest, ThePageIsUpdatedAsOfTheLastChangeNotTheRequest) {
  // Before anything was ever published: the Unix epoch, on every request.
  ASSERT_TRUE(recorded_page_.RenderAtom().ok());
  const TemplateContext feed = renderer_.LastContext("history.atom.xml");
  EXPECT_THAT(feed.lists.at("entries"), IsEmpty());
  EXPECT_EQ(feed.values.at("updated"), FormatUtc(absl::UnixEpoch()));
  EXPECT_EQ(page_.Summary()->page().updated_at(), FormatUtc(absl::UnixEpoch()));

  h_.clock.Advance(absl::Hours(1));
  const absl::Time published = h_.clock.Now();
  Publish(Open("g1", "checkout"), "looking");
  h_.clock.Advance(absl::Hours(2));  // later requests see the same time
  EXPECT_EQ(page_.Summary()->page().updated_at(), FormatUtc(published));
  EXPECT_EQ(page_.History(10)->page().updated_at(), FormatUtc(published));
}

TEST_F(StatusPageTest, ThePageSaysAllOperationalOnlyWhileNothingIsWrong) {
  ASSERT_TRUE(recorded_page_.RenderHtml().ok());
  EXPECT_TRUE(
      renderer_.LastContext("status_page.html").flags.at("all_operational"));
  Publish(Open("g1", "checkout"), "looking");
  ASSERT_TRUE(recorded_page_.RenderHtml().ok());
  const TemplateContext page = renderer_.LastContext("status_page.html");
  EXPECT_FALSE(page.flags.at("all_operational"));
  // The templates word the statuses from their flags, in each language.
  EXPECT_TRUE(page.flags.at("overall_critical"));
  EXPECT_FALSE(page.flags.at("overall_none"));
  const TemplateContext& checkout =
      page.lists.at("component_groups")[0].lists.at("components")[0];
  EXPECT_TRUE(checkout.flags.at("is_major_outage"));
  EXPECT_FALSE(checkout.flags.at("is_operational"));
}

TEST_F(StatusPageTest, ARendererErrorIsReturnedAsIs) {
  renderer_.Answer("status_page.html", absl::NotFoundError("no template"));
  renderer_.Answer("history.atom.xml", absl::InternalError("broken"));
  EXPECT_EQ(recorded_page_.RenderHtml().status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(recorded_page_.RenderAtom().status().code(),
            absl::StatusCode::kInternal);
}

TEST_F(StatusPageTest, ASelfServicePageKeepsTheFormAndTicksChosenComponents) {
  SelfServicePage form;
  form.kind = "subscribe";
  form.email = "grace@globex.example";
  form.error = "enter a valid email address";
  form.component_ids = {"api", "platform"};
  ASSERT_TRUE(recorded_page_.RenderSelfService(form).ok());
  const TemplateContext page = renderer_.LastContext("self_service.html");
  EXPECT_EQ(page.values.at("page_name"), "Acme Cloud");
  EXPECT_EQ(page.values.at("form_email"), "grace@globex.example");
  EXPECT_EQ(page.values.at("error"), "enter a valid email address");
  EXPECT_TRUE(page.flags.at("subscribe"));
  std::vector<std::string> ticked;
  for (const TemplateContext& c : page.lists.at("subscribe_components")) {
    if (c.flags.at("checked")) ticked.push_back(c.values.at("id"));
  }
  EXPECT_THAT(ticked, ElementsAre("api", "platform"));
}

TEST_F(StatusPageTest, SelfServiceTextIsEscapedOnTheRealPage) {
  SelfServicePage form;
  form.kind = "subscribe";
  form.email = "\"><script>x</script>";
  absl::StatusOr<std::string> html = page_.RenderSelfService(form);
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_THAT(*html, Not(HasSubstr("<script>x")));
  EXPECT_THAT(*html, HasSubstr("&lt;script&gt;"));
}

inline v1::Config ConfigWithoutSelfService() {
  v1::Config c = DefaultConfig();
  c.mutable_self_service()->set_disabled(true);
  return c;
}

class StatusPageWithoutSelfServiceTest : public StatusPageTest {
 protected:
  StatusPageWithoutSelfServiceTest()
      : StatusPageTest(ConfigWithoutSelfService()) {}
};

TEST_F(StatusPageTest, ThePageOffersTheSubscribeFormByDefault) {
  ASSERT_TRUE(recorded_page_.RenderHtml().ok());
  EXPECT_TRUE(
      renderer_.LastContext("status_page.html").flags.at("self_service"));
  EXPECT_THAT(*page_.RenderHtml(), HasSubstr("action=\"/subscribe\""));
}

TEST_F(StatusPageWithoutSelfServiceTest, ThePageHasNoSubscribeForm) {
  ASSERT_TRUE(recorded_page_.RenderHtml().ok());
  EXPECT_FALSE(
      renderer_.LastContext("status_page.html").flags.at("self_service"));
  EXPECT_THAT(*page_.RenderHtml(), Not(HasSubstr("action=\"/subscribe\"")));
}

}  // namespace status_page_testing
}  // namespace herald
