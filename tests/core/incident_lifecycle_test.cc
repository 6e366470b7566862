#include "tests/core/incident_lifecycle_fixture.h"

namespace herald {
namespace lifecycle_testing {

TEST_F(IncidentLifecycleTest, OpeningMakesAnOpenInternalIncidentWithADraft) {
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  const v1::Incident i = Get(id);
  EXPECT_TRUE(ListedOpen(id));
  EXPECT_EQ(i.status(), v1::INCIDENT_STATUS_INVESTIGATING);
  EXPECT_FALSE(i.customer_visible());
  OnlyWaiting(id, v1::MESSAGE_KIND_STATUS_UPDATE);
  EXPECT_FALSE(Public(i).has_value());
  EXPECT_EQ(page_.Summary()->status().indicator(), "none");
}

TEST_F(IncidentLifecycleTest, AttachingAGroupOnTheSameComponentsJoinsIt) {
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  absl::StatusOr<IntakeResult> other =
      h_.intake.Ingest(FiringGroup("g2", "checkout", {"fp2"}));
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->attached);
  EXPECT_EQ(other->incident_id, id);
  EXPECT_THAT(Get(id).attached_group_keys(), ::testing::ElementsAre("g2"));
  EXPECT_THAT(h_.queries.ListIncidents(true)->items, SizeIs(1));
}

TEST_F(IncidentLifecycleTest, PublishingSetsThePublicNameAndStatusFromTheText) {
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  const v1::Message draft =
      h_.workflow
          .PostUpdate(Engineer(), id, "found the bad deploy",
                      {.status_hint = v1::INCIDENT_STATUS_IDENTIFIED})
          ->draft;
  for (const v1::Message& m : Waiting(id)) {
    if (m.id() != draft.id()) continue;
    ASSERT_TRUE(
        h_.workflow
            .Edit(CommsLead(), m.id(), 0, "Checkout payments failing", "")
            .ok());
  }
  EXPECT_FALSE(Public(Get(id)).has_value());
  Approve(OnlyWaiting(id, v1::MESSAGE_KIND_STATUS_UPDATE));
  const std::optional<sp::Incident> shown = Public(Get(id));
  ASSERT_TRUE(shown.has_value());
  EXPECT_EQ(shown->name(), "Checkout payments failing");
  EXPECT_NE(shown->name(), Get(id).title());  // the alert's summary
  EXPECT_EQ(shown->status(), "identified");
  EXPECT_EQ(page_.Summary()->status().indicator(), "critical");
}

TEST_F(IncidentLifecycleTest, ResolvingIsInternalUntilTheResolutionIsApproved) {
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  Approve(OnlyWaiting(id, v1::MESSAGE_KIND_STATUS_UPDATE));
  ASSERT_TRUE(h_.workflow.Resolve(Engineer(), id, "fixed").ok());
  EXPECT_FALSE(ListedOpen(id));
  EXPECT_EQ(Get(id).status(), v1::INCIDENT_STATUS_RESOLVED);
  // Customers were not told yet.
  std::optional<sp::Incident> shown = Public(Get(id));
  ASSERT_TRUE(shown.has_value());
  EXPECT_EQ(shown->status(), "investigating");
  EXPECT_EQ(shown->resolved_at(), "");
  EXPECT_TRUE(OnSummary(Get(id)));

  Approve(OnlyWaiting(id, v1::MESSAGE_KIND_RESOLUTION));
  shown = Public(Get(id));
  EXPECT_EQ(shown->status(), "resolved");
  EXPECT_EQ(shown->resolved_at(), FormatUtc(h_.clock.Now()));
  EXPECT_FALSE(OnSummary(Get(id)));
  EXPECT_EQ(page_.Summary()->status().indicator(), "none");
}

TEST_F(IncidentLifecycleTest, AReopenedIncidentIsOpenEverywhereInside) {
  const int64_t id = OpenPublishResolve();
  h_.clock.Advance(absl::Minutes(30));  // within intake.reopen_window
  absl::StatusOr<IntakeResult> again = h_.intake.Ingest(kGroup);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->reopened);

  const v1::Incident i = Get(id);
  EXPECT_FALSE(i.has_resolved_at());
  EXPECT_EQ(i.status(), v1::INCIDENT_STATUS_INVESTIGATING);
  EXPECT_TRUE(ListedOpen(id));
  // New groups on its components join it.
  EXPECT_EQ(
      h_.intake.Ingest(FiringGroup("g2", "checkout", {"fp2"}))->incident_id,
      id);
  // The comms lead has a draft saying the problem is back, in the inbox.
  const v1::Message back = OnlyWaiting(id, v1::MESSAGE_KIND_STATUS_UPDATE);
  EXPECT_EQ(back.incident_status(), v1::INCIDENT_STATUS_INVESTIGATING);
  EXPECT_THAT(back.title(), HasSubstr("is back"));
  EXPECT_THAT(back.body(), HasSubstr("30 minutes after we reported it"));
  bool in_inbox = false;
  for (const v1::InboxItem& item : Ok(h_.queries.Inbox())) {
    in_inbox |= item.message().id() == back.id();
  }
  EXPECT_TRUE(in_inbox);
  EXPECT_GE(Notices(id, "waiting", "carol"), 1);
  // Engineers post updates to it and the point person acknowledges it.
  EXPECT_TRUE(h_.workflow.PostUpdate(Engineer(), id, "looking again").ok());
  EXPECT_TRUE(h_.escalator.Acknowledge(CommsLead(), id).ok());
}

TEST_F(IncidentLifecycleTest, AReopenedIncidentGoesPublicOnlyWithItsApproval) {
  const int64_t id = OpenPublishResolve();
  const std::string resolved_name = Public(Get(id))->name();
  h_.clock.Advance(absl::Minutes(30));
  ASSERT_TRUE(h_.intake.Ingest(kGroup)->reopened);

  // Customers still see what they were last told.
  std::optional<sp::Incident> shown = Public(Get(id));
  EXPECT_EQ(shown->status(), "resolved");
  EXPECT_EQ(shown->name(), resolved_name);
  EXPECT_FALSE(OnSummary(Get(id)));

  const v1::Message back = OnlyWaiting(id, v1::MESSAGE_KIND_STATUS_UPDATE);
  Approve(back);
  shown = Public(Get(id));
  EXPECT_EQ(shown->status(), "investigating");
  EXPECT_EQ(shown->name(), back.title());
  EXPECT_EQ(shown->resolved_at(), "");
  EXPECT_TRUE(OnSummary(Get(id)));
  EXPECT_EQ(page_.Summary()->status().indicator(), "critical");
  const auto got3 = Ok(page_.Summary());
  for (const sp::Component& c : got3.components()) {
    if (c.id() == "checkout") EXPECT_EQ(c.status(), "major_outage");
  }
}

TEST_F(IncidentLifecycleTest, AReopenedIncidentEscalatesAgain) {
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  h_.clock.Advance(absl::Minutes(15));
  ASSERT_EQ(*h_.jobs.RunDueJobs(), 1);  // nobody acknowledged: the backup
  ASSERT_EQ(Notices(id, "", "carol") - Notices(id, "waiting", "carol"), 1);
  ASSERT_TRUE(h_.intake.Ingest(Resolved(kGroup)).ok());
  ASSERT_TRUE(h_.workflow.Resolve(Engineer(), id, "").ok());
  h_.clock.Advance(absl::Minutes(10));
  ASSERT_TRUE(h_.intake.Ingest(kGroup)->reopened);
  EXPECT_EQ(Get(id).escalation_level(), 0);
  h_.clock.Advance(absl::Minutes(15));
  h_.jobs.RunDueJobs().IgnoreError();
  EXPECT_EQ(Get(id).escalation_level(), 1);
  EXPECT_EQ(Notices(id, "", "carol") - Notices(id, "waiting", "carol"), 2);
}

TEST_F(IncidentLifecycleTest, AReopenedIncidentRunsTheUpdateCadenceAgain) {
  const int64_t id = OpenPublishResolve();
  h_.clock.Advance(absl::Minutes(40));
  ASSERT_TRUE(h_.intake.Ingest(kGroup)->reopened);
  const std::string pp = Get(id).point_person_id();
  EXPECT_EQ(Notices(id, "due an update", pp), 0);
  // Critical: a 30 minute cadence, counted from the reopening.
  bool overdue = true;
  for (const v1::InboxItem& item : Ok(h_.queries.Inbox())) {
    if (item.incident_ref() == Get(id).ref()) overdue = item.update_overdue();
  }
  EXPECT_FALSE(overdue);
  h_.clock.Advance(absl::Minutes(30));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_EQ(Notices(id, "due an update", pp), 1);
}

TEST_F(IncidentLifecycleTest, ReopenedBeforeTheResolutionWasApproved) {
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  Approve(OnlyWaiting(id, v1::MESSAGE_KIND_STATUS_UPDATE));
  ASSERT_TRUE(h_.workflow.Resolve(Engineer(), id, "").ok());
  h_.clock.Advance(absl::Minutes(5));
  ASSERT_TRUE(h_.intake.Ingest(kGroup)->reopened);
  // The resolution and apology drafts are withdrawn; customers never heard
  // of a resolution, so the new draft is a plain investigating update.
  const std::vector<v1::Message> waiting = Waiting(id);
  ASSERT_THAT(waiting, SizeIs(1));
  EXPECT_EQ(waiting[0].kind(), v1::MESSAGE_KIND_STATUS_UPDATE);
  EXPECT_THAT(waiting[0].title(), Not(HasSubstr("is back")));
  EXPECT_EQ(Public(Get(id))->status(), "investigating");
}

TEST_F(IncidentLifecycleTest, ResolvingAgainWithdrawsTheReopenedDraft) {
  const int64_t id = OpenPublishResolve();
  h_.clock.Advance(absl::Minutes(30));
  ASSERT_TRUE(h_.intake.Ingest(kGroup)->reopened);
  ASSERT_TRUE(h_.workflow.Resolve(Engineer(), id, "really fixed").ok());
  EXPECT_FALSE(ListedOpen(id));
  EXPECT_EQ(Get(id).status(), v1::INCIDENT_STATUS_RESOLVED);
  for (const v1::Message& m : Waiting(id)) {
    EXPECT_NE(m.kind(), v1::MESSAGE_KIND_STATUS_UPDATE) << m.title();
  }
  Approve(OnlyWaiting(id, v1::MESSAGE_KIND_RESOLUTION));
  EXPECT_EQ(Public(Get(id))->status(), "resolved");
  EXPECT_EQ(Get(id).reopened_count(), 1);
}

TEST_F(IncidentLifecycleTest, AfterTheReopenWindowANewIncidentOpens) {
  const int64_t id = OpenPublishResolve();
  h_.clock.Advance(absl::Hours(2));
  absl::StatusOr<IntakeResult> again = h_.intake.Ingest(kGroup);
  EXPECT_TRUE(again->opened);
  EXPECT_NE(again->incident_id, id);
  EXPECT_FALSE(ListedOpen(id));
}

TEST_F(IncidentLifecycleTest,
       MaintenanceIsPublicOnlyOnceAnnouncedAndNeverGrows) {
  const absl::Time now = h_.clock.Now();
  absl::StatusOr<ScheduledMaintenance> m =
      h_.maintenance.Schedule(Engineer(), {{"checkout"},
                                           now + absl::Hours(1),
                                           now + absl::Hours(2),
                                           "database upgrade",
                                           "Checkout database upgrade"});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(page_.Summary()->scheduled_maintenances(), IsEmpty());
  Approve(m->draft);
  ASSERT_THAT(page_.Summary()->scheduled_maintenances(), SizeIs(1));
  EXPECT_EQ(page_.Summary()->scheduled_maintenances(0).status(), "scheduled");
  EXPECT_EQ(page_.Summary()->scheduled_maintenances(0).name(),
            m->draft.title());
  // An alert on the same component is an incident of its own.
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  EXPECT_NE(id, m->incident.id());
  h_.clock.Advance(absl::Hours(1));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_EQ(page_.Summary()->scheduled_maintenances(0).status(), "in_progress");
}

// --- Random sequences ------------------------------------------------------

}  // namespace lifecycle_testing
}  // namespace herald
