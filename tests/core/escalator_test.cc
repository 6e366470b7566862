#include "server/core/oncall/escalator.h"

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/sqlite_store.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using testing::CoreHarness;
using ::testing::ElementsAre;
using testing::FiringGroup;
using ::testing::HasSubstr;

// The demo rota: point person bob or erin by week, backup carol, then dave,
// 15 minutes apart.
std::vector<std::string> StaffRecipients(CoreHarness& h, int64_t incident_id) {
  std::vector<std::string> out;
  for (const v1::Delivery& d : h.StaffDeliveries(incident_id)) {
    out.push_back(d.recipient());
  }
  return out;
}

int64_t Open(CoreHarness& h) {
  return h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
}

std::string PointPerson(CoreHarness& h, int64_t id) {
  return h.queries.GetIncident(id)->incident.point_person_id();
}

TEST(EscalatorTest, NothingHappensBeforeTheAckTimeout) {
  CoreHarness h;
  const int64_t id = Open(h);
  h.clock.Advance(absl::Minutes(14));
  EXPECT_EQ(*h.jobs.RunDueJobs(), 0);
  EXPECT_THAT(StaffRecipients(h, id),
              ElementsAre("person:" + PointPerson(h, id)));
}

TEST(EscalatorTest, UnacknowledgedIncidentEscalatesToBackupThenChain) {
  CoreHarness h;
  const int64_t id = Open(h);
  const std::string pp = "person:" + PointPerson(h, id);
  h.clock.Advance(absl::Minutes(15));
  EXPECT_EQ(*h.jobs.RunDueJobs(), 1);
  EXPECT_THAT(StaffRecipients(h, id), ElementsAre(pp, "person:carol"));
  EXPECT_EQ(h.queries.GetIncident(id)->incident.escalation_level(), 1);

  h.clock.Advance(absl::Minutes(15));
  EXPECT_EQ(*h.jobs.RunDueJobs(), 1);
  EXPECT_THAT(StaffRecipients(h, id),
              ElementsAre(pp, "person:carol", "person:dave"));

  // The chain is exhausted: recorded once, nobody else is told.
  h.clock.Advance(absl::Minutes(15));
  EXPECT_EQ(*h.jobs.RunDueJobs(), 1);
  h.clock.Advance(absl::Hours(5));
  EXPECT_EQ(*h.jobs.RunDueJobs(), 0);
  EXPECT_THAT(StaffRecipients(h, id),
              ElementsAre(pp, "person:carol", "person:dave"));
  const auto timeline = h.queries.GetIncident(id)->timeline;
  EXPECT_EQ(std::count_if(timeline.begin(), timeline.end(),
                          [](const auto& e) {
                            return e.kind() == "escalation_exhausted";
                          }),
            1);
}

TEST(EscalatorTest, AcknowledgementStopsEscalation) {
  CoreHarness h;
  const int64_t id = Open(h);
  const std::string pp = PointPerson(h, id);
  h.clock.Advance(absl::Minutes(3));
  absl::StatusOr<v1::Incident> acked =
      h.escalator.Acknowledge({pp, {v1::ROLE_COMMS}}, id);
  ASSERT_TRUE(acked.ok()) << acked.status();
  EXPECT_EQ(acked->acknowledged_by(), pp);
  h.clock.Advance(absl::Hours(1));
  EXPECT_EQ(*h.jobs.RunDueJobs(),
            1);  // the timer fires and finds it answered
  EXPECT_THAT(StaffRecipients(h, id), ElementsAre("person:" + pp));
}

TEST(EscalatorTest, BackupMayAcknowledgeAfterEscalation) {
  CoreHarness h;
  const int64_t id = Open(h);
  h.clock.Advance(absl::Minutes(15));
  ASSERT_EQ(*h.jobs.RunDueJobs(), 1);
  ASSERT_TRUE(
      h.escalator.Acknowledge({"carol", {v1::ROLE_COMMS_LEAD}}, id).ok());
  h.clock.Advance(absl::Minutes(15));
  h.jobs.RunDueJobs().IgnoreError();
  EXPECT_THAT(StaffRecipients(h, id), ::testing::SizeIs(2));
}

TEST(EscalatorTest, SomeoneOffThePathCannotAcknowledge) {
  CoreHarness h;
  const int64_t id = Open(h);
  absl::Status s =
      h.escalator.Acknowledge({"alice", {v1::ROLE_ENGINEER}}, id).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("escalation path"));
}

TEST(EscalatorTest, AcknowledgingTwiceKeepsTheFirst) {
  CoreHarness h;
  const int64_t id = Open(h);
  ASSERT_TRUE(
      h.escalator.Acknowledge({"carol", {v1::ROLE_COMMS_LEAD}}, id).ok());
  h.clock.Advance(absl::Minutes(1));
  absl::StatusOr<v1::Incident> again =
      h.escalator.Acknowledge({PointPerson(h, id), {v1::ROLE_COMMS}}, id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->acknowledged_by(), "carol");
}

TEST(EscalatorTest, TimersSurviveARestart) {
  const auto dir = std::filesystem::path(::testing::TempDir()) /
                   absl::StrCat("herald_escalator_", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "herald.db").string();
  int64_t id = 0;
  {
    CoreHarness before(*OpenSqliteStore(db));
    id = Open(before);
  }  // heraldd stops
  CoreHarness after(*OpenSqliteStore(db));
  after.clock.Advance(absl::Minutes(15));
  EXPECT_EQ(*after.jobs.RunDueJobs(), 1);
  EXPECT_THAT(StaffRecipients(after, id), ::testing::Contains("person:carol"));
}

}  // namespace
}  // namespace herald
