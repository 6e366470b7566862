#include "server/core/incidents/alert_intake.h"

#include <optional>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/memory_store.h"
#include "server/wire/wire_views.h"
#include "tests/testing/failing_store.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using testing::CoreHarness;
using ::testing::ElementsAre;
using testing::Engineer;
using testing::FailingStore;
using testing::FiringGroup;
using ::testing::HasSubstr;
using testing::Resolved;

TEST(AlertIntakeTest,
     FirstFiringAlertOpensAnInternalIncidentWithRoutedComponents) {
  CoreHarness h;
  absl::StatusOr<IntakeResult> r =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->opened);
  absl::StatusOr<IncidentDetail> got = h.queries.GetIncident(r->incident_id);
  ASSERT_TRUE(got.ok());
  const v1::Incident& i = got->incident;
  EXPECT_EQ(i.ref(), absl::StrCat("INC-", r->incident_id));
  EXPECT_THAT(i.component_ids(), ElementsAre("checkout"));
  EXPECT_EQ(i.impact(), v1::IMPACT_CRITICAL);
  EXPECT_EQ(i.status(), v1::INCIDENT_STATUS_INVESTIGATING);
  EXPECT_FALSE(i.customer_visible());
  EXPECT_EQ(i.title(), "checkout is failing");
  EXPECT_EQ(h.metrics.incidents_opened.Value(), 1);
}

TEST(AlertIntakeTest, PointPersonFromTheRotaIsRecordedAndEmailed) {
  CoreHarness h;
  const int64_t id =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  const std::string expected =
      h.org->rotas().ForComponent("checkout", h.clock.Now())->point_person_id();
  EXPECT_EQ(h.queries.GetIncident(id)->incident.point_person_id(), expected);
  std::vector<v1::Delivery> staff = h.StaffDeliveries(id);
  ASSERT_EQ(staff.size(), 1u);
  EXPECT_EQ(staff[0].recipient(), "person:" + expected);
  const Outgoing email = h.Compose(staff[0]);
  EXPECT_EQ(email.address, h.org->FindPerson(expected)->email());
  EXPECT_THAT(email.subject, HasSubstr("point person"));
}

TEST(AlertIntakeTest, SamePayloadTwiceChangesNothing) {
  CoreHarness h;
  const v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1", "fp2"});
  const int64_t id = h.intake.Ingest(g)->incident_id;
  const IncidentDetail before = *h.queries.GetIncident(id);
  h.clock.Advance(absl::Minutes(5));
  absl::StatusOr<IntakeResult> again = h.intake.Ingest(g);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->opened);
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(again->incident_id, id);
  EXPECT_EQ(ToGetIncidentResponse(*h.queries.GetIncident(id)).DebugString(),
            ToGetIncidentResponse(before).DebugString());
  EXPECT_EQ(h.StaffDeliveries(id).size(), 1u);
  EXPECT_EQ(h.queries.ListIncidents(true)->items.size(), 1u);
}

TEST(AlertIntakeTest, NewGroupKeyOpensASeparateIncident) {
  CoreHarness h;
  const int64_t a =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  const int64_t b =
      h.intake.Ingest(FiringGroup("g2", "dashboard", {"fp2"}))->incident_id;
  EXPECT_NE(a, b);
}

TEST(AlertIntakeTest, UnroutedAlertGoesToTheDefaultComponent) {
  CoreHarness h;
  const int64_t id =
      h.intake.Ingest(FiringGroup("g1", "search", {"fp1"}))->incident_id;
  EXPECT_THAT(h.queries.GetIncident(id)->incident.component_ids(),
              ElementsAre("platform"));
}

TEST(AlertIntakeTest, LaterAlertInTheGroupAddsItsComponent) {
  CoreHarness h;
  const int64_t id =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  v1::AlertGroup more = FiringGroup("g1", "checkout", {"fp1"});
  v1::Alert* api = more.add_alerts();
  *api = more.alerts(0);
  api->set_fingerprint("fp2");
  (*api->mutable_labels())["service"] = "api";
  ASSERT_TRUE(h.intake.Ingest(more).ok());
  EXPECT_THAT(h.queries.GetIncident(id)->incident.component_ids(),
              ElementsAre("checkout", "api"));
}

TEST(AlertIntakeTest,
     ResolvedGroupMarksReadyToResolveAndTellsThePointPersonButDoesNotResolve) {
  CoreHarness h;
  const v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  const int64_t id = h.intake.Ingest(g)->incident_id;
  ASSERT_TRUE(h.intake.Ingest(Resolved(g)).ok());
  const v1::Incident i = h.queries.GetIncident(id)->incident;
  EXPECT_TRUE(i.ready_to_resolve());
  EXPECT_FALSE(i.has_resolved_at());
  std::vector<v1::Delivery> staff = h.StaffDeliveries(id);
  ASSERT_EQ(staff.size(), 2u);
  EXPECT_THAT(staff[1].subject(), HasSubstr("ready to resolve"));
}

TEST(AlertIntakeTest, ResolvedNotificationForUnknownGroupOpensNothing) {
  CoreHarness h;
  absl::StatusOr<IntakeResult> r =
      h.intake.Ingest(Resolved(FiringGroup("g9", "checkout", {"fp"})));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->opened);
  EXPECT_TRUE(h.queries.ListIncidents(true)->items.empty());
}

TEST(AlertIntakeTest, TruncatedAlertCountIsRecorded) {
  CoreHarness h;
  v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  g.set_truncated_alerts(3);
  const int64_t id = h.intake.Ingest(g)->incident_id;
  EXPECT_EQ(h.queries.GetIncident(id)->incident.truncated_alerts(), 3);
}

TEST(AlertIntakeTest, ConcurrentDeliveriesOfOneGroupOpenOneIncident) {
  CoreHarness h;
  const v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] { ASSERT_TRUE(h.intake.Ingest(g).ok()); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.queries.ListIncidents(true)->items.size(), 1u);
  EXPECT_EQ(h.metrics.incidents_opened.Value(), 1);
}

TEST(AlertIntakeTest, IngestAsyncAnswersOnlyOnceTheWriteHasCommitted) {
  auto* store = new FailingStore(NewMemoryStore());
  CoreHarness h{std::unique_ptr<Store>(store)};
  store->BlockWrites(true);
  std::optional<absl::StatusOr<IntakeResult>> answer;
  h.intake.IngestAsync(FiringGroup("g1", "checkout", {"fp1"}),
                       [&](absl::StatusOr<IntakeResult> r) { answer = r; });
  store->AwaitBlockedWriters(1);
  EXPECT_FALSE(answer.has_value());
  EXPECT_EQ(h.queries.ListIncidents(true)->items.size(), 0u);

  store->BlockWrites(false);  // commits on this thread (memory store)
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok()) << answer->status();
  EXPECT_TRUE((*answer)->opened);
  EXPECT_EQ(h.queries.ListIncidents(true)->items.size(), 1u);
  EXPECT_EQ(h.metrics.incidents_opened.Value(), 1);
}

TEST(AlertIntakeTest, IngestAsyncReportsAFailedCommitAndCountsNothing) {
  auto* store = new FailingStore(NewMemoryStore());
  CoreHarness h{std::unique_ptr<Store>(store)};
  store->FailWrites(true);
  std::optional<absl::StatusOr<IntakeResult>> answer;
  h.intake.IngestAsync(FiringGroup("g1", "checkout", {"fp1"}),
                       [&](absl::StatusOr<IntakeResult> r) { answer = r; });
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(h.metrics.AlertsReceived("firing").Value(), 0);
}

TEST(FirstDraftTest,
     AnOpeningIncidentHasAnApprovableDraftAndCommsLeadsAreTold) {
  CoreHarness h;
  v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  (*g.mutable_common_annotations())["description"] =
      "Checkout answers 5% of requests with errors.";
  const int64_t id = h.intake.Ingest(g)->incident_id;
  absl::StatusOr<Page<v1::Message>> drafts = h.queries.ListMessages(id, {});
  ASSERT_TRUE(drafts.ok());
  ASSERT_EQ(drafts->items.size(), 1u);
  const v1::Message& draft = drafts->items[0];
  EXPECT_EQ(draft.state(), v1::MESSAGE_STATE_DRAFT);
  EXPECT_EQ(draft.incident_status(), v1::INCIDENT_STATUS_INVESTIGATING);
  EXPECT_THAT(draft.body(), HasSubstr("investigating a problem affecting"));
  EXPECT_THAT(draft.body(),
              HasSubstr("Checkout answers 5% of requests with errors."));
  EXPECT_TRUE(
      h.workflow.Approve(testing::CommsLead(), draft.id(), 1, kAsWritten).ok())
      << "approving it is all the first public word needs";

  std::vector<std::string> told;
  for (const v1::Delivery& d : h.StaffDeliveries(id, true)) {
    if (d.subject().find(draft.ref()) != std::string::npos) {
      told.push_back(d.recipient());
      EXPECT_THAT(d.body(), HasSubstr("herald approve " + draft.ref()));
    }
  }
  EXPECT_THAT(told, ElementsAre("person:carol"));
}

TEST(FirstDraftTest, TheTimeToAnApprovableDraftIsMeasuredToTheCommit) {
  auto* store = new FailingStore(NewMemoryStore());
  CoreHarness h{std::unique_ptr<Store>(store)};
  store->BlockWrites(true);
  bool answered = false;
  h.intake.IngestAsync(FiringGroup("g1", "checkout", {"fp1"}),
                       [&](absl::StatusOr<IntakeResult>) { answered = true; });
  store->AwaitBlockedWriters(1);
  h.clock.Advance(absl::Milliseconds(300));  // a slow disk
  store->BlockWrites(false);
  ASSERT_TRUE(answered);
  prometheus::ClientMetric m = h.metrics.first_draft_seconds.Collect();
  EXPECT_EQ(m.histogram.sample_count, 1u);
  EXPECT_DOUBLE_EQ(m.histogram.sample_sum, 0.3);
}

TEST(AlertIntakeTest, AlertsReceivedAreCountedByStatus) {
  CoreHarness h;
  const v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1", "fp2"});
  ASSERT_TRUE(h.intake.Ingest(g).ok());
  ASSERT_TRUE(h.intake.Ingest(Resolved(g)).ok());
  EXPECT_EQ(h.metrics.AlertsReceived("firing").Value(), 2);
  EXPECT_EQ(h.metrics.AlertsReceived("resolved").Value(), 2);
}

TEST(AlertGroupingTest, UnroutedAlertIsFlaggedListedAndCounted) {
  CoreHarness h;
  const int64_t id =
      h.intake.Ingest(FiringGroup("g1", "search", {"fp1"}))->incident_id;
  std::vector<v1::Alert> unrouted = h.queries.ListAlerts(0, true)->alerts;
  ASSERT_EQ(unrouted.size(), 1u);
  EXPECT_EQ(unrouted[0].fingerprint(), "fp1");
  EXPECT_EQ(unrouted[0].incident_id(), id);
  EXPECT_EQ(h.metrics.alerts_unrouted.Value(), 1);
  // Seeing it again does not count it again.
  ASSERT_TRUE(h.intake.Ingest(FiringGroup("g1", "search", {"fp1"})).ok());
  EXPECT_EQ(h.metrics.alerts_unrouted.Value(), 1);
}

TEST(AlertGroupingTest, NewGroupOnAnOpenIncidentsComponentAttachesToIt) {
  CoreHarness h;
  const int64_t first =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  absl::StatusOr<IntakeResult> second =
      h.intake.Ingest(FiringGroup("g2", "checkout", {"fp2"}));
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->attached);
  EXPECT_EQ(second->incident_id, first);
  EXPECT_THAT(h.queries.GetIncident(first)->incident.attached_group_keys(),
              ElementsAre("g2"));
  EXPECT_EQ(h.queries.ListIncidents(true)->items.size(), 1u);
  // Later notifications for the attached group find the same incident.
  EXPECT_EQ(h.intake.Ingest(Resolved(FiringGroup("g2", "checkout", {"fp2"})))
                ->incident_id,
            first);
}

TEST(AlertGroupingTest, ReadyToResolveWaitsForEveryAttachedGroup) {
  CoreHarness h;
  const int64_t id =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  ASSERT_TRUE(h.intake.Ingest(FiringGroup("g2", "checkout", {"fp2"})).ok());
  ASSERT_TRUE(
      h.intake.Ingest(Resolved(FiringGroup("g1", "checkout", {"fp1"}))).ok());
  EXPECT_FALSE(h.queries.GetIncident(id)->incident.ready_to_resolve());
  ASSERT_TRUE(
      h.intake.Ingest(Resolved(FiringGroup("g2", "checkout", {"fp2"}))).ok());
  EXPECT_TRUE(h.queries.GetIncident(id)->incident.ready_to_resolve());
}

TEST(AlertGroupingTest, ReopensWithinTheWindow) {
  CoreHarness h;
  const v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  const int64_t id = h.intake.Ingest(g)->incident_id;
  ASSERT_TRUE(h.intake.Ingest(Resolved(g)).ok());
  const Resolution r = *h.workflow.Resolve(Engineer(), id, "fixed");
  h.clock.Advance(absl::Minutes(59));
  absl::StatusOr<IntakeResult> again = h.intake.Ingest(g);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->reopened);
  EXPECT_EQ(again->incident_id, id);
  const v1::Incident i = h.queries.GetIncident(id)->incident;
  EXPECT_FALSE(i.has_resolved_at());
  EXPECT_FALSE(i.ready_to_resolve());
  EXPECT_EQ(i.reopened_count(), 1);
  // The resolution and apology drafts are withdrawn; customers never heard
  // of it, so the comms lead gets a first draft again.
  const std::vector<v1::Message> waiting =
      h.queries.ListMessages(id, {})->items;
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].kind(), v1::MESSAGE_KIND_STATUS_UPDATE);
  EXPECT_EQ(i.status(), v1::INCIDENT_STATUS_INVESTIGATING);
  EXPECT_EQ(h.queries.ListIncidents(true)->items.size(), 1u);
}

TEST(AlertGroupingTest, OpensANewIncidentAfterTheWindow) {
  CoreHarness h;
  const v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  const int64_t id = h.intake.Ingest(g)->incident_id;
  ASSERT_TRUE(h.intake.Ingest(Resolved(g)).ok());
  ASSERT_TRUE(h.workflow.Resolve(Engineer(), id, "fixed").ok());
  h.clock.Advance(absl::Minutes(61));
  absl::StatusOr<IntakeResult> again = h.intake.Ingest(g);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->opened);
  EXPECT_NE(again->incident_id, id);
}

}  // namespace
}  // namespace herald
