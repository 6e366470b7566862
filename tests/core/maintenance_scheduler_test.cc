// Scheduled maintenance, driven by a fake clock: announced through the
// approval path with the notices that approval covers (reminder, started,
// completed), components under_maintenance from the window's start until
// the work is marked complete, an overrun, and cancellation.
#include "server/core/comms/maintenance_scheduler.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
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

  v1::Message Message(int64_t id) {
    return h_.Read<v1::Message>(
        [&](StoreReader& r) { return r.GetMessage(id); });
  }
  v1::MessageState State(int64_t id) { return Message(id).state(); }

  std::vector<v1::InboxItem> Inbox() {
    absl::StatusOr<std::vector<v1::InboxItem>> inbox = h_.queries.Inbox();
    EXPECT_TRUE(inbox.ok()) << inbox.status();
    return inbox.ok() ? *std::move(inbox) : std::vector<v1::InboxItem>{};
  }

  // The deliveries `message_id` queued.
  std::vector<v1::Delivery> Sent(int64_t message_id) {
    return h_.Read<std::vector<v1::Delivery>>(
        [&](StoreReader& r) { return r.ListDeliveries(message_id, 0); });
  }

  // The notice of `notice` among `m`'s.
  static v1::Message Notice(const ScheduledMaintenance& m,
                            const std::string& notice) {
    for (const v1::Message& n : m.notices) {
      if (n.maintenance_notice() == notice) return n;
    }
    ADD_FAILURE() << "no " << notice << " notice";
    return {};
  }

  // Checkout maintenance two days ahead, so that its reminder (a day
  // before, by default) is still to come.
  ScheduledMaintenance ScheduleInTwoDays() {
    MaintenanceRequest r = Checkout();
    r.starts_at = h_.clock.Now() + absl::Hours(48);
    r.ends_at = h_.clock.Now() + absl::Hours(50);
    absl::StatusOr<ScheduledMaintenance> m =
        h_.maintenance.Schedule(Engineer(), r);
    if (!m.ok()) ADD_FAILURE() << m.status();
    return *std::move(m);
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

TEST_F(MaintenanceTest, TheApprovalCoversOnlyTheNoticesAsTheLeadSawThem) {
  const ScheduledMaintenance m = ScheduleInTwoDays();
  // What the review showed: each notice at its version.
  std::map<std::string, int32_t> seen;
  for (const v1::Message& n : m.notices) seen[n.ref()] = n.version();
  const v1::Message started = Notice(m, "started");
  // The point person rewords "started" while the comms lead reads.
  ASSERT_TRUE(h_.workflow
                  .Edit(testing::Comms(), started.id(), 0, "",
                        "The upgrade has begun; checkout may be slow.")
                  .ok());
  const auto approve = [&](std::map<std::string, int32_t> versions) {
    return h_.workflow
        .Approve(CommsLead(), m.draft.id(), 0,
                 {.publish_as_written = true,
                  .covered_versions = std::move(versions)})
        .status();
  };
  absl::Status stale = approve(seen);
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(stale.message()),
              HasSubstr(absl::StrCat(started.ref(), " changed")));
  std::map<std::string, int32_t> partial = seen;
  partial.erase(Notice(m, "completed").ref());
  partial[started.ref()] = Message(started.id()).version();
  const absl::Status unseen = approve(partial);
  EXPECT_EQ(unseen.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(unseen.message()), HasSubstr("did not review"));
  std::map<std::string, int32_t> any = seen;
  any[started.ref()] = 0;  // not a version anyone saw
  EXPECT_EQ(approve(any).code(), absl::StatusCode::kAborted);
  for (const v1::Message& n : m.notices) {
    EXPECT_NE(State(n.id()), v1::MESSAGE_STATE_APPROVED) << n.ref();
  }
  EXPECT_NE(State(m.draft.id()), v1::MESSAGE_STATE_PUBLISHED)
      << "nothing decided";
  // Read again, the set is approved.
  seen[started.ref()] = Message(started.id()).version();
  ASSERT_TRUE(approve(seen).ok());
  for (const v1::Message& n : m.notices) {
    EXPECT_EQ(State(n.id()), v1::MESSAGE_STATE_APPROVED) << n.ref();
  }
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

  AdvanceTo(absl::Hours(1));
  ASSERT_TRUE(h_.maintenance.Complete(Engineer(), m.incident.id()).ok());
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

TEST_F(MaintenanceTest, CompletingRestoresTheStatusFromBeforeTheWindow) {
  PublishCheckoutOutage();
  const std::string during_outage = CheckoutStatus();
  ASSERT_NE(during_outage, "operational");

  const ScheduledMaintenance m = Schedule();
  AdvanceTo(absl::Hours(2));
  EXPECT_EQ(CheckoutStatus(), "under_maintenance");
  ASSERT_TRUE(h_.maintenance.Complete(Engineer(), m.incident.id()).ok());
  EXPECT_EQ(CheckoutStatus(), during_outage);
}

TEST_F(MaintenanceTest, AStatusPublishedDuringTheWindowIsNotOverwritten) {
  const ScheduledMaintenance m = Schedule();
  AdvanceTo(absl::Hours(2));
  PublishCheckoutOutage();
  const std::string outage_status = CheckoutStatus();
  ASSERT_NE(outage_status, "under_maintenance");
  ASSERT_TRUE(h_.maintenance.Complete(Engineer(), m.incident.id()).ok());
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
  absl::StatusOr<CancelledMaintenance> cancelled =
      h_.maintenance.Cancel(Engineer(), m.incident.id(), "postponed");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->incident.status(), v1::INCIDENT_STATUS_COMPLETED);
  // Nobody was told of it: nobody is told it is off.
  EXPECT_EQ(cancelled->draft.id(), 0);
  EXPECT_EQ(State(m.draft.id()), v1::MESSAGE_STATE_SUPERSEDED);
  for (const v1::Message& n : m.notices) {
    EXPECT_EQ(State(n.id()), v1::MESSAGE_STATE_SUPERSEDED) << n.ref();
  }
  AdvanceTo(absl::Hours(2));
  EXPECT_EQ(CheckoutStatus(), "operational");
  EXPECT_EQ(
      h_.maintenance.Cancel(Engineer(), m.incident.id(), "").status().code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST_F(MaintenanceTest, OnceStartedItIsCompletedNotCancelled) {
  const ScheduledMaintenance m = Schedule();
  AdvanceTo(absl::Hours(3));
  ASSERT_EQ(CheckoutStatus(), "under_maintenance");
  // Customers may have been told it started: "it will not happen" would be
  // untrue.
  const absl::Status cancel =
      h_.maintenance.Cancel(Engineer(), m.incident.id(), "done").status();
  EXPECT_EQ(cancel.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(cancel.message()),
              HasSubstr("herald maintenance complete"));
  EXPECT_EQ(CheckoutStatus(), "under_maintenance");
  ASSERT_TRUE(h_.maintenance.Complete(Engineer(), m.incident.id()).ok());
  EXPECT_EQ(CheckoutStatus(), "operational");
}

TEST_F(MaintenanceTest, MaintenanceTakesNoUpdatesOrResolution) {
  const ScheduledMaintenance m = Schedule();
  absl::Status update =
      h_.workflow.PostUpdate(Engineer(), m.incident.id(), "x").status();
  EXPECT_EQ(update.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(update.message()),
              HasSubstr("herald maintenance complete"));
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

TEST_F(MaintenanceTest,
       OneApprovalCoversTheSetAndEachNoticeGoesOutAtItsMoment) {
  const ScheduledMaintenance m = ScheduleInTwoDays();
  ASSERT_THAT(m.notices, SizeIs(3));
  EXPECT_EQ(m.notices[0].maintenance_notice(), "reminder");
  EXPECT_EQ(m.notices[1].maintenance_notice(), "started");
  EXPECT_EQ(m.notices[2].maintenance_notice(), "completed");
  // The inbox lists the announcement alone; its review lists the set.
  std::vector<std::string> inbox;
  for (const v1::InboxItem& i : Inbox()) inbox.push_back(i.message().ref());
  EXPECT_THAT(inbox, ::testing::ElementsAre(m.draft.ref()));
  EXPECT_THAT(h_.queries.GetMessage(m.draft.id())->covered, SizeIs(3));
  // A notice alone cannot be approved before its announcement.
  const absl::Status alone =
      h_.workflow.Approve(CommsLead(), m.notices[1].id(), 0, {}).status();
  EXPECT_EQ(alone.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(alone.message()), HasSubstr(m.draft.ref()));

  // Each may be edited before the approval.
  const v1::Message started = Notice(m, "started");
  ASSERT_TRUE(h_.workflow
                  .Edit(testing::Comms(), started.id(), 0, "",
                        "The database upgrade has begun; checkout may be slow "
                        "for up to two hours.")
                  .ok());
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), m.draft.id(), 0, kAsWritten).ok());
  for (const v1::Message& n : m.notices) {
    EXPECT_EQ(State(n.id()), v1::MESSAGE_STATE_APPROVED) << n.ref();
    EXPECT_THAT(Sent(n.id()), IsEmpty()) << n.ref();
  }
  EXPECT_EQ(Message(started.id()).approver_id(), "carol");

  // Each notice that goes out counts as published, as the announcement did.
  const auto published = [&] { return h_.metrics.messages_published.Value(); };
  EXPECT_EQ(published(), 1);
  // A day before the window: the reminder.
  AdvanceTo(absl::Hours(24) - absl::Seconds(1));
  EXPECT_THAT(Sent(Notice(m, "reminder").id()), IsEmpty());
  AdvanceTo(absl::Seconds(1));
  const std::vector<v1::Delivery> reminders = Sent(Notice(m, "reminder").id());
  ASSERT_THAT(reminders, SizeIs(2));
  EXPECT_THAT(h_.Compose(reminders[0]).subject, HasSubstr("Reminder"));
  EXPECT_EQ(published(), 2);
  // The window starts: "started", as edited.
  AdvanceTo(absl::Hours(24));
  EXPECT_EQ(CheckoutStatus(), "under_maintenance");
  const std::vector<v1::Delivery> starts = Sent(started.id());
  ASSERT_THAT(starts, SizeIs(2));
  EXPECT_THAT(testing::OneLine(h_.Compose(starts[0]).text),
              HasSubstr("The database upgrade has begun"));
  EXPECT_THAT(Sent(Notice(m, "completed").id()), IsEmpty());
  // The work is done: "completed", and the components are back.
  AdvanceTo(absl::Hours(1));
  absl::StatusOr<CompletedMaintenance> done =
      h_.maintenance.Complete(Engineer(), m.incident.id());
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->deliveries_enqueued, 2);
  EXPECT_EQ(CheckoutStatus(), "operational");
  EXPECT_THAT(h_.Compose(Sent(Notice(m, "completed").id())[0]).subject,
              HasSubstr("is complete"));
  EXPECT_EQ(published(), 4);
  // Nothing runs twice: the end of the window finds it completed.
  AdvanceTo(absl::Hours(2));
  EXPECT_THAT(Sent(Notice(m, "completed").id()), SizeIs(2));
  EXPECT_EQ(
      h_.maintenance.Complete(Engineer(), m.incident.id()).status().code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST_F(MaintenanceTest, AnOverrunTellsThePointPersonAndDraftsAnExtension) {
  const ScheduledMaintenance m = Schedule();
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), m.draft.id(), 0, kAsWritten).ok());
  AdvanceTo(absl::Hours(2));
  const size_t staff_before = h_.StaffDeliveries(m.incident.id(), true).size();
  AdvanceTo(absl::Hours(2));  // the window ends; the work is not done
  EXPECT_EQ(Incident(m.incident.id()).status(),
            v1::INCIDENT_STATUS_IN_PROGRESS);
  EXPECT_EQ(CheckoutStatus(), "under_maintenance");
  const auto staff = h_.StaffDeliveries(m.incident.id(), true);
  ASSERT_GT(staff.size(), staff_before);
  bool point_person_told = false;
  for (size_t i = staff_before; i < staff.size(); ++i) {
    point_person_told |=
        staff[i].recipient() == "person:" + m.incident.point_person_id() &&
        absl::StrContains(staff[i].subject(), "window has ended");
  }
  EXPECT_TRUE(point_person_told);
  // An "extended" notice waits for approval, in the inbox.
  const std::vector<v1::InboxItem> inbox = Inbox();
  ASSERT_THAT(inbox, SizeIs(1));
  const v1::Message extended = inbox[0].message();
  EXPECT_EQ(extended.maintenance_notice(), "extended");
  EXPECT_THAT(extended.title(), HasSubstr("longer than planned"));
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), extended.id(), 0, {}).ok());
  EXPECT_THAT(Sent(extended.id()), SizeIs(2));
  ASSERT_TRUE(h_.maintenance.Complete(Engineer(), m.incident.id()).ok());
  EXPECT_EQ(CheckoutStatus(), "operational");
  EXPECT_THAT(Sent(Notice(m, "completed").id()), SizeIs(2));
}

TEST_F(MaintenanceTest, AnOverrunNobodyWasToldOfDraftsNoNotice) {
  const ScheduledMaintenance m = Schedule();  // never approved
  AdvanceTo(absl::Hours(4));
  EXPECT_EQ(Incident(m.incident.id()).status(),
            v1::INCIDENT_STATUS_IN_PROGRESS);
  for (const v1::InboxItem& i : Inbox()) {
    EXPECT_NE(i.message().maintenance_notice(), "extended");
  }
  // "started" was never approved, so it never went out.
  EXPECT_THAT(Sent(Notice(m, "started").id()), IsEmpty());
}

TEST_F(MaintenanceTest, ANoticeWhoseMomentPassedBeforeApprovalIsNotSentLate) {
  const ScheduledMaintenance m = Schedule();
  AdvanceTo(absl::Hours(2) + absl::Minutes(10));  // started, unannounced
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), m.draft.id(), 0, kAsWritten).ok());
  EXPECT_EQ(State(Notice(m, "started").id()), v1::MESSAGE_STATE_SUPERSEDED);
  EXPECT_EQ(State(Notice(m, "completed").id()), v1::MESSAGE_STATE_APPROVED);
}

TEST_F(MaintenanceTest,
       CancellingAnAnnouncedMaintenanceDraftsANoticeForThoseTold) {
  const ScheduledMaintenance m = ScheduleInTwoDays();
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), m.draft.id(), 0, kAsWritten).ok());
  // The announcement reached the first of checkout's two subscribers; no
  // contact reached the second, and a third subscribes only after it went
  // out.
  std::vector<v1::Delivery> announced = Sent(m.draft.id());
  ASSERT_THAT(announced, SizeIs(2));
  announced[0].set_state(v1::DELIVERY_STATE_DELIVERED);
  announced[1].set_state(v1::DELIVERY_STATE_FAILED);
  ASSERT_TRUE(h_.store
                  ->Write([&](StoreTxn& t) -> absl::Status {
                    for (const v1::Delivery& d : announced) {
                      if (auto st = t.UpdateDelivery(d); !st.ok()) return st;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  v1::Subscriber late;
  late.set_id("zz-late");
  late.set_email("late@example.com");
  late.add_component_ids("checkout");
  ASSERT_TRUE(h_.subscribers.Add(CommsLead(), late).ok());
  absl::StatusOr<CancelledMaintenance> cancelled = h_.maintenance.Cancel(
      Engineer(), m.incident.id(), "the vendor postponed the upgrade");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  // Nothing held goes out any more.
  for (const v1::Message& n : m.notices) {
    EXPECT_EQ(State(n.id()), v1::MESSAGE_STATE_SUPERSEDED) << n.ref();
  }
  const v1::Message& notice = cancelled->draft;
  ASSERT_NE(notice.id(), 0);
  EXPECT_EQ(notice.maintenance_notice(), "cancelled");
  EXPECT_EQ(notice.state(), v1::MESSAGE_STATE_DRAFT);
  EXPECT_THAT(notice.body(), HasSubstr("The vendor postponed the upgrade."));
  EXPECT_THAT(Sent(notice.id()), IsEmpty());  // not before approval
  // The reason is an engineer's words: publishing them as they are is a
  // choice.
  EXPECT_EQ(
      h_.workflow.Approve(CommsLead(), notice.id(), 0, {}).status().code(),
      absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), notice.id(), 0, kAsWritten).ok());
  // Only whom the announcement reached hears it will not happen.
  const std::vector<v1::Delivery> told = Sent(notice.id());
  ASSERT_THAT(told, SizeIs(1));
  EXPECT_EQ(told[0].recipient(), announced[0].recipient());
  EXPECT_THAT(h_.Compose(told[0]).subject, HasSubstr("is cancelled"));
  // The day the reminder was due passes in silence.
  AdvanceTo(absl::Hours(30));
  EXPECT_THAT(Sent(Notice(m, "reminder").id()), IsEmpty());
}

TEST_F(MaintenanceTest, CompletingBeforeTheWindowIsRefusedWithTheWayOut) {
  const ScheduledMaintenance m = Schedule();
  const absl::Status s =
      h_.maintenance.Complete(Engineer(), m.incident.id()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("maintenance cancel"));
}

v1::Config WithoutReminders() {
  v1::Config c = DefaultConfig();
  c.mutable_comms()->set_maintenance_reminder_before("0s");
  return c;
}

TEST(MaintenanceConfigTest, TheReminderLeadIsConfigurableAndCanBeOff) {
  CoreHarness h(NewMemoryStore(), WithoutReminders());
  MaintenanceRequest r{{"checkout"},
                       h.clock.Now() + absl::Hours(48),
                       h.clock.Now() + absl::Hours(50),
                       "database upgrade",
                       ""};
  absl::StatusOr<ScheduledMaintenance> m =
      h.maintenance.Schedule(Engineer(), r);
  ASSERT_TRUE(m.ok()) << m.status();
  for (const v1::Message& n : m->notices) {
    EXPECT_NE(n.maintenance_notice(), "reminder");
  }
  v1::Config bad = DefaultConfig();
  bad.mutable_comms()->set_maintenance_reminder_before("a day");
  absl::Status invalid = Organisation::Create(bad).status();
  EXPECT_THAT(std::string(invalid.message()),
              HasSubstr("comms.maintenance_reminder_before"));
}

TEST_F(MaintenanceTest, ANoticeGoesOutWithTheMaintenanceAsItThenIs) {
  const ScheduledMaintenance m = Schedule();
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), m.draft.id(), 0, kAsWritten).ok());
  AdvanceTo(absl::Hours(2));
  const v1::Message started = Message(Notice(m, "started").id());
  ASSERT_EQ(started.state(), v1::MESSAGE_STATE_PUBLISHED);
  // What its deliveries render from: the maintenance in progress, with the
  // "started" notice as its latest word.
  EXPECT_EQ(started.published_incident().status(),
            v1::INCIDENT_STATUS_IN_PROGRESS);
  EXPECT_EQ(started.published_incident().title(), started.title());
}

TEST_F(MaintenanceTest, AReminderApprovedAfterItsMomentIsNotSentLate) {
  const ScheduledMaintenance m = ScheduleInTwoDays();
  AdvanceTo(absl::Hours(24) + absl::Minutes(30));  // its job ran, unapproved
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), m.draft.id(), 0, kAsWritten).ok());
  EXPECT_EQ(State(Notice(m, "reminder").id()), v1::MESSAGE_STATE_SUPERSEDED);
  EXPECT_EQ(State(Notice(m, "started").id()), v1::MESSAGE_STATE_APPROVED);
  AdvanceTo(absl::Hours(24));
  EXPECT_THAT(Sent(Notice(m, "reminder").id()), IsEmpty());
  EXPECT_THAT(Sent(Notice(m, "started").id()), SizeIs(2));
}

TEST_F(MaintenanceTest, ANoticeLeftWaitingAfterItsAnnouncementIsInTheInbox) {
  const ScheduledMaintenance m = Schedule();
  const v1::Message completed = Notice(m, "completed");
  ASSERT_TRUE(
      h_.workflow.Reject(CommsLead(), completed.id(), 0, "too cheerful").ok());
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), m.draft.id(), 0, kAsWritten).ok());
  EXPECT_EQ(State(completed.id()), v1::MESSAGE_STATE_REJECTED);
  ASSERT_TRUE(
      h_.workflow
          .Edit(testing::Comms(), completed.id(), 0, "", "The upgrade is done.")
          .ok());
  std::vector<std::string> inbox;
  for (const v1::InboxItem& i : Inbox()) inbox.push_back(i.message().ref());
  EXPECT_THAT(inbox, ::testing::ElementsAre(completed.ref()));
  // Approved on its own now that its announcement is out, it is held.
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), completed.id(), 0, {}).ok());
  EXPECT_EQ(State(completed.id()), v1::MESSAGE_STATE_APPROVED);
}

v1::Config FourEyes() {
  v1::Config c = DefaultConfig();
  c.mutable_comms()->set_four_eyes(true);
  return c;
}

TEST(MaintenanceFourEyesTest,
     NobodyApprovesANoticeTheyWroteThroughItsAnnouncement) {
  CoreHarness h(NewMemoryStore(), FourEyes());
  absl::StatusOr<ScheduledMaintenance> m =
      h.maintenance.Schedule(Engineer(), {{"checkout"},
                                          h.clock.Now() + absl::Hours(2),
                                          h.clock.Now() + absl::Hours(4),
                                          "database upgrade",
                                          ""});
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(h.workflow
                  .Edit(CommsLead(), m->notices[0].id(), 0, "",
                        "Carol's own words about the start.")
                  .ok());
  const absl::Status own =
      h.workflow.Approve(CommsLead(), m->draft.id(), 0, kAsWritten).status();
  EXPECT_EQ(own.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(own.message()), HasSubstr(m->notices[0].ref()));
}

}  // namespace
}  // namespace herald
