// Scheduled maintenance, driven by a fake clock: announced through the
// approval path, components under_maintenance for the window and restored
// after it, and cancellation.
#include "server/core/comms/maintenance_scheduler.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/statuspage/status_page.h"
#include "server/store/memory_store.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using testing::CommsLead;
using testing::CoreHarness;
using testing::Engineer;
using testing::FiringGroup;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class MaintenanceTest : public ::testing::Test {
 protected:
  MaintenanceTest() : page_(h_.deps) {}

  // Checkout maintenance from 2h to 4h from now.
  MaintenanceRequest Checkout() {
    const absl::Time now = h_.clock.Now();
    return {{"checkout"},
            now + absl::Hours(2),
            now + absl::Hours(4),
            "database upgrade; checkout may be slow",
            ""};
  }

  ScheduledMaintenance Schedule() {
    absl::StatusOr<ScheduledMaintenance> m =
        h_.maintenance.Schedule(Engineer(), Checkout());
    if (!m.ok()) ADD_FAILURE() << m.status();
    return *std::move(m);
  }

  std::string CheckoutStatus() {
    const v1::statuspage::Summary summary = *page_.Summary();
    for (const auto& c : summary.components()) {
      if (c.id() == "checkout") return c.status();
    }
    return "missing";
  }

  void AdvanceTo(absl::Duration from_start) {
    h_.clock.Advance(from_start);
    ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  }

  // An alert on checkout opens an incident whose first update is published,
  // which sets checkout's public status from the incident's impact.
  void PublishCheckoutOutage() {
    const int64_t outage =
        h_.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
    const v1::Message draft =
        h_.workflow.PostUpdate(Engineer(), outage, "looking")->draft;
    ASSERT_TRUE(
        h_.workflow.Approve(CommsLead(), draft.id(), 0, kAsWritten).ok());
  }

  v1::Incident Incident(int64_t id) {
    return h_.queries.GetIncident(id)->incident;
  }

  CoreHarness h_;
  StatusPage page_;
};

TEST_F(MaintenanceTest, SchedulingDraftsAnAnnouncementAndPublishesNothing) {
  const ScheduledMaintenance m = Schedule();
  EXPECT_EQ(m.incident.status(), v1::INCIDENT_STATUS_SCHEDULED);
  EXPECT_FALSE(m.incident.customer_visible());
  EXPECT_EQ(m.incident.title(), "Scheduled maintenance: Checkout");
  EXPECT_EQ(m.draft.kind(), v1::MESSAGE_KIND_MAINTENANCE);
  EXPECT_EQ(m.draft.state(), v1::MESSAGE_STATE_DRAFT);
  // The window is not in the approved words: each reader's copy gives it
  // in their own time zone (the status page, in the organisation's).
  EXPECT_THAT(m.draft.body(), ::testing::Not(HasSubstr("2026")));
  EXPECT_THAT(m.draft.body(), HasSubstr("Database upgrade; checkout may be"));
  EXPECT_THAT(m.draft.component_statuses(), IsEmpty());
  EXPECT_THAT(page_.Summary()->scheduled_maintenances(), IsEmpty());
  const auto notices = h_.StaffDeliveries(m.incident.id(), true);
  ASSERT_THAT(notices, SizeIs(1));
  EXPECT_EQ(notices[0].recipient(), "person:carol");
}

TEST_F(MaintenanceTest,
       ApprovedAnnouncementIsOnThePageAndEmailedToSubscribers) {
  const ScheduledMaintenance m = Schedule();
  absl::StatusOr<Publication> p =
      h_.workflow.Approve(CommsLead(), m.draft.id(), 0, kAsWritten);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->deliveries_enqueued, 2);  // globex and initech use checkout

  const auto summary = *page_.Summary();
  EXPECT_THAT(summary.incidents(), IsEmpty());
  ASSERT_THAT(summary.scheduled_maintenances(), SizeIs(1));
  const auto& shown = summary.scheduled_maintenances(0);
  EXPECT_EQ(shown.status(), "scheduled");
  EXPECT_EQ(shown.impact(), "maintenance");
  EXPECT_EQ(shown.scheduled_for(), "2026-11-23T12:00:00Z");
  EXPECT_EQ(shown.scheduled_until(), "2026-11-23T14:00:00Z");
  ASSERT_THAT(shown.incident_updates(), SizeIs(1));
  EXPECT_EQ(shown.incident_updates(0).body(), m.draft.body());
  // Announcing changes no component: the window does.
  EXPECT_EQ(CheckoutStatus(), "operational");
  EXPECT_EQ(summary.status().indicator(), "none");

  const auto emails = h_.Read<std::vector<v1::Delivery>>(
      [&](StoreReader& r) { return r.ListDeliveries(m.draft.id(), 0); });
  ASSERT_THAT(emails, SizeIs(2));
  const Outgoing first = h_.Compose(emails[0]);
  EXPECT_THAT(first.subject, HasSubstr("Scheduled maintenance"));
  EXPECT_THAT(first.html, HasSubstr("<!DOCTYPE html>"));
}

TEST_F(MaintenanceTest, WindowPutsComponentsUnderMaintenanceThenRestoresThem) {
  const ScheduledMaintenance m = Schedule();
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), m.draft.id(), 0, kAsWritten).ok());

  AdvanceTo(absl::Hours(2) - absl::Seconds(1));
  EXPECT_EQ(CheckoutStatus(), "operational");
  AdvanceTo(absl::Seconds(1));
  EXPECT_EQ(CheckoutStatus(), "under_maintenance");
  EXPECT_EQ(Incident(m.incident.id()).status(),
            v1::INCIDENT_STATUS_IN_PROGRESS);
  EXPECT_EQ(page_.Summary()->status().indicator(), "maintenance");

  AdvanceTo(absl::Hours(2));
  EXPECT_EQ(CheckoutStatus(), "operational");
  const v1::Incident done = Incident(m.incident.id());
  EXPECT_EQ(done.status(), v1::INCIDENT_STATUS_COMPLETED);
  EXPECT_TRUE(done.has_resolved_at());
  EXPECT_THAT(page_.Summary()->scheduled_maintenances(), IsEmpty());
}

TEST_F(MaintenanceTest, WindowStartsEvenBeforeTheAnnouncementIsApproved) {
  const ScheduledMaintenance m = Schedule();
  AdvanceTo(absl::Hours(2));
  // The component really is under maintenance; only the words wait.
  EXPECT_EQ(CheckoutStatus(), "under_maintenance");
  EXPECT_THAT(page_.Summary()->scheduled_maintenances(), IsEmpty());
}

TEST_F(MaintenanceTest, EndRestoresTheStatusFromBeforeTheWindow) {
  PublishCheckoutOutage();
  const std::string during_outage = CheckoutStatus();
  ASSERT_NE(during_outage, "operational");

  Schedule();
  AdvanceTo(absl::Hours(2));
  EXPECT_EQ(CheckoutStatus(), "under_maintenance");
  AdvanceTo(absl::Hours(2));
  EXPECT_EQ(CheckoutStatus(), during_outage);
}

TEST_F(MaintenanceTest, AStatusPublishedDuringTheWindowIsNotOverwritten) {
  Schedule();
  AdvanceTo(absl::Hours(2));
  PublishCheckoutOutage();
  const std::string outage_status = CheckoutStatus();
  ASSERT_NE(outage_status, "under_maintenance");
  AdvanceTo(absl::Hours(2));
  EXPECT_EQ(CheckoutStatus(), outage_status);
}

TEST_F(MaintenanceTest, AnAlertDuringMaintenanceOpensItsOwnIncident) {
  const ScheduledMaintenance m = Schedule();
  AdvanceTo(absl::Hours(2));
  const IntakeResult r =
      *h_.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}));
  EXPECT_TRUE(r.opened);
  EXPECT_NE(r.incident_id, m.incident.id());
}

TEST_F(MaintenanceTest, CancellingBeforeTheWindowLeavesComponentsAlone) {
  const ScheduledMaintenance m = Schedule();
  absl::StatusOr<v1::Incident> cancelled =
      h_.maintenance.Cancel(Engineer(), m.incident.id(), "postponed");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->status(), v1::INCIDENT_STATUS_COMPLETED);
  EXPECT_EQ(h_.queries.GetMessage(m.draft.id())->message.state(),
            v1::MESSAGE_STATE_SUPERSEDED);
  AdvanceTo(absl::Hours(2));
  EXPECT_EQ(CheckoutStatus(), "operational");
  EXPECT_EQ(
      h_.maintenance.Cancel(Engineer(), m.incident.id(), "").status().code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST_F(MaintenanceTest, CancellingDuringTheWindowRestoresAtOnce) {
  const ScheduledMaintenance m = Schedule();
  AdvanceTo(absl::Hours(3));
  ASSERT_EQ(CheckoutStatus(), "under_maintenance");
  ASSERT_TRUE(h_.maintenance.Cancel(Engineer(), m.incident.id(), "done").ok());
  EXPECT_EQ(CheckoutStatus(), "operational");
}

TEST_F(MaintenanceTest, MaintenanceTakesNoUpdatesOrResolution) {
  const ScheduledMaintenance m = Schedule();
  absl::Status update =
      h_.workflow.PostUpdate(Engineer(), m.incident.id(), "x").status();
  EXPECT_EQ(update.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(update.message()),
              HasSubstr("herald maintenance cancel"));
  EXPECT_EQ(
      h_.workflow.Resolve(Engineer(), m.incident.id(), "").status().code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST_F(MaintenanceTest, CancellingAnIncidentIsRefused) {
  const int64_t outage =
      h_.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  EXPECT_EQ(h_.maintenance.Cancel(Engineer(), outage, "").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(MaintenanceTest, BadRequestsNameTheField) {
  const auto refused = [&](MaintenanceRequest r) {
    absl::Status s = h_.maintenance.Schedule(Engineer(), std::move(r)).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  MaintenanceRequest r = Checkout();
  r.component_ids = {};
  EXPECT_THAT(refused(r), HasSubstr("component_ids"));
  r = Checkout();
  r.component_ids = {"checkout", "warp-drive"};
  EXPECT_THAT(refused(r), HasSubstr("unknown component \"warp-drive\""));
  r = Checkout();
  r.text = "  ";
  EXPECT_THAT(refused(r), HasSubstr("text"));
  r = Checkout();
  r.ends_at = r.starts_at;
  EXPECT_THAT(refused(r), HasSubstr("ends_at"));
  r = Checkout();
  r.starts_at = h_.clock.Now() - absl::Hours(3);
  r.ends_at = h_.clock.Now() - absl::Hours(1);
  EXPECT_THAT(refused(r), HasSubstr("already over"));
}

TEST_F(MaintenanceTest, TheSameWindowTwiceIsAlreadyScheduled) {
  Schedule();
  EXPECT_EQ(h_.maintenance.Schedule(Engineer(), Checkout()).status().code(),
            absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace herald
