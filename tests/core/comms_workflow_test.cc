#include "server/core/comms/comms_workflow.h"

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/comms/message_drafter.h"
#include "server/core/incidents/public_incident.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using ::testing::AllOf;
using testing::CommsLead;
using testing::CoreHarness;
using ::testing::ElementsAre;
using testing::Engineer;
using testing::FiringGroup;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class CommsWorkflowTest : public ::testing::Test {
 protected:
  int64_t OpenIncident() {
    return h_.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))
        ->incident_id;
  }
  std::vector<v1::Delivery> Deliveries(int64_t message_id) {
    return h_.Read<std::vector<v1::Delivery>>(
        [&](StoreReader& r) { return r.ListDeliveries(message_id, 0); });
  }

  CoreHarness h_;
};

TEST_F(CommsWorkflowTest, UpdateIsStoredAndDraftsAStatusMessageFromTheNote) {
  const int64_t id = OpenIncident();
  absl::StatusOr<PostedUpdate> p =
      h_.workflow.PostUpdate(Engineer(), id, "rolled back, errors falling",
                             {v1::INCIDENT_STATUS_IDENTIFIED});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->update.author_id(), "alice");
  EXPECT_EQ(p->draft.state(), v1::MESSAGE_STATE_DRAFT);
  EXPECT_EQ(p->draft.kind(), v1::MESSAGE_KIND_STATUS_UPDATE);
  EXPECT_EQ(p->draft.incident_status(), v1::INCIDENT_STATUS_IDENTIFIED);
  EXPECT_THAT(p->draft.body(), HasSubstr("Rolled back, errors falling."));
  EXPECT_THAT(p->draft.body(), HasSubstr("identified the cause"));
  EXPECT_THAT(p->draft.title(), HasSubstr("Checkout"));
  EXPECT_THAT(h_.queries.GetIncident(id)->updates, SizeIs(1));
}

TEST_F(CommsWorkflowTest,
       PublishingAnEngineersWordsUneditedIsAnExplicitChoice) {
  const int64_t id = OpenIncident();
  const v1::Message draft =
      h_.workflow
          .PostUpdate(Engineer(), id, "rolled back, errors falling",
                      {v1::INCIDENT_STATUS_IDENTIFIED})
          ->draft;
  EXPECT_THAT(draft.engineer_words(),
              ElementsAre("Rolled back, errors falling."));
  EXPECT_THAT(UneditedEngineerWords(draft),
              ElementsAre("Rolled back, errors falling."));

  absl::Status refused =
      h_.workflow.Approve(CommsLead(), draft.id(), 0).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()),
              AllOf(HasSubstr("Rolled back, errors falling."),
                    HasSubstr("--as-written")));
  EXPECT_EQ(h_.Read<v1::Message>([&](StoreReader& r) {
                return r.GetMessage(draft.id());
              }).state(),
            v1::MESSAGE_STATE_DRAFT);

  // Reworded by the point person: approving needs no choice.
  const v1::Message crafted =
      *h_.workflow.Edit(testing::Comms(), draft.id(), 1, "",
                        "We rolled back a faulty release; errors are falling.");
  EXPECT_THAT(UneditedEngineerWords(crafted), IsEmpty());
  EXPECT_TRUE(h_.workflow.Approve(CommsLead(), draft.id(), 0).ok());

  // Chosen explicitly, and the audit log says so.
  const v1::Message next =
      h_.workflow.PostUpdate(Engineer(), id, "cache warmed")->draft;
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), next.id(), 0, kAsWritten).ok());
  bool audited = false;
  for (const v1::AuditEntry& e : h_.Read<std::vector<v1::AuditEntry>>(
           [&](StoreReader& r) { return r.ListAudit(id); })) {
    audited |= e.message_id() == next.id() && e.action() == "approved" &&
               absl::StrContains(e.detail(), "Cache warmed.");
  }
  EXPECT_TRUE(audited);
}

TEST_F(CommsWorkflowTest, ABurstOfUpdatesTellsTheCommsLeadOnce) {
  const int64_t id = OpenIncident();
  const auto notices = [&] {
    int n = 0;
    for (const v1::Delivery& d : h_.StaffDeliveries(id, true)) {
      if (d.recipient() == "person:carol" &&
          d.subject().find("waiting for your approval") != std::string::npos) {
        ++n;
      }
    }
    return n;
  };
  const int at_open = notices();  // the first "investigating" draft
  ASSERT_EQ(at_open, 1);
  v1::Message latest;
  for (const char* note : {"looking", "found it", "rolling back"}) {
    latest = h_.workflow.PostUpdate(Engineer(), id, note)->draft;
  }
  EXPECT_EQ(notices(), 1) << "the drafts replaced one nobody had decided on";

  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), latest.id(), 0, kAsWritten).ok());
  latest = h_.workflow.PostUpdate(Engineer(), id, "errors falling")->draft;
  EXPECT_EQ(notices(), 2) << "after a decision, a new draft is news";

  ASSERT_TRUE(
      h_.workflow.Reject(CommsLead(), latest.id(), 0, "too vague").ok());
  ASSERT_TRUE(h_.workflow.PostUpdate(Engineer(), id, "errors at zero").ok());
  EXPECT_EQ(notices(), 3) << "a rejection is a decision too";
}

TEST_F(CommsWorkflowTest, EachStateDraftsFromItsOwnTemplates) {
  const int64_t id = OpenIncident();
  const auto draft = [&](v1::IncidentStatus status) {
    return h_.workflow.PostUpdate(Engineer(), id, "x", {status})->draft;
  };
  EXPECT_EQ(draft(v1::INCIDENT_STATUS_IDENTIFIED).title(),
            "Checkout disruption: cause identified");
  EXPECT_EQ(draft(v1::INCIDENT_STATUS_MONITORING).title(),
            "Checkout disruption: fix in place");
}

TEST_F(CommsWorkflowTest, NewUpdateSupersedesThePendingDraft) {
  const int64_t id = OpenIncident();
  const v1::Message first = h_.workflow
                                .PostUpdate(Engineer(), id, "looking",
                                            {v1::INCIDENT_STATUS_UNSPECIFIED})
                                ->draft;
  const v1::Message second = h_.workflow
                                 .PostUpdate(Engineer(), id, "found it",
                                             {v1::INCIDENT_STATUS_UNSPECIFIED})
                                 ->draft;
  std::vector<v1::Message> pending = h_.queries.ListMessages(id, {})->items;
  ASSERT_THAT(pending, SizeIs(1));
  EXPECT_EQ(pending[0].id(), second.id());
  EXPECT_EQ(h_.workflow.Approve(CommsLead(), first.id(), 0, kAsWritten)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CommsWorkflowTest, OverlongUpdateIsRefusedWithTheLimit) {
  const int64_t id = OpenIncident();
  absl::Status s =
      h_.workflow
          .PostUpdate(Engineer(), id,
                      std::string(kDefaultMaxUpdateLength + 1, 'x'),
                      {v1::INCIDENT_STATUS_UNSPECIFIED})
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("500"));
}

TEST_F(CommsWorkflowTest, EmptyUpdateIsRefused) {
  const int64_t id = OpenIncident();
  EXPECT_EQ(
      h_.workflow
          .PostUpdate(Engineer(), id, "   ", {v1::INCIDENT_STATUS_UNSPECIFIED})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(CommsWorkflowTest, UpdateToUnknownIncidentIsNotFound) {
  EXPECT_EQ(
      h_.workflow
          .PostUpdate(Engineer(), 999, "x", {v1::INCIDENT_STATUS_UNSPECIFIED})
          .status()
          .code(),
      absl::StatusCode::kNotFound);
}

TEST_F(CommsWorkflowTest,
       ApprovalPublishesSetsStatusesAndQueuesOneEmailPerSubscriber) {
  const int64_t id = OpenIncident();
  const v1::Message draft = h_.workflow
                                .PostUpdate(Engineer(), id, "rolled back",
                                            {v1::INCIDENT_STATUS_IDENTIFIED})
                                ->draft;
  absl::StatusOr<Publication> pub =
      h_.workflow.Approve(CommsLead(), draft.id(), draft.version(), kAsWritten);
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(pub->message.state(), v1::MESSAGE_STATE_PUBLISHED);
  EXPECT_EQ(pub->message.approver_id(), "carol");
  const v1::Incident i = h_.queries.GetIncident(id)->incident;
  EXPECT_TRUE(i.customer_visible());
  EXPECT_EQ(i.status(), v1::INCIDENT_STATUS_IDENTIFIED);
  // Demo subscribers of checkout: globex and initech.
  std::vector<v1::Delivery> d = Deliveries(draft.id());
  ASSERT_THAT(d, SizeIs(2));
  EXPECT_EQ(pub->deliveries_enqueued, 2);
  const Outgoing grace = h_.Compose(d[0]);
  EXPECT_EQ(grace.address, "grace@globex.example");
  EXPECT_THAT(grace.text, HasSubstr("Hello Grace,"));  // her preferred name
  EXPECT_THAT(grace.text, HasSubstr("Rolled back"));
  EXPECT_EQ(d[0].state(), v1::DELIVERY_STATE_QUEUED);
  EXPECT_EQ(h_.metrics.messages_published.Value(), 1);
}

TEST_F(CommsWorkflowTest, ApprovingTwiceIsRefusedAndQueuesNothingMore) {
  const int64_t id = OpenIncident();
  const v1::Message draft =
      h_.workflow
          .PostUpdate(Engineer(), id, "x", {v1::INCIDENT_STATUS_UNSPECIFIED})
          ->draft;
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), draft.id(), 0, kAsWritten).ok());
  EXPECT_EQ(h_.workflow.Approve(CommsLead(), draft.id(), 0, kAsWritten)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Deliveries(draft.id()), SizeIs(2));
}

TEST_F(CommsWorkflowTest, ApprovingAStaleVersionIsAborted) {
  const int64_t id = OpenIncident();
  const v1::Message draft =
      h_.workflow
          .PostUpdate(Engineer(), id, "x", {v1::INCIDENT_STATUS_UNSPECIFIED})
          ->draft;
  absl::Status s =
      h_.workflow
          .Approve(CommsLead(), draft.id(), draft.version() + 1, kAsWritten)
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("version"));
}

TEST_F(CommsWorkflowTest,
       ResolveDraftsResolutionAndPersonalApologyWithDuration) {
  const int64_t id = OpenIncident();
  h_.clock.Advance(absl::Minutes(95));
  absl::StatusOr<Resolution> r =
      h_.workflow.Resolve(Engineer(), id, "A bad deploy; rolled back.");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->incident.has_resolved_at());
  ASSERT_THAT(r->drafts, SizeIs(2));
  EXPECT_EQ(r->drafts[0].kind(), v1::MESSAGE_KIND_RESOLUTION);
  // Times and durations are in each reader's copy, not the approved words.
  EXPECT_THAT(r->drafts[0].body(), HasSubstr("has been resolved"));
  EXPECT_EQ(r->drafts[1].kind(), v1::MESSAGE_KIND_APOLOGY);
  EXPECT_EQ(r->drafts[1].audience(), v1::AUDIENCE_AFFECTED_CUSTOMERS);

  const v1::Message& apology = r->drafts[1];
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), apology.id(), 0, kAsWritten).ok());
  std::vector<v1::Delivery> d = Deliveries(apology.id());
  ASSERT_THAT(d, SizeIs(2));
  const Outgoing peter = h_.Compose(d[1]);
  EXPECT_THAT(peter.subject, HasSubstr("Peter Gibbons"));
  EXPECT_THAT(peter.text, HasSubstr("Dear Peter Gibbons"));
  EXPECT_THAT(peter.text, HasSubstr("Checkout"));
  EXPECT_THAT(testing::OneLine(peter.text), HasSubstr("1 hour and 35 minutes"));
  EXPECT_THAT(peter.text, HasSubstr("A bad deploy; rolled back."));
}

TEST_F(CommsWorkflowTest,
       CustomerStatusTurnsResolvedOnlyWhenTheResolutionIsPublished) {
  const int64_t id = OpenIncident();
  const auto customer_status = [&] {
    const IncidentDetail got = *h_.queries.GetIncident(id);
    return PublicView(got.incident, {got.messages.begin(), got.messages.end()})
        .status;
  };
  const Resolution r = *h_.workflow.Resolve(Engineer(), id, "");
  // Resolved inside at once; customers keep what they were last told.
  EXPECT_EQ(h_.queries.GetIncident(id)->incident.status(),
            v1::INCIDENT_STATUS_RESOLVED);
  EXPECT_NE(customer_status(), v1::INCIDENT_STATUS_RESOLVED);
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), r.drafts[0].id(), 0, kAsWritten).ok());
  EXPECT_EQ(customer_status(), v1::INCIDENT_STATUS_RESOLVED);
}

TEST_F(CommsWorkflowTest, ResolvedIncidentTakesNoUpdatesAndCannotResolveAgain) {
  const int64_t id = OpenIncident();
  ASSERT_TRUE(h_.workflow.Resolve(Engineer(), id, "").ok());
  EXPECT_EQ(
      h_.workflow
          .PostUpdate(Engineer(), id, "x", {v1::INCIDENT_STATUS_UNSPECIFIED})
          .status()
          .code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(h_.workflow.Resolve(Engineer(), id, "").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// A rota whose point person may publish status updates alone.
v1::Config ConfigWithAuthority() {
  v1::Config c = DefaultConfig();
  c.mutable_rotas(0)->mutable_authority()->add_approve_kinds(
      v1::MESSAGE_KIND_STATUS_UPDATE);
  return c;
}

class AuthorityScopeTest : public ::testing::Test {
 protected:
  AuthorityScopeTest() {
    incident_ =
        h_.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
    point_person_ = {h_.org->rotas()
                         .ForComponent("checkout", h_.clock.Now())
                         ->point_person_id(),
                     {v1::ROLE_COMMS}};
  }

  CoreHarness h_{NewMemoryStore(), ConfigWithAuthority()};
  CommsWorkflow* const workflow_ = &h_.workflow;
  int64_t incident_ = 0;
  Caller point_person_;
};

TEST_F(AuthorityScopeTest, PointPersonApprovesKindsInTheirScopeAlone) {
  const v1::Message draft = workflow_
                                ->PostUpdate(Engineer(), incident_, "x",
                                             {v1::INCIDENT_STATUS_UNSPECIFIED})
                                ->draft;
  absl::StatusOr<Publication> p =
      workflow_->Approve(point_person_, draft.id(), 0, kAsWritten);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->message.approver_id(), point_person_.person_id);
}

TEST_F(AuthorityScopeTest, KindsOutsideTheScopeNeedACommsLead) {
  const Resolution r = *workflow_->Resolve(Engineer(), incident_, "fixed");
  const v1::Message& apology = r.drafts[1];
  absl::Status s =
      workflow_->Approve(point_person_, apology.id(), 0, kAsWritten).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("apology"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("status_update"));
  EXPECT_TRUE(
      workflow_->Approve(testing::CommsLead(), apology.id(), 0, kAsWritten)
          .ok());
}

TEST_F(AuthorityScopeTest, ACommsMemberWhoIsNotThePointPersonCannotApprove) {
  const v1::Message draft = workflow_
                                ->PostUpdate(Engineer(), incident_, "x",
                                             {v1::INCIDENT_STATUS_UNSPECIFIED})
                                ->draft;
  const Caller other{point_person_.person_id == "bob" ? "erin" : "bob",
                     {v1::ROLE_COMMS}};
  absl::Status s =
      workflow_->Approve(other, draft.id(), 0, kAsWritten).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("not INC-1's point person"));
}

TEST(DefaultAuthorityTest, WithoutAScopeOnlyCommsLeadsApprove) {
  CoreHarness h;
  const int64_t id =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  const v1::Message draft =
      h.workflow
          .PostUpdate(Engineer(), id, "x", {v1::INCIDENT_STATUS_UNSPECIFIED})
          ->draft;
  const std::string pp = h.queries.GetIncident(id)->incident.point_person_id();
  EXPECT_EQ(
      h.workflow.Approve({pp, {v1::ROLE_COMMS}}, draft.id(), 0).status().code(),
      absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace herald
