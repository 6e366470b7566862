// Post-incident care on a fake clock: the personal apology and its amends,
// credits and the authority over them, the apology reminder, the follow-up
// and its answers, and the postmortem.
#include "server/core/aftercare/aftercare.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/proto_time.h"
#include "server/core/aftercare/follow_ups.h"
#include "server/statuspage/status_page.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using ::testing::AllOf;
using testing::CommsLead;
using ::testing::ContainsRegex;
using testing::CoreHarness;
using ::testing::ElementsAre;
using testing::FiringGroup;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

Caller Admin() { return {"dave", {v1::ROLE_ADMIN}}; }

class AftercareTest : public ::testing::Test {
 protected:
  // The demo's three customers, each affected differently by one checkout
  // incident: globex (business) subscribes to checkout; umbrella
  // (enterprise) only subscribes to dashboard and api, but an alert names
  // it; initech (starter) subscribes to checkout and is named too.
  AftercareTest() {
    v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1", "fp2"});
    (*g.mutable_alerts(0)->mutable_labels())["customer"] = "Umbrella";
    (*g.mutable_alerts(1)->mutable_labels())["tenant"] = "Initech";
    incident_ = h_.intake.Ingest(g)->incident_id;
  }

  // Resolves the incident after `lasted` and returns its apology's id.
  int64_t ResolveAfter(absl::Duration lasted) {
    h_.clock.Advance(lasted);
    absl::StatusOr<Resolution> r =
        h_.workflow.Resolve(CommsLead(), incident_, "A bad deploy of the cart");
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->drafts.back().kind(), v1::MESSAGE_KIND_APOLOGY);
    return r->drafts.back().id();
  }

  std::map<std::string, v1::Amends> AmendsById() {
    std::map<std::string, v1::Amends> out;
    for (v1::Amends& a : h_.Read<std::vector<v1::Amends>>(
             [&](StoreReader& r) { return r.ListAmends(incident_); })) {
      out[a.subscriber_id()] = std::move(a);
    }
    return out;
  }

  // Each subscriber's email of `message_id`, by subscriber id.
  std::map<std::string, Outgoing> Emails(int64_t message_id) {
    std::map<std::string, Outgoing> out;
    for (const v1::Delivery& d : h_.Read<std::vector<v1::Delivery>>(
             [&](StoreReader& r) { return r.ListDeliveries(message_id, 0); })) {
      out[d.recipient().substr(std::string("subscriber:").size())] =
          h_.Compose(d);
    }
    return out;
  }

  // Staff notifications whose idempotency key contains `event`.
  std::vector<std::string> StaffNotices(const std::string& event) {
    std::vector<std::string> out;
    for (const v1::Delivery& d : h_.StaffDeliveries(incident_)) {
      if (d.idempotency_key().find(event) != std::string::npos) {
        out.push_back(d.recipient() + " " + d.subject());
      }
    }
    return out;
  }

  std::vector<v1::Message> FollowUpMessages() {
    absl::StatusOr<Page<v1::Message>> published =
        h_.queries.ListMessages(incident_, {v1::MESSAGE_STATE_PUBLISHED});
    std::vector<v1::Message> out;
    for (v1::Message& m : published->items) {
      if (m.kind() == v1::MESSAGE_KIND_FOLLOW_UP) out.push_back(std::move(m));
    }
    return out;
  }

  CoreHarness h_;
  int64_t incident_ = 0;
};

TEST_F(AftercareTest, ApprovingTheApologyFixesEachCustomersPersonalFacts) {
  const int64_t apology = ResolveAfter(absl::Minutes(45));
  absl::StatusOr<Publication> published =
      h_.workflow.Approve(CommsLead(), apology, 0, kAsWritten);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->deliveries_enqueued, 3);

  std::map<std::string, v1::Amends> amends = AmendsById();
  ASSERT_THAT(amends, SizeIs(3));
  const v1::Amends& globex = amends["globex"];
  EXPECT_EQ(globex.customer_name(), "Grace Hopper");
  EXPECT_THAT(globex.component_ids(), ElementsAre("checkout"));
  EXPECT_EQ(globex.credit().percent(), 10);
  EXPECT_EQ(globex.credit().amount_cents(), 4990);  // of EUR 499.00
  EXPECT_EQ(globex.credit().voucher_code(), "");
  // Named only by an alert: the incident's components.
  EXPECT_THAT(amends["umbrella"].component_ids(), ElementsAre("checkout"));
  EXPECT_THAT(amends["umbrella"].alert_labels(),
              ElementsAre("customer=Umbrella"));
  EXPECT_EQ(amends["umbrella"].credit().amount_cents(), 24990);
  const v1::Credit& voucher = amends["initech"].credit();
  EXPECT_EQ(voucher.percent(), 0);
  EXPECT_EQ(voucher.voucher_value(), "one month of Starter free");
  EXPECT_THAT(voucher.voucher_code(),
              ContainsRegex("^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$"));
  EXPECT_EQ(
      FromProtoTime(globex.ended_at()) - FromProtoTime(globex.started_at()),
      absl::Minutes(45));

  std::map<std::string, Outgoing> emails = Emails(apology);
  ASSERT_THAT(emails, SizeIs(3));
  // Grace's preferred name is Grace (the sample organisation).
  EXPECT_THAT(emails["globex"].subject,
              HasSubstr("Grace, we are sorry about the Checkout"));
  EXPECT_THAT(testing::OneLine(emails["globex"].text),
              AllOf(HasSubstr("Dear Grace,"), HasSubstr("lasted 45 minutes"),
                    HasSubstr("this time we let you down"),
                    HasSubstr("A bad deploy of the cart."),
                    HasSubstr("a credit of 10% of your monthly fee (EUR "
                              "49.90)"),
                    HasSubstr("Carol Nakamura Head of Customer Care")));
  EXPECT_THAT(testing::OneLine(emails["initech"].text),
              AllOf(HasSubstr("Dear Peter Gibbons,"),
                    HasSubstr("a voucher for one month of Starter free (code " +
                              voucher.voucher_code() + ")")));
  EXPECT_EQ(emails["globex"].reply_to, "care@acme.example");
  EXPECT_THAT(emails["umbrella"].html, HasSubstr("EUR 249.90"));
}

TEST_F(AftercareTest, ACreditAboveTheRotasAuthorityWaitsForAnAdmin) {
  // 2h30m: business and enterprise earn 25%; the rota allows 10%.
  const int64_t apology = ResolveAfter(absl::Minutes(150));
  absl::StatusOr<AmendsPage> before = h_.aftercare.ListAmends(incident_);
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->fixed);
  EXPECT_TRUE(before->needs_admin);
  EXPECT_EQ(before->authority_percent, 10);

  absl::StatusOr<Publication> refused =
      h_.workflow.Approve(CommsLead(), apology, 0, kAsWritten);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.status().message(),
              AllOf(HasSubstr("credit of 25%"),
                    HasSubstr("herald credits approve INC-1")));
  EXPECT_THAT(AmendsById(), IsEmpty()) << "nothing is fixed by a refusal";

  absl::StatusOr<CreditApproval> approved =
      h_.aftercare.ApproveCredits(Admin(), incident_);
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->approved_percent, 25);
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), apology, 0, kAsWritten).ok());
  EXPECT_EQ(AmendsById()["globex"].credit().percent(), 25);

  absl::StatusOr<AmendsPage> after = h_.aftercare.ListAmends(incident_);
  EXPECT_TRUE(after->fixed);
  EXPECT_FALSE(after->needs_admin);
  EXPECT_EQ(after->approved_by, "dave");
}

TEST_F(AftercareTest, CreditApprovalIsRefusedWhenThereIsNothingToApprove) {
  EXPECT_EQ(h_.aftercare.ApproveCredits(Admin(), incident_).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "still open";
  const int64_t apology = ResolveAfter(absl::Minutes(45));
  EXPECT_EQ(h_.aftercare.ApproveCredits(Admin(), incident_).status().code(),
            absl::StatusCode::kInvalidArgument)
      << "10% is within the authority";
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), apology, 0, kAsWritten).ok());
  EXPECT_EQ(h_.aftercare.ApproveCredits(Admin(), incident_).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "fixed at approval";
}

TEST_F(AftercareTest, PreviewShowsAFewCustomersOwnCopiesBeforeApproval) {
  const int64_t apology = ResolveAfter(absl::Minutes(45));
  absl::StatusOr<MessageDetail> got = h_.queries.GetMessage(apology);
  ASSERT_TRUE(got.ok()) << got.status();
  std::vector<std::string> emails;
  for (const v1::ChannelPreview& p : got->previews) {
    if (p.channel() == "email")
      emails.push_back(p.recipient() + "|" + p.body());
  }
  ASSERT_THAT(emails, SizeIs(3));
  EXPECT_THAT(
      emails[0],
      AllOf(HasSubstr("grace@globex.example (1 of 3, in en)"),
            HasSubstr("Dear Grace,"), HasSubstr("10% of your monthly fee")));
  EXPECT_THAT(emails[1], HasSubstr("Dear Peter Gibbons"));
  EXPECT_THAT(emails[2], HasSubstr("Dear Jill Valentine"));
  EXPECT_THAT(AmendsById(), IsEmpty()) << "a preview fixes nothing";
}

TEST_F(AftercareTest, TheFollowUpGoesOutTheConfiguredDaysAfterTheApproval) {
  const int64_t apology = ResolveAfter(absl::Minutes(45));
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), apology, 0, kAsWritten).ok());
  h_.clock.Advance(absl::Hours(7 * 24) - absl::Minutes(1));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_THAT(FollowUpMessages(), IsEmpty());

  h_.clock.Advance(absl::Minutes(1));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  std::vector<v1::Message> follow_ups = FollowUpMessages();
  ASSERT_THAT(follow_ups, SizeIs(1));
  EXPECT_EQ(follow_ups[0].approver_id(), "carol")
      << "approved with the apology";
  std::map<std::string, Outgoing> emails = Emails(follow_ups[0].id());
  ASSERT_THAT(emails, SizeIs(3));
  EXPECT_THAT(testing::OneLine(emails["globex"].text),
              AllOf(HasSubstr("Dear Grace,"),
                    HasSubstr("Does everything work for you now?"),
                    HasSubstr("/follow-up?token="),
                    HasSubstr("Has your credit (a credit of 10%")));
  EXPECT_THAT(emails["initech"].text, HasSubstr("Has your voucher"));
  // The job ran once: running again publishes nothing more.
  h_.clock.Advance(absl::Hours(24));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_THAT(FollowUpMessages(), SizeIs(1));
}

TEST_F(AftercareTest, ACustomerWhoUnsubscribedGetsNoFollowUp) {
  const int64_t apology = ResolveAfter(absl::Minutes(45));
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), apology, 0, kAsWritten).ok());
  ASSERT_TRUE(h_.subscribers.Remove(CommsLead(), "globex").ok());
  h_.clock.Advance(absl::Hours(7 * 24));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  ASSERT_THAT(FollowUpMessages(), SizeIs(1));
  std::map<std::string, Outgoing> emails = Emails(FollowUpMessages()[0].id());
  EXPECT_FALSE(emails.contains("globex"));
  EXPECT_THAT(emails, SizeIs(2));
}

TEST_F(AftercareTest, AWebhookCustomerGetsTheirAmendsAsData) {
  v1::Subscriber hooks;
  hooks.set_id("hooks");
  hooks.set_name("Hooks Inc");
  hooks.set_plan("business");
  hooks.add_component_ids("checkout");
  v1::Contact* c = hooks.add_contacts();
  c->set_channel(v1::CHANNEL_KIND_WEBHOOK);
  c->set_address("https://hooks.example/herald");
  c->add_signing_secrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(
      h_.store->Write([&](StoreTxn& t) { return t.PutSubscriber(hooks); })
          .ok());
  const int64_t apology = ResolveAfter(absl::Minutes(45));
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), apology, 0, kAsWritten).ok());
  const std::string event = Emails(apology)["hooks"].json;
  EXPECT_THAT(event,
              AllOf(HasSubstr("\"type\":\"incident.apology\""),
                    HasSubstr("\"amends\":{\"components\":[\"checkout\"]"),
                    HasSubstr("\"credit_percent\":10"),
                    HasSubstr("\"credit_amount_cents\":\"4990\""),
                    HasSubstr("\"ended_at\":\"2026-11-23T10:45:00Z\"")));
  h_.clock.Advance(absl::Hours(7 * 24));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  const std::string follow_up =
      Emails(FollowUpMessages()[0].id())["hooks"].json;
  EXPECT_THAT(follow_up, AllOf(HasSubstr("\"type\":\"incident.follow_up\""),
                               ContainsRegex("\"still_broken\":\"https://[^\"]*"
                                             "/follow-up\\?token=a\\.")));
}

TEST_F(AftercareTest, AnApologyWithNobodyAffectedSchedulesNoFollowUp) {
  for (const char* id : {"globex", "initech", "umbrella"}) {
    ASSERT_TRUE(h_.subscribers.Remove(CommsLead(), id).ok());
  }
  const int64_t apology = ResolveAfter(absl::Minutes(45));
  absl::StatusOr<Publication> published =
      h_.workflow.Approve(CommsLead(), apology, 0, kAsWritten);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->deliveries_enqueued, 0);
  h_.clock.Advance(absl::Hours(8 * 24));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_THAT(FollowUpMessages(), IsEmpty());
}

TEST_F(AftercareTest, WhatTheCustomerWritesReachesThePointPerson) {
  const int64_t apology = ResolveAfter(absl::Minutes(45));
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), apology, 0, kAsWritten).ok());
  const v1::Amends globex = AmendsById()["globex"];
  const std::string broken =
      h_.links.Answer(globex.id(), v1::FOLLOW_UP_ANSWER_STILL_BROKEN);
  // The email body the point person gets, newest last.
  const auto bodies = [&] {
    std::vector<std::string> out;
    for (const v1::Delivery& d : h_.StaffDeliveries(incident_)) {
      if (absl::StrContains(d.idempotency_key(), "-answer-")) {
        out.push_back(d.body());
      }
    }
    return out;
  };

  ASSERT_TRUE(h_.follow_ups
                  .RecordAnswer(broken,
                                "  Checkout still times out for our "
                                "EU shop.\r\nSince Tuesday.  ")
                  .ok());
  EXPECT_EQ(AmendsById()["globex"].answer_comment(),
            "Checkout still times out for our EU shop.\nSince Tuesday.");
  ASSERT_THAT(bodies(), SizeIs(1));
  EXPECT_THAT(bodies()[0], HasSubstr("They wrote:\n\nCheckout still times "
                                     "out for our EU shop.\nSince Tuesday."));
  // The console's timeline shows it too.
  bool in_timeline = false;
  const absl::StatusOr<IncidentDetail> detail =
      h_.queries.GetIncident(incident_);
  ASSERT_TRUE(detail.ok()) << detail.status();
  for (const v1::TimelineEvent& e : detail->timeline) {
    in_timeline |= absl::StrContains(e.text(), "Since Tuesday");
  }
  EXPECT_TRUE(in_timeline);

  // Something new tells them again; the same words do not.
  ASSERT_TRUE(h_.follow_ups.RecordAnswer(broken, "Now the API too.").ok());
  EXPECT_FALSE(h_.follow_ups.RecordAnswer(broken, "Now the API too.")->changed);
  EXPECT_THAT(bodies(), SizeIs(2));
  // Bounded: a leaked link cannot flood anyone's inbox.
  for (int i = 2; i < kMaxAnswerComments; ++i) {
    ASSERT_TRUE(
        h_.follow_ups.RecordAnswer(broken, absl::StrCat("more ", i)).ok());
  }
  absl::StatusOr<RecordedAnswer> past =
      h_.follow_ups.RecordAnswer(broken, "one more");
  ASSERT_TRUE(past.ok()) << past.status();
  EXPECT_FALSE(past->changed);
  EXPECT_THAT(bodies(), SizeIs(kMaxAnswerComments));
  // ...but a new answer past the limit still counts, and tells them.
  ASSERT_TRUE(
      h_.follow_ups
          .RecordAnswer(
              h_.links.Answer(globex.id(), v1::FOLLOW_UP_ANSWER_CREDIT_MISSING),
              "and no credit")
          .ok());
  EXPECT_EQ(AmendsById()["globex"].credit_answer(),
            v1::FOLLOW_UP_ANSWER_CREDIT_MISSING);
  EXPECT_THAT(bodies(), SizeIs(kMaxAnswerComments + 1));
  // Each answer is counted once, however many comments came with it.
  EXPECT_EQ(h_.metrics.FollowUpAnswers("still_broken").Value(), 1);

  // Bad text is refused with the field named; nothing is recorded.
  for (const std::string& bad :
       {std::string("bell\a"), std::string(kMaxAnswerCommentBytes + 1, 'x'),
        std::string("\xff\xfe"), std::string("evil \u202egnp.exe")}) {
    absl::Status st = h_.follow_ups.RecordAnswer(broken, bad).status();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(st.message()), HasSubstr("comment"));
  }
  // A good answer carries no text to anyone.
  ASSERT_TRUE(
      h_.follow_ups
          .RecordAnswer(h_.links.Answer(globex.id(),
                                        v1::FOLLOW_UP_ANSWER_CREDIT_RECEIVED),
                        "ignored")
          .ok());
  EXPECT_THAT(AmendsById()["globex"].answer_comment(),
              Not(HasSubstr("ignored")));
}

TEST_F(AftercareTest, AnAnswerIsRecordedAndAProblemTellsThePointPerson) {
  const int64_t apology = ResolveAfter(absl::Minutes(45));
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), apology, 0, kAsWritten).ok());
  const v1::Amends globex = AmendsById()["globex"];
  const std::string broken =
      h_.links.Answer(globex.id(), v1::FOLLOW_UP_ANSWER_STILL_BROKEN);

  absl::StatusOr<RecordedAnswer> peek = h_.follow_ups.CheckAnswer(broken);
  ASSERT_TRUE(peek.ok()) << peek.status();
  EXPECT_TRUE(peek->changed);
  EXPECT_EQ(AmendsById()["globex"].service_answer(),
            v1::FOLLOW_UP_ANSWER_UNSPECIFIED)
      << "checking records nothing";

  absl::StatusOr<RecordedAnswer> recorded = h_.follow_ups.RecordAnswer(broken);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_TRUE(recorded->changed);
  EXPECT_EQ(recorded->incident_ref, "INC-1");
  EXPECT_EQ(AmendsById()["globex"].service_answer(),
            v1::FOLLOW_UP_ANSWER_STILL_BROKEN);
  const std::string pp =
      h_.queries.GetIncident(incident_)->incident.point_person_id();
  EXPECT_THAT(StaffNotices("-answer-"),
              ElementsAre(AllOf(HasSubstr("person:" + pp),
                                HasSubstr("Globex answered the follow-up: "
                                          "still broken"))));

  // The same link again changes nothing and tells nobody twice.
  EXPECT_FALSE(h_.follow_ups.RecordAnswer(broken)->changed);
  EXPECT_THAT(StaffNotices("-answer-"), SizeIs(1));
  // A good answer is recorded without bothering anyone.
  ASSERT_TRUE(h_.follow_ups
                  .RecordAnswer(h_.links.Answer(
                      globex.id(), v1::FOLLOW_UP_ANSWER_CREDIT_RECEIVED))
                  .ok());
  EXPECT_EQ(AmendsById()["globex"].credit_answer(),
            v1::FOLLOW_UP_ANSWER_CREDIT_RECEIVED);
  EXPECT_THAT(StaffNotices("-answer-"), SizeIs(1));
  EXPECT_EQ(h_.metrics.FollowUpAnswers("still_broken").Value(), 1);

  std::string forged = broken;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(h_.follow_ups.RecordAnswer(forged).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h_.follow_ups.RecordAnswer(h_.links.Unsubscribe("globex"))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument)
      << "an unsubscribe token records no answer";
}

TEST_F(AftercareTest, AnUnapprovedApologyRemindsTheCommsLeadsThenTheBackup) {
  ResolveAfter(absl::Minutes(45));
  h_.clock.Advance(absl::Hours(2) - absl::Minutes(1));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_THAT(StaffNotices("-reminder-"), IsEmpty());

  h_.clock.Advance(absl::Minutes(1));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_THAT(StaffNotices("-reminder-1"),
              ElementsAre(AllOf(HasSubstr("person:carol"),
                                HasSubstr("has waited 2 hours for approval"))));

  h_.clock.Advance(absl::Hours(2));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  // The demo rota's backup is carol.
  EXPECT_THAT(StaffNotices("-reminder-2"),
              ElementsAre(AllOf(HasSubstr("person:carol"),
                                HasSubstr("has waited 4 hours"))));
}

TEST_F(AftercareTest, AnApprovedApologyRemindsNobody) {
  const int64_t apology = ResolveAfter(absl::Minutes(45));
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), apology, 0, kAsWritten).ok());
  h_.clock.Advance(absl::Hours(5));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_THAT(StaffNotices("-reminder-"), IsEmpty());
}

TEST_F(AftercareTest, APostmortemShowsPubliclyAndTheLettersLinkToIt) {
  // Public first: the resolution notice goes out.
  h_.clock.Advance(absl::Minutes(45));
  absl::StatusOr<Resolution> r =
      h_.workflow.Resolve(CommsLead(), incident_, "A bad deploy");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), r->drafts[0].id(), 0, kAsWritten).ok());

  EXPECT_EQ(h_.aftercare.AttachPostmortem(CommsLead(), incident_, "  ")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<v1::Incident> attached = h_.aftercare.AttachPostmortem(
      CommsLead(), incident_,
      "A deploy removed an index.\n\nWe now check query plans before "
      "deploys.");
  ASSERT_TRUE(attached.ok()) << attached.status();
  EXPECT_EQ(attached->postmortem().author_id(), "carol");

  StatusPage page(h_.deps);
  absl::StatusOr<v1::statuspage::Summary> history = page.History(10);
  ASSERT_TRUE(history.ok());
  ASSERT_THAT(history->incidents(), SizeIs(1));
  EXPECT_EQ(history->incidents(0).status(), "postmortem");
  EXPECT_THAT(history->incidents(0).postmortem_body(),
              HasSubstr("removed an index"));
  const PublicState state = *page.Read();
  EXPECT_THAT(*page.RenderIncidentPage(state, history->incidents(0)),
              AllOf(HasSubstr("Postmortem"),
                    HasSubstr("<p>We now check query plans before "
                              "deploys.</p>")));

  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), r->drafts[1].id(), 0, kAsWritten).ok());
  EXPECT_THAT(
      Emails(r->drafts[1].id())["globex"].text,
      HasSubstr("what we are "
                "changing:\nhttps://status.acme.example/incidents/INC-1"));
}

TEST_F(AftercareTest, APostmortemNeedsAResolvedPublicIncident) {
  EXPECT_EQ(h_.aftercare.AttachPostmortem(CommsLead(), incident_, "text")
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition)
      << "still open";
  ResolveAfter(absl::Minutes(5));
  absl::Status internal =
      h_.aftercare.AttachPostmortem(CommsLead(), incident_, "text").status();
  EXPECT_EQ(internal.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(internal.message(), HasSubstr("never public"));
}

}  // namespace
}  // namespace herald
