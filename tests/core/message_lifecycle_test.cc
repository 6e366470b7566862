// The draft -> edit -> approve/reject state machine of customer messages,
// every illegal step with its error code, the four-eyes policy and the audit
// log.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/locale_text.h"
#include "server/base/proto_time.h"
#include "server/core/comms/comms_workflow.h"
#include "server/core/subscribers/link_tokens.h"
#include "server/store/memory_store.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using ::testing::AllOf;
using testing::Comms;
using testing::CommsLead;
using testing::CoreHarness;
using ::testing::ElementsAre;
using testing::Engineer;
using testing::FiringGroup;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class MessageLifecycleTest : public ::testing::Test {
 protected:
  explicit MessageLifecycleTest(const v1::Config& config = DefaultConfig())
      : h_(NewMemoryStore(), config) {
    incident_ =
        h_.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
    draft_ =
        h_.workflow.PostUpdate(Engineer(), incident_, "rolled back")->draft;
  }

  absl::StatusCode EditCode(int64_t id, int32_t version = 0) {
    return h_.workflow.Edit(Comms(), id, version, "", "new body")
        .status()
        .code();
  }
  absl::StatusCode ApproveCode(int64_t id, int32_t version = 0) {
    return h_.workflow.Approve(CommsLead(), id, version, kAsWritten)
        .status()
        .code();
  }
  absl::StatusCode RejectCode(int64_t id, int32_t version = 0) {
    return h_.workflow.Reject(CommsLead(), id, version, "too vague")
        .status()
        .code();
  }
  std::vector<v1::MessageVersion> Versions(int64_t id) {
    return h_.Read<std::vector<v1::MessageVersion>>(
        [&](StoreReader& r) { return r.ListMessageVersions(id); });
  }
  std::vector<std::string> AuditActions() {
    std::vector<std::string> out;
    for (const v1::AuditEntry& e : h_.Read<std::vector<v1::AuditEntry>>(
             [&](StoreReader& r) { return r.ListAudit(incident_); })) {
      // From the engineer's draft on, not the first draft herald made when
      // the incident opened.
      if (e.message_id() < draft_.id()) continue;
      out.push_back(absl::StrCat(e.action(), " ", e.message_ref(), " v",
                                 e.message_version(), " ", e.actor_id()));
    }
    return out;
  }

  CoreHarness h_;
  int64_t incident_ = 0;
  v1::Message draft_;
};

TEST_F(MessageLifecycleTest, AnIncidentOpensWithAnInvestigatingDraftReady) {
  absl::StatusOr<Page<v1::Message>> all =
      h_.queries.ListMessages(incident_, {v1::MESSAGE_STATE_SUPERSEDED});
  ASSERT_TRUE(all.ok());
  ASSERT_THAT(all->items, SizeIs(1)) << "the engineer's update superseded it";
  const v1::Message& first = all->items[0];
  EXPECT_EQ(first.author_id(), "herald");
  EXPECT_EQ(first.incident_status(), v1::INCIDENT_STATUS_INVESTIGATING);
  EXPECT_THAT(first.body(), HasSubstr("investigating a problem affecting"));
}

TEST_F(MessageLifecycleTest, HeraldsDraftIsVersionOneByTheUpdatesAuthor) {
  EXPECT_EQ(draft_.version(), 1);
  EXPECT_EQ(draft_.state(), v1::MESSAGE_STATE_DRAFT);
  EXPECT_EQ(draft_.last_editor_id(), "alice");
  std::vector<v1::MessageVersion> v = Versions(draft_.id());
  ASSERT_THAT(v, SizeIs(1));
  EXPECT_EQ(v[0].body(), draft_.body());
}

TEST_F(MessageLifecycleTest, EachEditAddsAVersionAndKeepsTheEarlierOnes) {
  absl::StatusOr<v1::Message> edited =
      h_.workflow.Edit(Comms(), draft_.id(), 1, "Checkout errors", "");
  ASSERT_TRUE(edited.ok()) << edited.status();
  EXPECT_EQ(edited->version(), 2);
  EXPECT_EQ(edited->title(), "Checkout errors");
  EXPECT_EQ(edited->body(), draft_.body()) << "an empty body is kept";
  EXPECT_EQ(edited->last_editor_id(), "bob");
  ASSERT_TRUE(
      h_.workflow.Edit(CommsLead(), draft_.id(), 2, "", "Errors are falling.")
          .ok());
  std::vector<v1::MessageVersion> v = Versions(draft_.id());
  ASSERT_THAT(v, SizeIs(3));
  EXPECT_EQ(v[0].title(), draft_.title());
  EXPECT_EQ(v[1].title(), "Checkout errors");
  EXPECT_EQ(v[2].body(), "Errors are falling.");
  EXPECT_EQ(v[2].editor_id(), "carol");
}

TEST_F(MessageLifecycleTest, EditingAStaleVersionIsAborted) {
  ASSERT_TRUE(h_.workflow.Edit(Comms(), draft_.id(), 1, "mine", "").ok());
  absl::Status s =
      h_.workflow.Edit(Comms("erin"), draft_.id(), 1, "theirs", "").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("now version 2"));
}

TEST_F(MessageLifecycleTest, AnEditThatChangesNothingIsInvalid) {
  EXPECT_EQ(h_.workflow.Edit(Comms(), draft_.id(), 0, "", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h_.workflow.Edit(Comms(), draft_.id(), 0, draft_.title(), "")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(MessageLifecycleTest, UnknownMessagesAreNotFoundForEveryStep) {
  EXPECT_EQ(EditCode(999), absl::StatusCode::kNotFound);
  EXPECT_EQ(ApproveCode(999), absl::StatusCode::kNotFound);
  EXPECT_EQ(RejectCode(999), absl::StatusCode::kNotFound);
}

TEST_F(MessageLifecycleTest, APublishedMessageNeverChangesAgain) {
  ASSERT_EQ(ApproveCode(draft_.id()), absl::StatusCode::kOk);
  EXPECT_EQ(EditCode(draft_.id()), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApproveCode(draft_.id()), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RejectCode(draft_.id()), absl::StatusCode::kFailedPrecondition);
}

TEST_F(MessageLifecycleTest, ASupersededDraftCanNoLongerBeEditedOrDecided) {
  ASSERT_TRUE(
      h_.workflow.PostUpdate(Engineer(), incident_, "found the cause").ok());
  EXPECT_EQ(EditCode(draft_.id()), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApproveCode(draft_.id()), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RejectCode(draft_.id()), absl::StatusCode::kFailedPrecondition);
}

TEST_F(MessageLifecycleTest, ARejectionNeedsAReason) {
  absl::Status s =
      h_.workflow.Reject(CommsLead(), draft_.id(), 0, "  ").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("reason"));
}

TEST_F(MessageLifecycleTest, ARejectedMessageIsApprovableOnlyAfterAnEdit) {
  absl::StatusOr<v1::Message> rejected =
      h_.workflow.Reject(CommsLead(), draft_.id(), 1, "say which region");
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->state(), v1::MESSAGE_STATE_REJECTED);
  EXPECT_EQ(rejected->rejection_reason(), "say which region");
  EXPECT_EQ(rejected->rejected_by(), "carol");
  EXPECT_EQ(ApproveCode(draft_.id()), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RejectCode(draft_.id()), absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<v1::Message> reworked = h_.workflow.Edit(
      Comms(), draft_.id(), 1, "", "Checkout in eu-west is failing.");
  ASSERT_TRUE(reworked.ok()) << reworked.status();
  EXPECT_EQ(reworked->state(), v1::MESSAGE_STATE_DRAFT);
  EXPECT_EQ(ApproveCode(draft_.id(), 2), absl::StatusCode::kOk);
}

TEST_F(MessageLifecycleTest, DecidingOnAStaleVersionIsAborted) {
  ASSERT_TRUE(h_.workflow.Edit(Comms(), draft_.id(), 1, "newer", "").ok());
  EXPECT_EQ(RejectCode(draft_.id(), 1), absl::StatusCode::kAborted);
  EXPECT_EQ(ApproveCode(draft_.id(), 1), absl::StatusCode::kAborted);
  EXPECT_EQ(ApproveCode(draft_.id(), 2), absl::StatusCode::kOk);
}

TEST_F(MessageLifecycleTest, RejectingNeedsTheSameAuthorityAsApproving) {
  // Bob is a comms member without an authority scope in the default rota.
  absl::Status s = h_.workflow.Reject(Comms(), draft_.id(), 0, "no").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(MessageLifecycleTest, WithoutFourEyesAnEditorMayApproveTheirOwnEdit) {
  ASSERT_TRUE(h_.workflow.Edit(CommsLead(), draft_.id(), 1, "mine", "").ok());
  EXPECT_EQ(ApproveCode(draft_.id(), 2), absl::StatusCode::kOk);
}

TEST_F(MessageLifecycleTest, TheAuditLogRecordsEveryDecisionInOrder) {
  ASSERT_TRUE(h_.workflow.Reject(CommsLead(), draft_.id(), 1, "vague").ok());
  ASSERT_TRUE(h_.workflow.Edit(Comms(), draft_.id(), 1, "", "clearer").ok());
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), draft_.id(), 2, kAsWritten).ok());
  ASSERT_TRUE(h_.workflow.PostUpdate(Engineer(), incident_, "monitoring").ok());
  const std::string ref = draft_.ref();
  const std::string next = MessageRef(draft_.id() + 1);
  EXPECT_THAT(AuditActions(), ElementsAre("drafted " + ref + " v1 alice",
                                          "rejected " + ref + " v1 carol",
                                          "edited " + ref + " v2 bob",
                                          "approved " + ref + " v2 carol",
                                          "drafted " + next + " v1 alice"));
}

TEST_F(MessageLifecycleTest, SupersedingIsAudited) {
  ASSERT_TRUE(h_.workflow.PostUpdate(Engineer(), incident_, "found it").ok());
  EXPECT_THAT(AuditActions(),
              ::testing::Contains("superseded " + draft_.ref() + " v1 alice"));
}

TEST_F(MessageLifecycleTest, PreviewShowsTheEmailInEveryLanguageItGoesOutIn) {
  v1::Subscriber hans;
  hans.set_id("zz-hans");  // listed after the sample's subscribers
  hans.set_email("hans@example.de");
  hans.set_name("Hans Meier");
  hans.set_locale("de");
  hans.set_time_zone("Europe/Berlin");
  hans.add_component_ids("checkout");
  ASSERT_TRUE(h_.subscribers.Add(CommsLead(), hans).ok());
  absl::StatusOr<MessageDetail> got = h_.queries.GetMessage(draft_.id());
  ASSERT_TRUE(got.ok()) << got.status();
  std::vector<std::string> emails;
  for (const v1::ChannelPreview& p : got->previews) {
    if (p.channel() == "email")
      emails.push_back(p.recipient() + "|" + p.body());
  }
  ASSERT_THAT(emails, SizeIs(2));
  EXPECT_THAT(emails[0], HasSubstr("in en: "));
  EXPECT_THAT(emails[1],
              AllOf(HasSubstr("in de: hans@example.de"),
                    HasSubstr("Guten Tag Hans Meier,"), HasSubstr("MEZ")));
}

// A German reader of the checkout component, listed after the sample's.
v1::Subscriber Hans() {
  v1::Subscriber hans;
  hans.set_id("zz-hans");
  hans.set_email("hans@example.de");
  hans.set_name("Hans Meier");
  hans.set_locale("de-AT");
  hans.set_time_zone("Europe/Vienna");
  hans.add_component_ids("checkout");
  return hans;
}

v1::Translation Translation(const std::string& title, const std::string& body) {
  v1::Translation t;
  t.set_title(title);
  t.set_body(body);
  return t;
}

TEST_F(MessageLifecycleTest, ATranslatedVersionReachesItsReadersInTheirFrame) {
  ASSERT_TRUE(h_.subscribers.Add(CommsLead(), Hans()).ok());
  // A German reader on Slack: the bold title and the text agree.
  v1::Subscriber jonas = Hans();
  jonas.set_id("zz-jonas");
  jonas.set_email("jonas@example.de");
  v1::Contact* slack = jonas.add_contacts();
  slack->set_channel(v1::CHANNEL_KIND_SLACK);
  slack->set_address("https://hooks.slack.example/services/T1/B2/c3");
  ASSERT_TRUE(h_.subscribers.Add(CommsLead(), jonas).ok());
  absl::StatusOr<v1::Message> edited = h_.workflow.Edit(
      Comms(), draft_.id(), 1, "Checkout errors", "We rolled back.", {},
      {{"de", Translation("Fehler im Checkout",
                          "Wir haben die Änderung zurückgenommen.")}});
  ASSERT_TRUE(edited.ok()) << edited.status();
  EXPECT_EQ(edited->version(), 2);
  // The translation is part of the version, and the audit log says so.
  const std::vector<v1::MessageVersion> versions = Versions(draft_.id());
  ASSERT_THAT(versions, SizeIs(2));
  EXPECT_EQ(versions[1].translations().at("de").title(), "Fehler im Checkout");
  EXPECT_TRUE(versions[0].translations().empty());
  const std::vector<v1::AuditEntry> audit =
      h_.Read<std::vector<v1::AuditEntry>>(
          [&](StoreReader& r) { return r.ListAudit(incident_); });
  EXPECT_EQ(audit.back().detail(), "de translated");

  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), draft_.id(), 2, {}).ok());
  std::map<std::string, Outgoing> by_address;
  for (const v1::Delivery& d : h_.Read<std::vector<v1::Delivery>>(
           [&](StoreReader& r) { return r.ListDeliveries(draft_.id(), 0); })) {
    Outgoing o = h_.Compose(d);
    by_address[o.address] = std::move(o);
  }
  // de-AT reads the "de" translation in the German frame; English readers
  // read the message's own words.
  const Outgoing& on_slack =
      by_address.at("https://hooks.slack.example/services/T1/B2/c3");
  EXPECT_THAT(on_slack.json, HasSubstr("*Fehler im Checkout*"));
  EXPECT_THAT(on_slack.json, ::testing::Not(HasSubstr("Checkout errors")));
  const Outgoing& hans = by_address.at("hans@example.de");
  EXPECT_THAT(hans.subject, HasSubstr("Fehler im Checkout"));
  EXPECT_THAT(testing::OneLine(hans.text),
              AllOf(HasSubstr("Wir haben die Änderung zurückgenommen."),
                    HasSubstr("Guten Tag Hans Meier,"),
                    ::testing::Not(HasSubstr("We rolled back."))));
  EXPECT_THAT(hans.html, HasSubstr("Wir haben die Änderung zurückgenommen."));
  for (const auto& [address, o] : by_address) {
    if (address == "hans@example.de" || address == on_slack.address) continue;
    EXPECT_THAT(o.text, HasSubstr("We rolled back.")) << address;
    EXPECT_THAT(o.text, ::testing::Not(HasSubstr("zurückgenommen"))) << address;
  }
}

TEST_F(MessageLifecycleTest, AnEtaReadsInEachReadersOwnTimeAndLanguage) {
  ASSERT_TRUE(h_.subscribers.Add(CommsLead(), Hans()).ok());
  absl::StatusOr<PostedUpdate> posted = h_.workflow.PostUpdate(
      Engineer(), incident_, "found the bad node", {.eta = absl::Minutes(90)});
  ASSERT_TRUE(posted.ok()) << posted.status();
  // Drafted as the organisation writes it (UTC, English): 10:00 + 90m.
  EXPECT_THAT(posted->draft.body(), HasSubstr("11:30\u202fAM UTC"));
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), posted->draft.id(), 0, kAsWritten).ok());
  std::map<std::string, std::string> text;
  for (const v1::Delivery& d :
       h_.Read<std::vector<v1::Delivery>>([&](StoreReader& r) {
         return r.ListDeliveries(posted->draft.id(), 0);
       })) {
    const Outgoing o = h_.Compose(d);
    text[o.address] = testing::OneLine(o.text);
  }
  // Hans reads it in Vienna's time, in German.
  EXPECT_THAT(text.at("hans@example.de"), HasSubstr("12:30 MEZ"));
  EXPECT_THAT(text.at("hans@example.de"), ::testing::Not(HasSubstr("11:30")));
  // The stored, public words are unchanged.
  EXPECT_THAT(h_.Read<v1::Message>([&](StoreReader& r) {
                  return r.GetMessage(posted->draft.id());
                }).body(),
              HasSubstr("11:30\u202fAM UTC"));
}

TEST_F(MessageLifecycleTest, TranslationsAreCheckedWithTheLanguageNamed) {
  const auto edit_error = [&](const std::string& tag, v1::Translation t) {
    return std::string(
        h_.workflow
            .Edit(Comms(), draft_.id(), 0, "", "", {}, {{tag, std::move(t)}})
            .status()
            .message());
  };
  EXPECT_THAT(edit_error("german", Translation("T", "B")),
              HasSubstr("translations[german]: expected a language tag"));
  EXPECT_THAT(edit_error("en-GB", Translation("T", "B")),
              HasSubstr("is the default language"));
  // No templates in French: no reader would ever get it.
  EXPECT_THAT(edit_error("fr", Translation("Titre", "Texte")),
              HasSubstr("translations[fr]: herald has no templates in fr"));
  EXPECT_THAT(edit_error("de", Translation("Nur ein Titel", "")),
              HasSubstr("give both a title and a body"));
  EXPECT_THAT(edit_error("de", Translation("T", std::string(70000, 'x'))),
              HasSubstr("translations[de].body"));
  EXPECT_THAT(edit_error("de", Translation("", "")),
              HasSubstr("changes nothing"));  // nothing to remove
  EXPECT_THAT(Versions(draft_.id()), SizeIs(1));
}

TEST_F(MessageLifecycleTest, ReviewersSeeMissingAndOutdatedTranslations) {
  ASSERT_TRUE(h_.subscribers.Add(CommsLead(), Hans()).ok());
  const auto coverage = [&] {
    std::map<std::string, std::string> out;
    const absl::StatusOr<MessageDetail> got =
        h_.queries.GetMessage(draft_.id());
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok()) return out;
    for (const v1::LanguageCoverage& c : got->languages) {
      out[c.locale()] = c.is_default()   ? "default"
                        : c.outdated()   ? "outdated"
                        : c.translated() ? "translated"
                                         : "missing";
    }
    return out;
  };
  // Hans reads de-AT: a German translation serves him.
  EXPECT_EQ(coverage(), (std::map<std::string, std::string>{
                            {"de", "missing"}, {"en", "default"}}));
  ASSERT_TRUE(h_.workflow
                  .Edit(Comms(), draft_.id(), 0, "", "", {},
                        {{"de", Translation("Fehler", "Wir arbeiten daran.")}})
                  .ok());
  EXPECT_EQ(coverage(), (std::map<std::string, std::string>{
                            {"de", "translated"}, {"en", "default"}}));
  // The English text changes: the German one was written for the old.
  ASSERT_TRUE(
      h_.workflow.Edit(Comms(), draft_.id(), 0, "", "Errors are falling.")
          .ok());
  EXPECT_EQ(coverage().at("de"), "outdated");
  // Removing it: German readers get the English text again.
  ASSERT_TRUE(h_.workflow
                  .Edit(Comms(), draft_.id(), 0, "", "", {},
                        {{"de", Translation("", "")}})
                  .ok());
  EXPECT_EQ(coverage().at("de"), "missing");
}

TEST_F(MessageLifecycleTest,
       ATranslationSentBackWithBrowserLineBreaksIsUnchanged) {
  ASSERT_TRUE(h_.workflow
                  .Edit(Comms(), draft_.id(), 0, "", "", {},
                        {{"de", Translation("Fehler", "Zeile eins.\n\nZwei.")}})
                  .ok());
  ASSERT_TRUE(
      h_.workflow.Edit(Comms(), draft_.id(), 0, "", "Errors are falling.")
          .ok());
  // The console posts every translation back, its lines as "\r\n": the
  // English text changed, the German one did not, and stays outdated.
  ASSERT_TRUE(
      h_.workflow
          .Edit(Comms(), draft_.id(), 0, "", "Errors are gone.", {},
                {{"de", Translation("Fehler", "Zeile eins.\r\n\r\nZwei.")}})
          .ok());
  const std::vector<v1::AuditEntry> audit =
      h_.Read<std::vector<v1::AuditEntry>>(
          [&](StoreReader& r) { return r.ListAudit(incident_); });
  EXPECT_EQ(audit.back().detail(), "");  // not "de translated"
  const absl::StatusOr<MessageDetail> got = h_.queries.GetMessage(draft_.id());
  ASSERT_TRUE(got.ok()) << got.status();
  bool seen = false;
  for (const v1::LanguageCoverage& c : got->languages) {
    if (c.locale() != "de") continue;
    seen = true;
    EXPECT_TRUE(c.outdated());
  }
  EXPECT_TRUE(seen);
  // A translation may always be removed.
  EXPECT_TRUE(h_.workflow
                  .Edit(Comms(), draft_.id(), 0, "", "", {},
                        {{"de", Translation("", "")}})
                  .ok());
}

TEST_F(MessageLifecycleTest,
       AnEngineersWordsCopiedIntoATranslationNeedTheChoice) {
  // The draft holds the engineer's note; reword the English only.
  ASSERT_TRUE(h_.workflow
                  .Edit(Comms(), draft_.id(), 0, "Checkout errors",
                        "We are rolling back a change.", {},
                        {{"de", Translation("Fehler", "Rolled back.")}})
                  .ok());
  absl::StatusOr<Publication> refused =
      h_.workflow.Approve(CommsLead(), draft_.id(), 0, {});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("Rolled back."));
}

TEST_F(MessageLifecycleTest, PreviewShowsExactlyWhatEachChannelSends) {
  ASSERT_TRUE(h_.workflow
                  .Edit(Comms(), draft_.id(), 1, "Checkout errors",
                        "We rolled back; errors are falling.")
                  .ok());
  absl::StatusOr<MessageDetail> got = h_.queries.GetMessage(draft_.id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->versions, SizeIs(2));
  EXPECT_THAT(got->audit, SizeIs(2));
  ASSERT_THAT(got->previews, SizeIs(3));
  EXPECT_EQ(got->previews[0].channel(), "status_page");
  EXPECT_EQ(got->previews[0].body(), "We rolled back; errors are falling.");
  const v1::ChannelPreview& email = got->previews[1];
  EXPECT_EQ(email.channel(), "email");
  EXPECT_THAT(email.html(), HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(email.html(), HasSubstr("We rolled back; errors are falling."));
  const v1::ChannelPreview& short_text = got->previews[2];
  EXPECT_EQ(short_text.channel(), "short_text");
  EXPECT_THAT(short_text.body(), HasSubstr("investigating"));

  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), draft_.id(), 2, kAsWritten).ok());
  const std::vector<v1::Delivery> sent = h_.Read<std::vector<v1::Delivery>>(
      [&](StoreReader& r) { return r.ListDeliveries(draft_.id(), 0); });
  ASSERT_FALSE(sent.empty());
  const Outgoing first = h_.Compose(sent[0]);
  EXPECT_THAT(email.recipient(), HasSubstr(first.address));
  EXPECT_EQ(email.subject(), first.subject);
  // The same, but for the recipient's own unsubscribe and preferences
  // links.
  const std::string& public_url = h_.org->config().server().public_url();
  const SubscriberLinks theirs =
      LinksFor(public_url, h_.links,
               absl::StripPrefix(sent[0].recipient(), "subscriber:"));
  ASSERT_EQ(first.unsubscribe_url, theirs.unsubscribe_url);
  const std::vector<std::pair<std::string, std::string>> placeholders = {
      {theirs.unsubscribe_url,
       LinkUrl(public_url, "/unsubscribe", kPreviewLinkToken)},
      {theirs.manage_url,
       LinkUrl(public_url, "/preferences", kPreviewLinkToken)}};
  EXPECT_THAT(first.text, HasSubstr(theirs.manage_url));
  EXPECT_EQ(email.body(), absl::StrReplaceAll(first.text, placeholders));
  EXPECT_EQ(email.html(), absl::StrReplaceAll(first.html, placeholders));
}

TEST_F(MessageLifecycleTest, TheHtmlEmailKeepsTheBodysParagraphs) {
  ASSERT_TRUE(h_.workflow
                  .Edit(Comms(), draft_.id(), 1, "Checkout errors",
                        "We rolled back.\n\nErrors are <falling>.\n")
                  .ok());
  const MessageDetail got = *h_.queries.GetMessage(draft_.id());
  ASSERT_GE(got.previews.size(), 2);
  EXPECT_THAT(got.previews[1].html(),
              HasSubstr("<p>We rolled back.</p>\n<p>Errors are "
                        "&lt;falling&gt;.</p>"));
}

TEST_F(MessageLifecycleTest, PreviewOfAnUnknownMessageIsNotFound) {
  EXPECT_EQ(h_.queries.GetMessage(999).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(MessageLifecycleTest, PublishingSetsTheComponentStatusesTheMessageSays) {
  EXPECT_EQ(draft_.component_statuses().at("checkout"),
            v1::COMPONENT_STATUS_MAJOR_OUTAGE)
      << "proposed from the critical impact";
  absl::StatusOr<v1::Message> edited =
      h_.workflow.Edit(Comms(), draft_.id(), 1, "", "",
                       {{"checkout", v1::COMPONENT_STATUS_PARTIAL_OUTAGE},
                        {"api", v1::COMPONENT_STATUS_DEGRADED_PERFORMANCE}});
  ASSERT_TRUE(edited.ok()) << edited.status();
  EXPECT_EQ(edited->version(), 2) << "a status change alone is an edit";
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), draft_.id(), 2, kAsWritten).ok());
  std::map<std::string, v1::ComponentStatus> shown;
  for (const v1::ComponentState& s : h_.Read<std::vector<v1::ComponentState>>(
           [](StoreReader& r) { return r.ListComponentStates(); })) {
    shown[s.component_id()] = s.status();
  }
  EXPECT_EQ(shown["checkout"], v1::COMPONENT_STATUS_PARTIAL_OUTAGE);
  EXPECT_EQ(shown["api"], v1::COMPONENT_STATUS_DEGRADED_PERFORMANCE);
}

TEST_F(MessageLifecycleTest, UnknownComponentsAndUnsetStatusesAreRefused) {
  EXPECT_EQ(h_.workflow
                .Edit(Comms(), draft_.id(), 1, "", "",
                      {{"nope", v1::COMPONENT_STATUS_OPERATIONAL}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h_.workflow
                .Edit(Comms(), draft_.id(), 1, "", "",
                      {{"checkout", v1::COMPONENT_STATUS_UNSPECIFIED}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

v1::Config FourEyesConfig() {
  v1::Config c = DefaultConfig();
  c.mutable_comms()->set_four_eyes(true);
  return c;
}

class FourEyesTest : public MessageLifecycleTest {
 protected:
  FourEyesTest() : MessageLifecycleTest(FourEyesConfig()) {}
};

TEST_F(FourEyesTest, TheLastEditorMayNotApproveOrRejectTheirOwnVersion) {
  ASSERT_TRUE(h_.workflow.Edit(CommsLead(), draft_.id(), 1, "mine", "").ok());
  absl::Status s =
      h_.workflow.Approve(CommsLead(), draft_.id(), 2, kAsWritten).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("four eyes"));
  EXPECT_EQ(RejectCode(draft_.id(), 2), absl::StatusCode::kPermissionDenied);
}

TEST_F(FourEyesTest, SomeoneElsesVersionMayBeApproved) {
  ASSERT_TRUE(h_.workflow.Edit(Comms(), draft_.id(), 1, "bob's", "").ok());
  EXPECT_EQ(ApproveCode(draft_.id(), 2), absl::StatusCode::kOk);
}

TEST(EngineerUpdateTest, EtaAndNextStepAppearInTheDraft) {
  CoreHarness h;
  const int64_t id =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  UpdateDetails details;
  details.status_hint = v1::INCIDENT_STATUS_IDENTIFIED;
  details.eta = absl::Minutes(30);
  details.next_step = "rolling out the fix region by region";
  absl::StatusOr<PostedUpdate> p =
      h.workflow.PostUpdate(Engineer(), id, "bad config push", details);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(FromProtoTime(p->update.eta()), h.clock.Now() + absl::Minutes(30));
  EXPECT_EQ(p->update.next_step(), details.next_step);
  const std::string eta =
      FormatTimeOfDay(h.clock.Now() + absl::Minutes(30), "en", "UTC");
  EXPECT_THAT(p->draft.body(), HasSubstr("by " + eta));
  EXPECT_THAT(p->draft.body(), HasSubstr("Bad config push. Next: Rolling out "
                                         "the fix region by region."));
}

TEST(EngineerUpdateTest, TheLengthLimitComesFromTheConfig) {
  v1::Config config = DefaultConfig();
  config.mutable_comms()->set_max_update_length(20);
  CoreHarness h(NewMemoryStore(), config);
  const int64_t id =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  absl::Status s =
      h.workflow.PostUpdate(Engineer(), id, std::string(21, 'x')).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("at most 20 characters"));
  EXPECT_TRUE(h.workflow.PostUpdate(Engineer(), id, std::string(20, 'x')).ok());
}

TEST(EngineerUpdateTest, ANegativeEtaIsInvalid) {
  CoreHarness h;
  const int64_t id =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  UpdateDetails details;
  details.eta = -absl::Minutes(1);
  EXPECT_EQ(h.workflow.PostUpdate(Engineer(), id, "x", details).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace herald
