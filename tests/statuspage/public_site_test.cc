// The public site as customers and their tools fetch it: a page per
// incident and a real 404 for one that is internal or unknown, the history
// a page at a time, Statuspage's maintenance documents, component groups,
// every Statuspage key present with null where unset, the 90 days of
// component history, and one read of the store per change.
#include "server/statuspage/public_site.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "server/base/locale_text.h"
#include "server/base/proto_time.h"
#include "tests/statuspage/status_page_fixture.h"

namespace herald {
namespace status_page_testing {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::DoubleNear;
using ::testing::Each;
using ::testing::Field;
using ::testing::IsSupersetOf;

class PublicSiteTest : public StatusPageTest {
 protected:
  explicit PublicSiteTest(const v1::Config& config = DefaultConfig())
      : StatusPageTest(config), site_(page_) {}

  PublicDocument Get(const std::string& path, const PageLinks& links = {}) {
    absl::StatusOr<PublicState> state = page_.Read();
    EXPECT_TRUE(state.ok()) << state.status();
    if (!state.ok()) return {};
    absl::StatusOr<PublicDocument> d = site_.Render(*state, path, links);
    EXPECT_TRUE(d.ok()) << path << ": " << d.status();
    return d.ok() ? *std::move(d) : PublicDocument{};
  }

  google::protobuf::Struct Json(const std::string& path) {
    const PublicDocument d = Get(path);
    EXPECT_EQ(d.content_type, "application/json") << path;
    google::protobuf::Struct out;
    const auto s = google::protobuf::util::JsonStringToMessage(d.body, &out);
    EXPECT_TRUE(s.ok()) << path << ": " << s.ToString() << "\n" << d.body;
    return out;
  }

  PublicSite site_;
};

// The keys of a JSON object, and the kind of each value.
std::map<std::string, google::protobuf::Value::KindCase> Keys(
    const google::protobuf::Struct& object) {
  std::map<std::string, google::protobuf::Value::KindCase> out;
  for (const auto& [key, value] : object.fields()) {
    out[key] = value.kind_case();
  }
  return out;
}

const google::protobuf::Struct& At(const google::protobuf::Struct& object,
                                   const std::string& list, int index) {
  return object.fields().at(list).list_value().values(index).struct_value();
}

TEST_F(PublicSiteTest, AnIncidentPageShowsItsApprovedUpdatesAndPostmortem) {
  const int64_t id = Open("g1", "checkout");
  Draft(id, "db failover in eu-west");  // never approved
  Publish(id, "rolled back the deploy");
  h_.clock.Advance(absl::Minutes(95));
  ResolveAndTell(id);
  ASSERT_TRUE(h_.aftercare
                  .AttachPostmortem(CommsLead(), id,
                                    "A bad config push.\n\nWe added a check.")
                  .ok());
  const PublicDocument page = Get("/incidents/" + Ref(id));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_FALSE(page.data);
  EXPECT_THAT(page.body,
              AllOf(HasSubstr("Rolled back the deploy"), HasSubstr("resolved"),
                    HasSubstr("Affected: Checkout"),
                    HasSubstr("after 1 hour and 35 minutes"),
                    HasSubstr("<p>A bad config push.</p>"),
                    HasSubstr("<p>We added a check.</p>")));
  EXPECT_THAT(page.body, Not(HasSubstr("failover")));
  EXPECT_THAT(page.body, Not(HasSubstr("checkout is failing")))
      << "the alert's own words";
}

TEST_F(PublicSiteTest, AnInternalOrUnknownIncidentGetsARealNotFound) {
  const int64_t internal = Open("g1", "checkout");
  Draft(internal, "db failover in eu-west");
  for (const std::string path :
       {"/incidents/" + Ref(internal), std::string("/incidents/INC-999"),
        std::string("/incidents/"), std::string("/incidents/../history"),
        std::string("/history/0"), std::string("/history/2"),
        std::string("/history/02"), std::string("/history/+1"),
        std::string("/history/99999999999999999999")}) {
    const PublicDocument page = Get(path);
    EXPECT_EQ(page.status, 404) << path;
    EXPECT_THAT(page.body, HasSubstr("Not found")) << path;
    EXPECT_THAT(page.body, Not(HasSubstr("failover"))) << path;
    EXPECT_THAT(page.body, Not(HasSubstr(Ref(internal)))) << path;
  }
}

TEST_F(PublicSiteTest, TheHistoryListsEveryPublicIncidentAPageAtATime) {
  std::vector<std::string> refs;  // oldest first
  for (int i = 0; i < StatusPage::kHistoryPageSize + 3; ++i) {
    const int64_t id = Open(absl::StrCat("g", i), "checkout");
    Publish(id, absl::StrCat("update number ", i));
    ResolveAndTell(id);  // so that the next alert opens a new one
    refs.push_back(Ref(id));
    h_.clock.Advance(absl::Minutes(1));
  }
  const PublicDocument first = Get("/history");
  const PublicDocument second = Get("/history/2");
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(Get("/history/1").body, first.body);
  EXPECT_EQ(Get("/history/3").status, 404);
  // Newest first: the 25 newest on page one, the 3 oldest on page two.
  for (int i = 0; i < static_cast<int>(refs.size()); ++i) {
    const std::string link = absl::StrCat("href=\"/incidents/", refs[i], "\"");
    const bool on_second = i < 3;
    EXPECT_EQ(absl::StrContains(first.body, link), !on_second) << refs[i];
    EXPECT_EQ(absl::StrContains(second.body, link), on_second) << refs[i];
  }
  EXPECT_THAT(first.body, HasSubstr("href=\"/history/2\" rel=\"next\""));
  EXPECT_THAT(second.body, HasSubstr("href=\"/history\" rel=\"prev\""));
  // The status page itself shows the newest and links to the rest.
  const PublicDocument home = Get("/");
  EXPECT_THAT(home.body, HasSubstr("href=\"/incidents/" + refs.back()));
  EXPECT_THAT(home.body, Not(HasSubstr("href=\"/incidents/" + refs[0] + "\"")));
  EXPECT_THAT(home.body, HasSubstr("href=\"/history\""));
}

TEST_F(PublicSiteTest, ThePathsAreEveryDocumentTheSiteHas) {
  for (int i = 0; i < StatusPage::kHistoryPageSize + 1; ++i) {
    const int64_t id = Open(absl::StrCat("g", i), "api");
    Publish(id, "looking");
    ResolveAndTell(id);
  }
  const int64_t internal = Open("internal", "checkout");
  Draft(internal, "not yet");
  const PublicState state = *page_.Read();
  const std::vector<std::string> paths = site_.Paths(state);
  EXPECT_THAT(paths, Contains("/history/2"));
  EXPECT_THAT(paths, Contains("/incidents/INC-1"));
  // Each page again in each language, under its prefix.
  EXPECT_THAT(paths, IsSupersetOf({"/de/", "/de/history", "/de/history/2",
                                   "/de/incidents/INC-1", "/en/"}));
  EXPECT_THAT(paths, Not(Contains("/de/history.atom")));
  EXPECT_THAT(paths, Not(Contains("/incidents/" + Ref(internal))));
  for (const std::string& path : PublicSite::FixedPaths()) {
    EXPECT_THAT(paths, Contains(path));
  }
  for (const std::string& path : paths) {
    EXPECT_TRUE(site_.Covers(path)) << path;
    absl::StatusOr<PublicDocument> d = site_.Render(state, path, {});
    ASSERT_TRUE(d.ok()) << path;
    EXPECT_EQ(d->status, 200) << path;
  }
  for (const char* path :
       {"/subscribe", "/metrics", "/de/subscribe", "/de/history.atom",
        "/de/api/v2/summary.json", "/fr/", "/de-", "/dex/"}) {
    EXPECT_FALSE(site_.Covers(path)) << path;
  }
}

TEST_F(PublicSiteTest, EachPageIsInEachLanguageWithItsApprovedTranslation) {
  const int64_t id = Open("g1", "checkout");
  const v1::Message draft = Draft(id, "rolled back the deploy");
  v1::Translation german;
  german.set_title("Fehler im Checkout");
  german.set_body("Wir haben die Änderung zurückgenommen.");
  ASSERT_TRUE(h_.workflow
                  .Edit(Comms(), draft.id(), 0, "Checkout errors",
                        "We rolled the change back.", {}, {{"de", german}})
                  .ok());
  const v1::Message published = Approve(draft);
  const int64_t untranslated = Open("g2", "api");
  Publish(untranslated, "api is slow");

  const PublicDocument english = Get("/");
  EXPECT_EQ(english.language, "en");
  EXPECT_TRUE(english.negotiated);
  EXPECT_THAT(english.body,
              AllOf(HasSubstr("<html lang=\"en\">"), HasSubstr("Components"),
                    HasSubstr("We rolled the change back."),
                    HasSubstr("href=\"/incidents/INC-1\""),
                    HasSubstr("href=\"/de/\" hreflang=\"de\"")));
  EXPECT_THAT(english.body, Not(HasSubstr("zurückgenommen")));

  // The same page for a German reader, and under the German prefix: the
  // German words, the translation, German times, and links that stay in
  // German.
  absl::StatusOr<PublicState> state = page_.Read();
  ASSERT_TRUE(state.ok());
  const PublicDocument negotiated = *site_.Render(*state, "/", {}, "de");
  EXPECT_EQ(negotiated.language, "de");
  EXPECT_TRUE(negotiated.negotiated);
  const PublicDocument prefixed = Get("/de/");
  EXPECT_EQ(prefixed.language, "de");
  EXPECT_FALSE(prefixed.negotiated);
  const std::string published_at =
      FormatDateTime(FromProtoTime(published.published_at()), "de", "UTC");
  for (const PublicDocument* d : {&negotiated, &prefixed}) {
    EXPECT_THAT(d->body,
                AllOf(HasSubstr("<html lang=\"de\">"), HasSubstr("Komponenten"),
                      HasSubstr("Fehler im Checkout"),
                      HasSubstr("Wir haben die Änderung zurückgenommen."),
                      HasSubstr("Api is slow"),  // no translation: as approved
                      HasSubstr("Wird untersucht"), HasSubstr(published_at),
                      HasSubstr("aria-current=\"page\">Deutsch")));
    EXPECT_THAT(d->body, Not(HasSubstr("We rolled the change back.")));
  }
  EXPECT_THAT(negotiated.body, HasSubstr("href=\"/incidents/INC-1\""));
  EXPECT_THAT(prefixed.body, HasSubstr("href=\"/de/incidents/INC-1\""));

  const PublicDocument incident = Get("/de/incidents/INC-1");
  EXPECT_EQ(incident.status, 200);
  EXPECT_THAT(incident.body, AllOf(HasSubstr("<h1>Fehler im Checkout</h1>"),
                                   HasSubstr("Betroffen: Checkout"),
                                   HasSubstr("href=\"/en/incidents/INC-1\""),
                                   HasSubstr("href=\"/de/history\"")));
  const PublicDocument history = Get("/de/history");
  EXPECT_THAT(history.body, AllOf(HasSubstr("Alle Vorfälle"),
                                  HasSubstr("Fehler im Checkout")));
  const PublicDocument missing = Get("/de/incidents/INC-99");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.language, "de");
  EXPECT_THAT(missing.body, HasSubstr("Seite nicht gefunden"));
  EXPECT_THAT(missing.body, Not(HasSubstr("INC-99")));
  // The data stays in the organisation's language, for scripts.
  EXPECT_THAT(Get("/api/v2/incidents.json").body,
              Not(HasSubstr("Fehler im Checkout")));
}

TEST_F(PublicSiteTest, AReaderGetsTheLanguageTheirBrowserPrefersOrTheDefault) {
  EXPECT_EQ(site_.LanguageFor("de-AT,de;q=0.9,en;q=0.5"), "de");
  EXPECT_EQ(site_.LanguageFor("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7"), "en");
  EXPECT_EQ(site_.LanguageFor("fr"), "en");
  EXPECT_EQ(site_.LanguageFor(""), "en");
  EXPECT_EQ(site_.LanguageFor(std::string(10000, ',')), "en");
  EXPECT_TRUE(site_.Negotiates("/"));
  EXPECT_TRUE(site_.Negotiates("/incidents/INC-1"));
  EXPECT_FALSE(site_.Negotiates("/de/"));
  EXPECT_FALSE(site_.Negotiates("/api/v2/summary.json"));
  EXPECT_EQ(site_.Locate("/de").path, "/");
  EXPECT_EQ(site_.Locate("/de/history/2").path, "/history/2");
  EXPECT_EQ(site_.Locate("/de/history/2").language, "de");
  EXPECT_EQ(site_.Locate("/history").language, "");
}

TEST_F(PublicSiteTest, TheSubscribeFormPostsWhereTheLinksSayOrIsLeftOut) {
  EXPECT_THAT(Get("/").body, HasSubstr("action=\"/subscribe\""));
  EXPECT_THAT(
      Get("/", {.subscribe_action = "https://status.acme.example/subscribe"})
          .body,
      HasSubstr("action=\"https://status.acme.example/subscribe\""));
  EXPECT_THAT(Get("/", {.subscribe_action = ""}).body, Not(HasSubstr("<form")));
}

TEST_F(PublicSiteTest, MaintenanceHasStatuspagesThreeDocuments) {
  const ScheduledMaintenance sooner =
      Schedule("checkout", absl::Hours(1), absl::Hours(2), "database upgrade");
  const ScheduledMaintenance later =
      Schedule("api", absl::Hours(5), absl::Hours(6), "gateway upgrade");
  Approve(sooner.draft);
  Approve(later.draft);
  h_.clock.Advance(absl::Hours(1));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());  // the sooner one starts

  const auto ids = [&](const std::string& path) {
    std::vector<std::string> out;
    const google::protobuf::Struct doc = Json(path);
    for (const auto& m :
         doc.fields().at("scheduled_maintenances").list_value().values()) {
      out.push_back(m.struct_value().fields().at("id").string_value());
    }
    return out;
  };
  const std::string a = sooner.incident.ref(), b = later.incident.ref();
  EXPECT_THAT(ids("/api/v2/scheduled-maintenances.json"), ElementsAre(b, a))
      << "all of them, newest first";
  EXPECT_THAT(ids("/api/v2/scheduled-maintenances/upcoming.json"),
              ElementsAre(b));
  EXPECT_THAT(ids("/api/v2/scheduled-maintenances/active.json"),
              ElementsAre(a));
  EXPECT_EQ(Get("/incidents/" + a).status, 200);

  h_.clock.Advance(absl::Minutes(50));
  ASSERT_TRUE(h_.maintenance.Complete(testing::Engineer(), sooner.incident.id())
                  .ok());  // the work is done
  EXPECT_THAT(ids("/api/v2/scheduled-maintenances.json"), ElementsAre(b, a));
  EXPECT_THAT(ids("/api/v2/scheduled-maintenances/active.json"), IsEmpty());
  EXPECT_THAT(ids("/api/v2/summary.json"), ElementsAre(b));
}

TEST_F(PublicSiteTest, EveryStatuspageKeyIsPresentAndUnsetOnesAreNull) {
  const int64_t id = Open("g1", "checkout");
  Publish(id, "rolled back the deploy");
  const google::protobuf::Struct summary = Json("/api/v2/summary.json");
  using K = google::protobuf::Value::KindCase;
  const auto kString = K::kStringValue, kNull = K::kNullValue,
             kNumber = K::kNumberValue, kBool = K::kBoolValue,
             kList = K::kListValue;
  EXPECT_THAT(Keys(summary.fields().at("page").struct_value()),
              (std::map<std::string, K>{{"id", kString},
                                        {"name", kString},
                                        {"url", kString},
                                        {"time_zone", kString},
                                        {"updated_at", kString}}));
  const auto component = Keys(At(summary, "components", 1));  // api
  // Every key Statuspage gives it (more are harmless).
  EXPECT_THAT(component, IsSupersetOf(std::map<std::string, K>{
                             {"id", kString},
                             {"name", kString},
                             {"status", kString},
                             {"created_at", kString},
                             {"updated_at", kString},
                             {"position", kNumber},
                             {"showcase", kBool},
                             {"start_date", kNull},
                             {"group_id", kNull},
                             {"page_id", kString},
                             {"group", kBool},
                             {"only_show_if_degraded", kBool}}));
  const auto incident = Keys(At(summary, "incidents", 0));
  // Every key Statuspage gives it (more are harmless).
  EXPECT_THAT(incident,
              IsSupersetOf(std::map<std::string, K>{{"id", kString},
                                                    {"name", kString},
                                                    {"status", kString},
                                                    {"created_at", kString},
                                                    {"updated_at", kString},
                                                    {"monitoring_at", kNull},
                                                    {"resolved_at", kNull},
                                                    {"impact", kString},
                                                    {"shortlink", kString},
                                                    {"started_at", kString},
                                                    {"page_id", kString},
                                                    {"incident_updates", kList},
                                                    {"components", kList}}));
  const auto update =
      Keys(At(At(summary, "incidents", 0), "incident_updates", 0));
  // Every key Statuspage gives it (more are harmless).
  EXPECT_THAT(update, IsSupersetOf(std::map<std::string, K>{
                          {"id", kString},
                          {"status", kString},
                          {"body", kString},
                          {"incident_id", kString},
                          {"created_at", kString},
                          {"updated_at", kString},
                          {"display_at", kString},
                          {"affected_components", kList},
                          {"deliver_notifications", kBool},
                          {"custom_tweet", kNull},
                          {"tweet_id", kNull}}));
  // The documents that show part of the summary carry only their keys.
  const auto kStruct = K::kStructValue;
  EXPECT_EQ(Keys(Json("/api/v2/status.json")),
            (std::map<std::string, K>{{"page", kStruct}, {"status", kStruct}}));
  EXPECT_EQ(
      Keys(Json("/api/v2/components.json")),
      (std::map<std::string, K>{{"page", kStruct}, {"components", kList}}));
  EXPECT_EQ(
      Keys(Json("/api/v2/incidents.json")),
      (std::map<std::string, K>{{"page", kStruct}, {"incidents", kList}}));
  EXPECT_EQ(Keys(Json("/api/v2/scheduled-maintenances.json")),
            (std::map<std::string, K>{{"page", kStruct},
                                      {"scheduled_maintenances", kList}}));
  // No time anywhere is "": a typed client cannot parse that.
  for (const std::string& path : PublicSite::FixedPaths()) {
    if (!absl::EndsWith(path, ".json")) continue;
    EXPECT_THAT(Get(path).body, Not(HasSubstr("\"\""))) << path;
  }
}

inline v1::Config ConfigWithGroups() {
  v1::Config c = DefaultConfig();
  v1::ComponentGroupConfig* g = c.add_component_groups();
  g->set_id("storefront");
  g->set_name("Storefront");
  g->add_components("checkout");
  g->add_components("dashboard");
  return c;
}

class PublicSiteWithGroupsTest : public PublicSiteTest {
 protected:
  PublicSiteWithGroupsTest() : PublicSiteTest(ConfigWithGroups()) {}
};

TEST_F(PublicSiteWithGroupsTest, GroupsAreStatuspageGroupComponents) {
  Publish(Open("g1", "checkout"), "looking");
  const google::protobuf::Struct components = Json("/api/v2/components.json");
  std::vector<std::string> order;
  std::map<std::string, google::protobuf::Struct> by_id;
  for (const auto& v :
       components.fields().at("components").list_value().values()) {
    const std::string id = v.struct_value().fields().at("id").string_value();
    order.push_back(id);
    by_id[id] = v.struct_value();
  }
  EXPECT_THAT(order, ElementsAre("storefront", "checkout", "api", "dashboard",
                                 "platform"));
  const auto& group = by_id["storefront"].fields();
  EXPECT_TRUE(group.at("group").bool_value());
  EXPECT_EQ(group.at("name").string_value(), "Storefront");
  EXPECT_EQ(group.at("status").string_value(), "major_outage")
      << "as bad as its worst member";
  std::vector<std::string> members;
  for (const auto& m : group.at("components").list_value().values()) {
    members.push_back(m.string_value());
  }
  EXPECT_THAT(members, ElementsAre("checkout", "dashboard"));
  EXPECT_EQ(by_id["checkout"].fields().at("group_id").string_value(),
            "storefront");
  EXPECT_EQ(by_id["api"].fields().at("group_id").kind_case(),
            google::protobuf::Value::kNullValue);
  EXPECT_THAT(Get("/").body, HasSubstr("<h3>Storefront</h3>"));
}

TEST(ComponentGroupConfigTest, AGroupMustNameKnownComponentsOnce) {
  const auto error = [](auto edit) {
    v1::Config c = ConfigWithGroups();
    edit(*c.mutable_component_groups(0));
    absl::StatusOr<std::shared_ptr<const Organisation>> org =
        Organisation::Create(c);
    return org.ok() ? std::string("ok") : std::string(org.status().message());
  };
  EXPECT_EQ(error([](v1::ComponentGroupConfig&) {}), "ok");
  EXPECT_THAT(
      error([](auto& g) { g.add_components("nope"); }),
      HasSubstr("component_groups[0].components[2]: unknown component"));
  EXPECT_THAT(error([](auto& g) { g.add_components("checkout"); }),
              HasSubstr("already in group"));
  EXPECT_THAT(error([](auto& g) { g.set_id("api"); }),
              HasSubstr("component_groups[0].id"));
  EXPECT_THAT(error([](auto& g) { g.clear_name(); }),
              HasSubstr("component_groups[0].name"));
  EXPECT_THAT(error([](auto& g) { g.clear_components(); }),
              HasSubstr("component_groups[0].components"));
}

TEST_F(PublicSiteTest, EachDayShowsTheWorstStatusPublishedAndTheUptime) {
  const int64_t id = Open("g1", "checkout");  // critical: a major outage
  Publish(id, "rolled back the deploy");
  h_.clock.Advance(absl::Hours(2));
  ResolveAndTell(id);
  const PublicState state = *page_.Read();
  const std::vector<ComponentDay>& checkout = state.days.at("checkout");
  ASSERT_EQ(checkout.size(), StatusPage::kHistoryDays);
  const absl::TimeZone utc = absl::UTCTimeZone();
  EXPECT_EQ(checkout.back().day, absl::ToCivilDay(h_.clock.Now(), utc));
  EXPECT_EQ(checkout.back().status, "major_outage");
  EXPECT_THAT(checkout.back().incident_ids, ElementsAre(Ref(id)));
  for (size_t d = 0; d + 1 < checkout.size(); ++d) {
    EXPECT_EQ(checkout[d].status, "operational") << d;
    EXPECT_THAT(checkout[d].incident_ids, IsEmpty()) << d;
  }
  EXPECT_THAT(state.days.at("api"),
              Each(Field(&ComponentDay::status, "operational")));
  // Two hours of a major outage in the window so far (to the hundredth of a
  // percent the page shows).
  const absl::Time window_start = absl::FromCivil(
      absl::ToCivilDay(h_.clock.Now(), utc) - (StatusPage::kHistoryDays - 1),
      utc);
  EXPECT_THAT(state.uptime.at("checkout"),
              DoubleNear(1.0 - 7200.0 / absl::ToDoubleSeconds(h_.clock.Now() -
                                                              window_start),
                         0.5e-4));
  EXPECT_EQ(state.uptime.at("api"), 1.0);
  // The page draws it, with the day's incident a link away.
  const std::string html = Get("/").body;
  EXPECT_THAT(html,
              HasSubstr("<li class=\"day major_outage\" tabindex=\"0\">"));
  EXPECT_THAT(html, HasSubstr("<a href=\"/incidents/" + Ref(id) + "\">"));
  EXPECT_THAT(html, HasSubstr("% uptime"));

  // A day later it is yesterday's bar, and nothing is open any more.
  h_.clock.Advance(absl::Hours(24));
  const PublicState later = *page_.Read();
  const auto& days = later.days.at("checkout");
  EXPECT_EQ(days[days.size() - 2].status, "major_outage");
  EXPECT_EQ(days.back().status, "operational");
}

TEST_F(PublicSiteTest, AnOutageAcrossMidnightMarksBothDaysAndCountsOnce) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilDay today = absl::ToCivilDay(h_.clock.Now(), utc);
  h_.clock.Set(absl::FromCivil(absl::CivilSecond(today) + 23 * 3600, utc));
  const int64_t id = Open("g1", "checkout");
  Publish(id, "rolled back the deploy");
  h_.clock.Advance(absl::Minutes(30));
  Publish(id, "still failing");         // the same status, carried on
  h_.clock.Advance(absl::Minutes(90));  // 01:00 the next day
  ResolveAndTell(id);
  const PublicState state = *page_.Read();
  const auto& days = state.days.at("checkout");
  EXPECT_EQ(days[days.size() - 2].status, "major_outage");
  EXPECT_EQ(days.back().status, "major_outage");
  EXPECT_THAT(days[days.size() - 3].incident_ids, IsEmpty());
  const absl::Time window_start = absl::FromCivil(
      absl::ToCivilDay(h_.clock.Now(), utc) - (StatusPage::kHistoryDays - 1),
      utc);
  EXPECT_THAT(state.uptime.at("checkout"),
              DoubleNear(1.0 - 7200.0 / absl::ToDoubleSeconds(h_.clock.Now() -
                                                              window_start),
                         0.5e-4))
      << "two hours, once";
}

TEST_F(PublicSiteTest, AMaintenanceWindowUnderWayShowsAsMaintenance) {
  const ScheduledMaintenance m =
      Schedule("api", absl::Hours(1), absl::Hours(2), "gateway upgrade");
  Approve(m.draft);
  EXPECT_EQ(page_.Read()->days.at("api").back().status, "operational")
      << "not before it starts";
  h_.clock.Advance(absl::Minutes(90));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  const PublicState state = *page_.Read();
  EXPECT_EQ(state.days.at("api").back().status, "under_maintenance");
  EXPECT_THAT(state.days.at("api").back().incident_ids,
              ElementsAre(m.incident.ref()));
  EXPECT_EQ(state.uptime.at("api"), 1.0) << "maintenance is not downtime";
}

TEST_F(PublicSiteTest, MaintenanceCountsFromItsStartUntilTheWorkIsDone) {
  // Cancelled before it started: it never happened.
  const ScheduledMaintenance cancelled =
      Schedule("checkout", absl::Hours(1), absl::Hours(2), "db upgrade");
  Approve(cancelled.draft);
  ASSERT_TRUE(
      h_.maintenance.Cancel(Engineer(), cancelled.incident.id(), "").ok());
  // Overran its window, into the next day, until marked complete.
  const ScheduledMaintenance overran =
      Schedule("api", absl::Hours(1), absl::Hours(2), "gateway upgrade");
  Approve(overran.draft);
  h_.clock.Advance(absl::Hours(3));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  h_.clock.Advance(absl::Hours(24));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  PublicState state = *page_.Read();
  EXPECT_EQ(state.days.at("api").back().status, "under_maintenance")
      << "the work goes on a day after its window";
  ASSERT_TRUE(h_.maintenance.Complete(Engineer(), overran.incident.id()).ok());
  h_.clock.Advance(absl::Hours(24));
  state = *page_.Read();
  EXPECT_EQ(state.days.at("api").back().status, "operational");
  EXPECT_EQ(state.days.at("api")[StatusPage::kHistoryDays - 2].status,
            "under_maintenance")
      << "the day it was completed";
  for (const ComponentDay& day : state.days.at("checkout")) {
    EXPECT_EQ(day.status, "operational") << absl::FormatCivilTime(day.day);
    EXPECT_THAT(day.incident_ids, IsEmpty());
  }
}

TEST_F(PublicSiteTest, TheStateIsReadOncePerChange) {
  EventHub changes;
  PublicStateCache cache(page_, &changes, absl::Seconds(1));
  const auto first = cache.Get();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(cache.Get()->get(), first->get()) << "nothing changed";
  changes.CountChange();
  const auto second = cache.Get();
  EXPECT_NE(second->get(), first->get()) << "a change was counted";
  h_.clock.Advance(absl::Seconds(1));
  EXPECT_NE(cache.Get()->get(), second->get()) << "the refresh passed";
  PublicStateCache uncached(page_, nullptr, absl::Seconds(1));
  EXPECT_NE(uncached.Get()->get(), uncached.Get()->get());
}

}  // namespace status_page_testing
}  // namespace herald
