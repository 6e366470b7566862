// MessageDrafter, mostly through a FakeRenderer: which templates each draft
// and email renders, what their contexts hold (notes as sentences, times in
// UTC, a customer's own components, what only their copy says), the
// component statuses a draft proposes, and errors passed on. A few tests
// render the real templates to show the parts fit.
#include "server/core/comms/message_drafter.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "herald/enum_labels.h"
#include "server/base/proto_time.h"
#include "server/config/config_loader.h"
#include "tests/testing/fake_renderer.h"
#include "tests/testing/harness.h"

namespace herald {
// Named, not anonymous: core_test is a unity build.
namespace message_drafter_testing {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::FakeRenderer;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

inline std::shared_ptr<const Organisation> DemoOrganisation() {
  absl::StatusOr<std::shared_ptr<const Organisation>> org =
      Organisation::Create(DefaultConfig());
  EXPECT_TRUE(org.ok()) << org.status();
  return org.ok() ? *std::move(org) : nullptr;
}

// A critical outage of checkout and the public API, opened at TestEpoch().
inline v1::Incident CheckoutOutage() {
  v1::Incident i;
  i.set_id(7);
  i.set_ref("INC-7");
  i.set_title("checkout answers 5xx");
  i.set_impact(v1::IMPACT_CRITICAL);
  i.set_status(v1::INCIDENT_STATUS_IDENTIFIED);
  i.set_point_person_id("alice");
  i.add_component_ids("checkout");
  i.add_component_ids("api");
  *i.mutable_opened_at() = ToProtoTime(testing::TestEpoch());
  return i;
}

inline v1::Update Note(const std::string& text) {
  v1::Update u;
  u.set_text(text);
  return u;
}

class MessageDrafterTest : public ::testing::Test {
 protected:
  const TemplateContext& Context(const std::string& name) {
    context_ = renderer_.LastContext(name);
    return context_;
  }

  FakeRenderer renderer_;
  MessageDrafter drafter_{renderer_, DemoOrganisation()};
  TemplateContext context_;
};

TEST_F(MessageDrafterTest, AStatusUpdateRendersTheTitleAndBodyOfItsStatus) {
  absl::StatusOr<v1::Message> m = drafter_.DraftStatusUpdate(
      CheckoutOutage(), v1::INCIDENT_STATUS_IDENTIFIED, Note("bad deploy"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(renderer_.Names(),
              ElementsAre("identified.title", "identified.body"));
  EXPECT_EQ(m->title(), "[identified.title]");
  EXPECT_EQ(m->body(), "[identified.body]");
  EXPECT_EQ(m->incident_id(), 7);
  EXPECT_EQ(m->kind(), v1::MESSAGE_KIND_STATUS_UPDATE);
  EXPECT_EQ(m->state(), v1::MESSAGE_STATE_DRAFT);
  EXPECT_EQ(m->audience(), v1::AUDIENCE_COMPONENT_SUBSCRIBERS);
  EXPECT_EQ(m->incident_status(), v1::INCIDENT_STATUS_IDENTIFIED);
  EXPECT_EQ(m->version(), 1);
}

TEST_F(MessageDrafterTest, TheContextNamesTheIncidentAsCustomersKnowIt) {
  ASSERT_TRUE(drafter_
                  .DraftStatusUpdate(CheckoutOutage(),
                                     v1::INCIDENT_STATUS_IDENTIFIED, Note("x"))
                  .ok());
  const TemplateContext& ctx = Context("identified.body");
  EXPECT_EQ(ctx.values.at("incident_ref"), "INC-7");
  EXPECT_EQ(ctx.values.at("components_text"), "Checkout and Public API");
  EXPECT_EQ(ctx.values.at("point_person_name"), "Alice Okafor");
  EXPECT_EQ(ctx.values.at("impact_text"), "critical");
  EXPECT_EQ(ctx.values.at("status_text"), "identified");
  EXPECT_EQ(ctx.values.at("page_name"), "Acme Cloud");
  EXPECT_EQ(ctx.values.at("started_at"),
            "November 23, 2026 at 10:00\u202fAM UTC");
  EXPECT_TRUE(ctx.flags.at("identified"));
}

TEST_F(MessageDrafterTest, EngineersNotesBecomeSentences) {
  v1::Update update = Note("  rolled back, errors falling ");
  update.set_next_step("watch the error rate");
  *update.mutable_eta() = ToProtoTime(testing::TestEpoch() + absl::Minutes(45));
  ASSERT_TRUE(drafter_
                  .DraftStatusUpdate(CheckoutOutage(),
                                     v1::INCIDENT_STATUS_MONITORING, update)
                  .ok());
  const TemplateContext& ctx = Context("monitoring.body");
  EXPECT_EQ(ctx.values.at("note"), "Rolled back, errors falling.");
  EXPECT_EQ(ctx.values.at("next_step"), "Watch the error rate.");
  EXPECT_EQ(ctx.values.at("eta"), "10:45\u202fAM UTC");

  ASSERT_TRUE(drafter_
                  .DraftStatusUpdate(CheckoutOutage(),
                                     v1::INCIDENT_STATUS_MONITORING,
                                     Note("Fixed!"))
                  .ok());
  const TemplateContext& again = Context("monitoring.body");
  EXPECT_EQ(again.values.at("note"), "Fixed!") << "punctuation is kept";
  EXPECT_EQ(again.values.at("next_step"), "") << "empty stays empty";
  EXPECT_FALSE(again.values.contains("eta"));
}

TEST_F(MessageDrafterTest, AStatusUpdateCannotSayResolvedOrScheduled) {
  for (v1::IncidentStatus status :
       {v1::INCIDENT_STATUS_RESOLVED, v1::INCIDENT_STATUS_SCHEDULED,
        v1::INCIDENT_STATUS_UNSPECIFIED}) {
    absl::Status s =
        drafter_.DraftStatusUpdate(CheckoutOutage(), status, Note("x"))
            .status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << status;
  }
  EXPECT_THAT(renderer_.Names(), IsEmpty());
}

TEST_F(MessageDrafterTest, DraftsProposeTheComponentStatusOfTheImpact) {
  v1::Incident incident = CheckoutOutage();
  const auto proposed = [&](v1::Impact impact) {
    incident.set_impact(impact);
    absl::StatusOr<v1::Message> m = drafter_.DraftStatusUpdate(
        incident, v1::INCIDENT_STATUS_INVESTIGATING, Note("x"));
    EXPECT_TRUE(m.ok()) << m.status();
    return std::map<std::string, int>(m->component_statuses().begin(),
                                      m->component_statuses().end());
  };
  EXPECT_THAT(
      proposed(v1::IMPACT_CRITICAL),
      UnorderedElementsAre(Pair("checkout", v1::COMPONENT_STATUS_MAJOR_OUTAGE),
                           Pair("api", v1::COMPONENT_STATUS_MAJOR_OUTAGE)));
  EXPECT_THAT(proposed(v1::IMPACT_MAJOR),
              Contains(Pair("checkout", v1::COMPONENT_STATUS_PARTIAL_OUTAGE)));
  EXPECT_THAT(
      proposed(v1::IMPACT_MINOR),
      Contains(Pair("checkout", v1::COMPONENT_STATUS_DEGRADED_PERFORMANCE)));
}

TEST_F(MessageDrafterTest, AResolutionSaysHowLongItLastedAndRestoresAll) {
  v1::Incident incident = CheckoutOutage();
  *incident.mutable_resolved_at() =
      ToProtoTime(testing::TestEpoch() + absl::Minutes(95));
  absl::StatusOr<v1::Message> m = drafter_.DraftResolution(incident, "fixed");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->kind(), v1::MESSAGE_KIND_RESOLUTION);
  EXPECT_EQ(m->incident_status(), v1::INCIDENT_STATUS_RESOLVED);
  for (const auto& [component, status] : m->component_statuses()) {
    EXPECT_EQ(status, v1::COMPONENT_STATUS_OPERATIONAL) << component;
  }
  EXPECT_EQ(m->component_statuses().size(), 2u);
  const TemplateContext& ctx = Context("resolved.body");
  EXPECT_EQ(ctx.values.at("ended_at"),
            "November 23, 2026 at 11:35\u202fAM UTC");
  EXPECT_EQ(ctx.values.at("duration_text"), "1 hour and 35 minutes");
  EXPECT_EQ(ctx.values.at("note"), "Fixed.");
}

TEST_F(MessageDrafterTest, MaintenanceApologiesAndFollowUpsChangeNoComponent) {
  v1::Incident incident = CheckoutOutage();
  incident.mutable_maintenance()->mutable_starts_at()->set_seconds(
      absl::ToUnixSeconds(testing::TestEpoch() + absl::Hours(2)));
  incident.mutable_maintenance()->mutable_ends_at()->set_seconds(
      absl::ToUnixSeconds(testing::TestEpoch() + absl::Hours(4)));
  absl::StatusOr<v1::Message> maintenance =
      drafter_.DraftMaintenance(incident, "db upgrade");
  ASSERT_TRUE(maintenance.ok()) << maintenance.status();
  EXPECT_EQ(maintenance->kind(), v1::MESSAGE_KIND_MAINTENANCE);
  EXPECT_EQ(maintenance->incident_status(), v1::INCIDENT_STATUS_SCHEDULED);
  EXPECT_THAT(maintenance->component_statuses(), IsEmpty());
  EXPECT_EQ(Context("maintenance.body").values.at("window_start"),
            "November 23, 2026 at 12:00\u202fPM UTC");
  EXPECT_EQ(Context("maintenance.body").values.at("window_duration"),
            "2 hours");

  absl::StatusOr<v1::Message> apology =
      drafter_.DraftApology(CheckoutOutage(), "sorry");
  ASSERT_TRUE(apology.ok());
  EXPECT_EQ(apology->audience(), v1::AUDIENCE_AFFECTED_CUSTOMERS);
  EXPECT_THAT(apology->component_statuses(), IsEmpty());
  absl::StatusOr<v1::Message> follow_up =
      drafter_.DraftFollowUp(CheckoutOutage());
  ASSERT_TRUE(follow_up.ok());
  EXPECT_EQ(follow_up->kind(), v1::MESSAGE_KIND_FOLLOW_UP);
  EXPECT_THAT(follow_up->component_statuses(), IsEmpty());
  EXPECT_THAT(
      renderer_.Names(),
      ElementsAre("maintenance.title", "maintenance.body", "apology.title",
                  "apology.body", "follow_up.title", "follow_up.body"));
}

TEST_F(MessageDrafterTest, HoldingAndReopenedDraftsSayWhenAndSinceWhen) {
  ASSERT_TRUE(drafter_
                  .DraftHoldingStatement(CheckoutOutage(),
                                         testing::TestEpoch() + absl::Hours(1))
                  .ok());
  EXPECT_EQ(Context("holding.body").values.at("next_update_by"),
            "11:00\u202fAM UTC");
  absl::StatusOr<v1::Message> reopened =
      drafter_.DraftReopened(CheckoutOutage(), absl::Minutes(20));
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->incident_status(), v1::INCIDENT_STATUS_INVESTIGATING);
  EXPECT_EQ(Context("reopened.body").values.at("since_text"),
            HumanDuration(absl::Minutes(20)));
}

TEST_F(MessageDrafterTest, ARendererErrorIsReturnedAndNothingIsDrafted) {
  renderer_.Answer("identified.body", absl::InternalError("template broke"));
  EXPECT_EQ(drafter_
                .DraftStatusUpdate(CheckoutOutage(),
                                   v1::INCIDENT_STATUS_IDENTIFIED, Note("x"))
                .status()
                .code(),
            absl::StatusCode::kInternal);
}

TEST(TemplatePrefixTest, NamesTheTemplatesOfEachKindOfMessage) {
  v1::Message m;
  m.set_kind(v1::MESSAGE_KIND_STATUS_UPDATE);
  m.set_incident_status(v1::INCIDENT_STATUS_MONITORING);
  EXPECT_EQ(TemplatePrefix(m), "monitoring");
  m.set_kind(v1::MESSAGE_KIND_RESOLUTION);
  EXPECT_EQ(TemplatePrefix(m), "resolved");
  m.set_kind(v1::MESSAGE_KIND_MAINTENANCE);
  EXPECT_EQ(TemplatePrefix(m), "maintenance");
  m.set_kind(v1::MESSAGE_KIND_APOLOGY);
  EXPECT_EQ(TemplatePrefix(m), "apology");
  m.set_kind(v1::MESSAGE_KIND_FOLLOW_UP);
  EXPECT_EQ(TemplatePrefix(m), "follow_up");
  EXPECT_EQ(IncidentPageUrl("https://status.acme.example/", CheckoutOutage()),
            "https://status.acme.example/incidents/INC-7");
}

// A published status update on checkout and the public API.
inline v1::Message Published() {
  v1::Message m;
  m.set_kind(v1::MESSAGE_KIND_STATUS_UPDATE);
  m.set_incident_status(v1::INCIDENT_STATUS_IDENTIFIED);
  m.set_title("Checkout errors");
  m.set_body("We found the cause.\n\nA fix is rolling out.");
  return m;
}

inline v1::Subscriber Grace() {
  v1::Subscriber s;
  s.set_id("globex");
  s.set_name("Grace Hopper");
  s.set_account("Globex");
  s.set_plan("business");
  s.add_component_ids("checkout");
  s.add_component_ids("dashboard");
  return s;
}

TEST_F(MessageDrafterTest, AZoneThisMachineNoLongerKnowsReadsAsTheOrgs) {
  v1::Config config = DefaultConfig();
  config.mutable_customer_comms()->set_time_zone("Europe/Berlin");
  absl::StatusOr<std::shared_ptr<const Organisation>> org =
      Organisation::Create(config);
  ASSERT_TRUE(org.ok()) << org.status();
  const MessageDrafter berlin(renderer_, *std::move(org));
  v1::Subscriber reader;
  reader.set_time_zone("Asia/Tokyo");
  EXPECT_EQ(berlin.ReaderFor(reader).time_zone, "Asia/Tokyo");
  reader.set_time_zone("Europe/Atlantis");  // stored once, since removed
  EXPECT_EQ(berlin.ReaderFor(reader).time_zone, "Europe/Berlin");
  reader.clear_time_zone();
  EXPECT_EQ(berlin.ReaderFor(reader).time_zone, "Europe/Berlin");
}

TEST_F(MessageDrafterTest, AnEmailSpeaksOfTheComponentsTheCustomerUses) {
  absl::StatusOr<Email> email = drafter_.EmailFor(
      Published(), CheckoutOutage(), Grace(),
      Personal{.unsubscribe_url = "https://status.acme.example/unsub?t=1"});
  ASSERT_TRUE(email.ok()) << email.status();
  EXPECT_THAT(renderer_.Names(),
              ElementsAre("identified.email_subject", "identified.email_text",
                          "identified.email.html"));
  EXPECT_EQ(email->subject, "[identified.email_subject]");
  EXPECT_EQ(email->text, "[identified.email_text]\n");
  EXPECT_EQ(email->html, "[identified.email.html]");
  const TemplateContext& ctx = Context("identified.email_text");
  EXPECT_EQ(ctx.values.at("components_text"), "Checkout");
  EXPECT_EQ(ctx.values.at("customer_name"), "Grace Hopper");
  EXPECT_EQ(ctx.values.at("customer_account"), "Globex");
  EXPECT_EQ(ctx.values.at("unsubscribe_url"),
            "https://status.acme.example/unsub?t=1");
  std::vector<std::string> paragraphs;
  for (const TemplateContext& p : ctx.lists.at("body_paragraphs")) {
    paragraphs.push_back(p.values.at("text"));
  }
  EXPECT_THAT(paragraphs,
              ElementsAre("We found the cause.", "A fix is rolling out."));
}

TEST_F(MessageDrafterTest, AnEmailWithoutAnHtmlTemplateIsPlainText) {
  renderer_.Answer("identified.email.html", absl::NotFoundError("none"));
  v1::Subscriber nameless = Grace();
  nameless.clear_name();
  absl::StatusOr<Email> email =
      drafter_.EmailFor(Published(), CheckoutOutage(), nameless);
  ASSERT_TRUE(email.ok()) << email.status();
  EXPECT_EQ(email->html, "");
  const TemplateContext& ctx = Context("identified.email_text");
  EXPECT_FALSE(ctx.values.contains("customer_name"));
  EXPECT_FALSE(ctx.flags.at("named"));
  EXPECT_FALSE(ctx.values.contains("unsubscribe_url"));

  renderer_.Answer("identified.email.html", absl::InternalError("broke"));
  EXPECT_EQ(
      drafter_.EmailFor(Published(), CheckoutOutage(), Grace()).status().code(),
      absl::StatusCode::kInternal)
      << "only a missing HTML template is optional";
}

TEST_F(MessageDrafterTest, AnApologySaysTheCustomersOwnFacts) {
  v1::Amends amends;
  amends.set_customer_name("Dr. Hopper");
  amends.add_component_ids("dashboard");
  *amends.mutable_started_at() = ToProtoTime(testing::TestEpoch());
  *amends.mutable_ended_at() =
      ToProtoTime(testing::TestEpoch() + absl::Minutes(40));
  v1::Message apology = Published();
  apology.set_kind(v1::MESSAGE_KIND_APOLOGY);
  ASSERT_TRUE(drafter_
                  .EmailFor(apology, CheckoutOutage(), Grace(),
                            Personal{.amends = &amends,
                                     .values = {{"answer_works_url", "u"}}})
                  .ok());
  const TemplateContext& ctx = Context("apology.email_text");
  EXPECT_EQ(ctx.values.at("customer_name"), "Dr. Hopper");
  EXPECT_EQ(ctx.values.at("components_text"), "Dashboard");
  EXPECT_EQ(ctx.values.at("duration_text"), "40 minutes");
  EXPECT_EQ(ctx.values.at("answer_works_url"), "u");
  EXPECT_FALSE(ctx.flags.at("credit"));
  ASSERT_TRUE(drafter_.ShortTextFor(apology, CheckoutOutage(), &amends).ok());
  EXPECT_EQ(Context("apology.short_text").values.at("components_text"),
            "Dashboard");
}

TEST_F(MessageDrafterTest, LettersLinkToTheIncidentsPageOnlyWhenItHasOne) {
  v1::Message apology = Published();
  apology.set_kind(v1::MESSAGE_KIND_APOLOGY);
  v1::Incident incident = CheckoutOutage();
  incident.set_customer_visible(true);
  ASSERT_TRUE(drafter_.EmailFor(apology, incident, Grace(), {}).ok());
  const std::string url = DemoOrganisation()->config().server().public_url();
  EXPECT_EQ(Context("apology.email_text").values.at("incident_url"),
            url + "/incidents/INC-7");
  // Resolved quietly, never public: /incidents/INC-7 is a 404.
  incident.set_customer_visible(false);
  ASSERT_TRUE(drafter_.EmailFor(apology, incident, Grace(), {}).ok());
  EXPECT_EQ(Context("apology.email_text").values.at("incident_url"), url);
}

TEST_F(MessageDrafterTest, ASubscriberNoticeNeverCarriesTheirName) {
  absl::StatusOr<Email> notice = drafter_.SubscriberNotice(
      "subscribe_confirm", Grace(), {{"confirm_url", "https://c"}});
  ASSERT_TRUE(notice.ok()) << notice.status();
  const TemplateContext& ctx = Context("subscribe_confirm.email_text");
  EXPECT_FALSE(ctx.values.contains("customer_name"));
  EXPECT_FALSE(ctx.flags.at("named"));
  EXPECT_EQ(ctx.values.at("components_text"), "Checkout and Dashboard");
  EXPECT_EQ(ctx.values.at("confirm_url"), "https://c");
}

TEST_F(MessageDrafterTest, AStaffEmailCarriesTheMessageItIsAbout) {
  v1::Message draft = Published();
  draft.set_ref("MSG-12");
  draft.set_version(3);
  v1::PersonConfig carol;
  carol.set_name("Carol Nakamura");
  ASSERT_TRUE(
      drafter_.StaffEmail("draft_waiting", CheckoutOutage(), carol, &draft)
          .ok());
  const TemplateContext& ctx = Context("draft_waiting.email_text");
  EXPECT_EQ(ctx.values.at("person_name"), "Carol Nakamura");
  EXPECT_EQ(ctx.values.at("message_ref"), "MSG-12");
  EXPECT_EQ(ctx.values.at("message_version"), "3");
  EXPECT_EQ(ctx.values.at("message_title"), "Checkout errors");
  EXPECT_EQ(ctx.values.at("message_kind"), "status_update");
}

// The real templates: what the drafter hands them is what they use.
TEST(MessageDrafterTemplatesTest, TheRealTemplatesRenderADraftAndItsEmail) {
  testing::CoreHarness h;
  absl::StatusOr<v1::Message> m = h.drafter.DraftStatusUpdate(
      CheckoutOutage(), v1::INCIDENT_STATUS_IDENTIFIED,
      Note("bad config push"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(m->body(), HasSubstr("Bad config push."));
  EXPECT_THAT(m->body(), HasSubstr("Checkout and Public API"));
  absl::StatusOr<Email> email =
      h.drafter.EmailFor(Published(), CheckoutOutage(), Grace());
  ASSERT_TRUE(email.ok()) << email.status();
  EXPECT_THAT(email->text, HasSubstr("Hello Grace Hopper,"));
  EXPECT_THAT(email->html, HasSubstr("<p>A fix is rolling out.</p>"));
}

// A resolved checkout outage that lasted 1 hour 35 minutes, and its
// published apology; `customer`'s amends for it.
struct Letters {
  v1::Incident incident;
  v1::Message apology;
  v1::Message follow_up;
  v1::Amends amends;
};

Letters ApologyFor(const MessageDrafter& drafter, const v1::Subscriber& who,
                   const std::vector<std::string>& components) {
  Letters out;
  out.incident = CheckoutOutage();
  out.incident.set_rota_id("customer-comms");
  out.incident.set_status(v1::INCIDENT_STATUS_RESOLVED);
  *out.incident.mutable_resolved_at() =
      ToProtoTime(testing::TestEpoch() + absl::Hours(1) + absl::Minutes(35));
  // The resolution note says sorry too: the letter must not say it twice.
  out.apology = *drafter.DraftApology(
      out.incident,
      "a bad config push broke card payments. We are sorry. We now canary "
      "every config change.");
  out.apology.set_state(v1::MESSAGE_STATE_PUBLISHED);
  out.follow_up = *drafter.DraftFollowUp(out.incident);
  out.follow_up.set_state(v1::MESSAGE_STATE_PUBLISHED);
  out.amends.set_subscriber_id(who.id());
  out.amends.set_customer_name(who.name());
  for (const std::string& c : components) out.amends.add_component_ids(c);
  out.amends.mutable_credit()->set_percent(10);
  out.amends.mutable_credit()->set_amount_cents(4990);
  out.amends.mutable_credit()->set_currency("EUR");
  *out.amends.mutable_started_at() = out.incident.opened_at();
  *out.amends.mutable_ended_at() = out.incident.resolved_at();
  return out;
}

// The sentences of a plain-text letter, white space folded.
std::vector<std::string> Sentences(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i] == '\n' ? ' ' : text[i];
    if (c == ' ' && (current.empty() || current.back() == ' ')) continue;
    current += c;
    const bool end =
        (c == '.' || c == '!' || c == '?') &&
        (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n');
    if (end) {
      out.push_back(current);
      current.clear();
    }
  }
  return out;
}

TEST(MessageDrafterTemplatesTest, LettersNeverSayASentenceTwice) {
  testing::CoreHarness h;
  v1::Subscriber grace = Grace();
  for (const char* locale : {"en", "de"}) {
    grace.set_locale(locale);
    Letters l = ApologyFor(h.drafter, grace, {"checkout"});
    for (const v1::Message* m : {&l.apology, &l.follow_up}) {
      absl::StatusOr<Email> email = h.drafter.EmailFor(
          *m, l.incident, grace, Personal{.amends = &l.amends});
      ASSERT_TRUE(email.ok()) << email.status();
      std::map<std::string, int> seen;
      for (const std::string& sentence : Sentences(email->text)) {
        if (sentence.size() > 12) {
          EXPECT_EQ(++seen[sentence], 1)
              << locale << " " << EnumLabel(m->kind()) << " says twice: \""
              << sentence << "\"\n"
              << email->text;
        }
      }
    }
  }
}

TEST(MessageDrafterTemplatesTest, TextLettersBreakLinesBetweenWords) {
  testing::CoreHarness h;
  Letters l = ApologyFor(h.drafter, Grace(), {"checkout", "api"});
  absl::StatusOr<Email> email = h.drafter.EmailFor(
      l.apology, l.incident, Grace(), Personal{.amends = &l.amends});
  ASSERT_TRUE(email.ok()) << email.status();
  for (absl::string_view line : absl::StrSplit(email->text, '\n')) {
    if (!absl::StrContains(line, "://")) EXPECT_LE(line.size(), 72u) << line;
  }
}

TEST(MessageDrafterTemplatesTest,
     ApologyGreetsByPreferredNameAndIsSignedByAPerson) {
  testing::CoreHarness h;
  v1::Subscriber grace = Grace();
  grace.set_preferred_name("Grace");
  Letters l = ApologyFor(h.drafter, grace, {"checkout"});
  absl::StatusOr<Email> email = h.drafter.EmailFor(
      l.apology, l.incident, grace, Personal{.amends = &l.amends});
  ASSERT_TRUE(email.ok()) << email.status();
  EXPECT_THAT(email->text, HasSubstr("Dear Grace,\n"));
  // customer_comms.signed_by in the sample organisation.
  EXPECT_THAT(email->text,
              HasSubstr("Carol Nakamura\nHead of Customer Care, Acme Cloud"));
  EXPECT_THAT(email->html,
              HasSubstr("Carol Nakamura<br>Head of Customer Care"));
  EXPECT_THAT(email->text, HasSubstr("reply to this email"));
}

TEST(MessageDrafterTemplatesTest, ARotaSignsAndTakesRepliesForItsIncidents) {
  v1::Config config = DefaultConfig();
  v1::RotaConfig* rota = config.mutable_rotas(0);
  rota->mutable_signed_by()->set_name("Bob Lindqvist");
  rota->mutable_signed_by()->set_title("Incident Communications");
  config.mutable_customer_comms()->clear_reply_to();
  testing::CoreHarness h(NewMemoryStore(), config);
  Letters l = ApologyFor(h.drafter, Grace(), {"checkout"});
  absl::StatusOr<Email> email = h.drafter.EmailFor(
      l.apology, l.incident, Grace(), Personal{.amends = &l.amends});
  ASSERT_TRUE(email.ok()) << email.status();
  EXPECT_THAT(email->text, HasSubstr("Bob Lindqvist\nIncident Communications"));
  // Nobody takes replies: the letter does not promise that anyone will.
  EXPECT_THAT(email->text, Not(HasSubstr("reply to this email")));
  EXPECT_EQ(h.org->VoiceFor("customer-comms").reply_to, "");
}

TEST(MessageDrafterTemplatesTest, TheVerbAgreesWithHowManyComponentsBroke) {
  testing::CoreHarness h;
  Letters one = ApologyFor(h.drafter, Grace(), {"checkout"});
  Letters two = ApologyFor(h.drafter, Grace(), {"checkout", "api"});
  const auto text = [&](const Letters& l) {
    return absl::StrReplaceAll(h.drafter
                                   .EmailFor(l.apology, l.incident, Grace(),
                                             Personal{.amends = &l.amends})
                                   ->text,
                               {{"\n", " "}});
  };
  EXPECT_THAT(text(one), HasSubstr("Checkout stopped working as it should"));
  EXPECT_THAT(text(two), HasSubstr("Checkout and Public API stopped working "
                                   "as they should"));
}

TEST(MessageDrafterTemplatesTest, LettersAreInTheReadersLanguageAndTimeZone) {
  testing::CoreHarness h;
  v1::Subscriber grace = Grace();
  grace.set_locale("de");
  grace.set_time_zone("Europe/Berlin");
  Letters l = ApologyFor(h.drafter, grace, {"checkout"});
  absl::StatusOr<Email> email = h.drafter.EmailFor(
      l.apology, l.incident, grace, Personal{.amends = &l.amends});
  ASSERT_TRUE(email.ok()) << email.status();
  // 10:00 UTC is 11:00 in Berlin in November.
  EXPECT_THAT(email->text, HasSubstr("23. November 2026 um 11:00 MEZ"));
  EXPECT_THAT(email->text, HasSubstr("1 Stunde und 35 Minuten"));
  EXPECT_THAT(email->text, HasSubstr("49,90"));
  EXPECT_THAT(email->text, Not(HasSubstr("UTC")));
  EXPECT_THAT(email->html, HasSubstr("lang=\"de\""));

  grace.set_locale("en");
  grace.set_time_zone("America/New_York");
  email = h.drafter.EmailFor(l.apology, l.incident, grace,
                             Personal{.amends = &l.amends});
  ASSERT_TRUE(email.ok()) << email.status();
  EXPECT_THAT(email->text, HasSubstr("November 23, 2026 at 5:00\u202fAM EST"));
  EXPECT_THAT(email->text, HasSubstr("1 hour and 35 minutes"));
}

TEST(MessageDrafterTemplatesTest,
     AStatusEmailNamesTheirComponentsAndSumsUpTheRest) {
  testing::CoreHarness h;
  v1::Subscriber peter = Grace();
  peter.clear_component_ids();
  peter.add_component_ids("checkout");
  absl::StatusOr<Email> email =
      h.drafter.EmailFor(Published(), CheckoutOutage(), peter);
  ASSERT_TRUE(email.ok()) << email.status();
  EXPECT_THAT(email->text, HasSubstr("because you follow Checkout."));
  EXPECT_THAT(email->text,
              HasSubstr("also affects Public API, which you do not follow."));
}

}  // namespace message_drafter_testing
}  // namespace herald
