// The incident metrics on a fake clock: open incidents by impact, the age of
// the oldest open incident's last public update, time to the first customer
// update, and approval latency.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/incidents/incident_gauges.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using testing::CommsLead;
using testing::CoreHarness;
using testing::FiringGroup;

double OpenIncidents(CoreHarness& h, const std::string& impact) {
  return h.metrics.open_incidents.Add({{"impact", impact}}).Value();
}

int64_t FirstDraft(CoreHarness& h, int64_t incident) {
  return (h.queries.ListMessages(incident, {})->items)[0].id();
}

TEST(IncidentMetricsTest, OpenIncidentsAreCountedByImpact) {
  CoreHarness h;
  IncidentGauges gauges(h.deps);
  ASSERT_TRUE(gauges.Refresh().ok());
  EXPECT_EQ(OpenIncidents(h, "critical"), 0);
  ASSERT_TRUE(
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}, "critical")).ok());
  ASSERT_TRUE(
      h.intake.Ingest(FiringGroup("g2", "dashboard", {"fp2"}, "warning")).ok());
  const int64_t api =
      h.intake.Ingest(FiringGroup("g3", "api", {"fp3"}, "critical"))
          ->incident_id;
  ASSERT_TRUE(gauges.Refresh().ok());
  EXPECT_EQ(OpenIncidents(h, "critical"), 2);
  EXPECT_EQ(OpenIncidents(h, "minor"), 1);
  EXPECT_EQ(OpenIncidents(h, "major"), 0);

  ASSERT_TRUE(h.workflow.Resolve(CommsLead(), api, "").ok());
  ASSERT_TRUE(gauges.Refresh().ok());
  EXPECT_EQ(OpenIncidents(h, "critical"), 1);
}

TEST(IncidentMetricsTest, TheOldestOpenPublicIncidentsSilenceIsItsAge) {
  CoreHarness h;
  IncidentGauges gauges(h.deps);
  const int64_t first =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  h.clock.Advance(absl::Minutes(5));
  ASSERT_TRUE(gauges.Refresh().ok());
  EXPECT_EQ(h.metrics.oldest_open_incident_update_age_seconds.Value(), 0)
      << "internal incidents owe customers nothing yet";

  ASSERT_TRUE(
      h.workflow.Approve(CommsLead(), FirstDraft(h, first), 0, kAsWritten)
          .ok());
  h.clock.Advance(absl::Minutes(20));
  // A newer public incident, updated just now, does not hide the older one.
  const int64_t second =
      h.intake.Ingest(FiringGroup("g2", "dashboard", {"fp2"}))->incident_id;
  ASSERT_TRUE(
      h.workflow.Approve(CommsLead(), FirstDraft(h, second), 0, kAsWritten)
          .ok());
  ASSERT_TRUE(gauges.Refresh().ok());
  EXPECT_EQ(h.metrics.oldest_open_incident_update_age_seconds.Value(), 20 * 60);
}

TEST(IncidentMetricsTest, UnacknowledgedAndOverdueIncidentsAreCounted) {
  CoreHarness h;
  IncidentGauges gauges(h.deps);
  // Critical: a 30 minute cadence in the demo.
  const int64_t incident =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  ASSERT_TRUE(
      h.workflow.Approve(CommsLead(), FirstDraft(h, incident), 0, kAsWritten)
          .ok());
  ASSERT_TRUE(gauges.Refresh().ok());
  EXPECT_EQ(h.metrics.unacknowledged_incidents.Value(), 1);
  EXPECT_EQ(h.metrics.incidents_past_update_cadence.Value(), 0);

  const std::string pp =
      h.queries.GetIncident(incident)->incident.point_person_id();
  ASSERT_TRUE(h.escalator.Acknowledge({pp, {v1::ROLE_COMMS}}, incident).ok());
  h.clock.Advance(absl::Minutes(31));
  ASSERT_TRUE(gauges.Refresh().ok());
  EXPECT_EQ(h.metrics.unacknowledged_incidents.Value(), 0);
  EXPECT_EQ(h.metrics.incidents_past_update_cadence.Value(), 1);
}

TEST(IncidentMetricsTest, FirstCustomerUpdateAndApprovalLatencyAreTimed) {
  CoreHarness h;
  const int64_t incident =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  h.clock.Advance(absl::Minutes(4));
  ASSERT_TRUE(
      h.workflow.Approve(CommsLead(), FirstDraft(h, incident), 0, kAsWritten)
          .ok());
  prometheus::ClientMetric first =
      h.metrics.time_to_first_update_seconds.Collect();
  EXPECT_EQ(first.histogram.sample_count, 1u);
  EXPECT_DOUBLE_EQ(first.histogram.sample_sum, 240);

  // An engineer's note drafted a minute before its approval.
  ASSERT_TRUE(
      h.workflow.PostUpdate(testing::Engineer(), incident, "rolled back").ok());
  h.clock.Advance(absl::Minutes(1));
  ASSERT_TRUE(
      h.workflow
          .Approve(CommsLead(),
                   (h.queries.ListMessages(incident, {})->items)[0].id(), 0,
                   kAsWritten)
          .ok());
  EXPECT_EQ(
      h.metrics.time_to_first_update_seconds.Collect().histogram.sample_count,
      1u)
      << "only the first public word counts";
  prometheus::ClientMetric latency =
      h.metrics.approval_latency_seconds.Collect();
  EXPECT_EQ(latency.histogram.sample_count, 2u);
  EXPECT_DOUBLE_EQ(latency.histogram.sample_sum, 240 + 60);
}

}  // namespace
}  // namespace herald
