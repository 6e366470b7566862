// The update cadence, driven by a fake clock: reminders, then the backup and
// a holding statement, and silence whenever customers did hear from us.
#include "server/core/comms/cadence_keeper.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/locale_text.h"
#include "server/store/memory_store.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using testing::CommsLead;
using testing::CoreHarness;
using ::testing::ElementsAre;
using testing::Engineer;
using testing::FiringGroup;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class CadenceTest : public ::testing::Test {
 protected:
  explicit CadenceTest(const v1::Config& config = DefaultConfig())
      : h_(NewMemoryStore(), config) {
    incident_ =  // severity critical: a 30-minute cadence by default
        h_.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  }

  // Posts an update and approves its draft now.
  void Publish(const std::string& text) {
    const v1::Message draft =
        h_.workflow.PostUpdate(Engineer(), incident_, text)->draft;
    ASSERT_TRUE(
        h_.workflow.Approve(CommsLead(), draft.id(), 0, kAsWritten).ok());
  }

  // Staff emails about the cadence ("update-due", "update-overdue").
  std::vector<std::string> CadenceEmails() {
    std::vector<std::string> out;
    for (const v1::Delivery& d : h_.StaffDeliveries(incident_)) {
      if (d.idempotency_key().find("update-") != std::string::npos) {
        out.push_back(d.recipient() + " " + d.subject());
      }
    }
    return out;
  }

  std::vector<v1::Message> Drafts() {
    return h_.queries.ListMessages(incident_, {})->items;
  }

  CoreHarness h_;
  int64_t incident_ = 0;
};

TEST_F(CadenceTest, NothingHappensWithinTheCadence) {
  Publish("rolled back");
  h_.clock.Advance(absl::Minutes(29));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_THAT(CadenceEmails(), IsEmpty());
}

TEST_F(CadenceTest, AfterTheCadenceThePointPersonIsReminded) {
  Publish("rolled back");
  h_.clock.Advance(absl::Minutes(30));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  const std::string pp =
      h_.queries.GetIncident(incident_)->incident.point_person_id();
  EXPECT_THAT(CadenceEmails(), ElementsAre(HasSubstr("person:" + pp +
                                                     " [INC-1] Customers are "
                                                     "due an update")));
}

TEST_F(CadenceTest, AtTwiceTheCadenceTheBackupIsToldAndAHoldingStatementWaits) {
  Publish("rolled back");
  h_.clock.Advance(absl::Minutes(30));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  h_.clock.Advance(absl::Minutes(30));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());

  std::vector<std::string> emails = CadenceEmails();
  ASSERT_EQ(emails.size(), 2u);
  EXPECT_THAT(emails[1], HasSubstr("person:carol [INC-1] Customer update "
                                   "overdue"));  // carol is the backup
  std::vector<v1::Message> drafts = Drafts();
  ASSERT_EQ(drafts.size(), 1u);
  EXPECT_EQ(drafts[0].author_id(), "herald");
  const std::string next =
      FormatTimeOfDay(h_.clock.Now() + absl::Minutes(30), "en", "UTC");
  EXPECT_THAT(drafts[0].body(), HasSubstr("We are still working on"));
  EXPECT_THAT(drafts[0].body(), HasSubstr("next update by " + next));
}

TEST_F(CadenceTest, ANewerUpdateInTimeSilencesTheOldTimers) {
  Publish("rolled back");
  h_.clock.Advance(absl::Minutes(20));
  Publish("errors falling");
  h_.clock.Advance(absl::Minutes(15));  // 35 min after the first
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_THAT(CadenceEmails(), IsEmpty());
  h_.clock.Advance(absl::Minutes(15));  // 30 min after the second
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_THAT(CadenceEmails(), ::testing::SizeIs(1));
}

TEST_F(CadenceTest, AHoldingStatementOnceApprovedRestartsTheCadence) {
  Publish("rolled back");
  h_.clock.Advance(absl::Minutes(60));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  const v1::Message holding = Drafts().at(0);
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), holding.id(), 0, kAsWritten).ok());
  h_.clock.Advance(absl::Minutes(29));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_THAT(CadenceEmails(), ::testing::SizeIs(2)) << "nothing new yet";
  h_.clock.Advance(absl::Minutes(1));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_THAT(CadenceEmails(), ::testing::SizeIs(3));
}

TEST_F(CadenceTest, AResolvedIncidentNeedsNoMoreUpdates) {
  Publish("rolled back");
  ASSERT_TRUE(h_.workflow.Resolve(Engineer(), incident_, "fixed").ok());
  h_.clock.Advance(absl::Hours(2));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_THAT(CadenceEmails(), IsEmpty());
}

v1::Config NoCriticalCadence() {
  v1::Config c = DefaultConfig();
  (*c.mutable_comms()->mutable_update_cadence())["critical"] = "0s";
  return c;
}

class NoCadenceTest : public CadenceTest {
 protected:
  NoCadenceTest() : CadenceTest(NoCriticalCadence()) {}
};

TEST_F(NoCadenceTest, AZeroCadenceSchedulesNothing) {
  Publish("rolled back");
  h_.clock.Advance(absl::Hours(5));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_THAT(CadenceEmails(), IsEmpty());
  EXPECT_THAT(Drafts(), IsEmpty());
}

TEST(CadenceConfigTest, BadEntriesAreNamedByField) {
  v1::Config bad_impact = DefaultConfig();
  (*bad_impact.mutable_comms()->mutable_update_cadence())["urgent"] = "10m";
  absl::Status s = Organisation::Create(bad_impact).status();
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("comms.update_cadence[urgent]: expected an impact"));
  v1::Config bad_duration = DefaultConfig();
  (*bad_duration.mutable_comms()->mutable_update_cadence())["major"] = "often";
  s = Organisation::Create(bad_duration).status();
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("comms.update_cadence[major]: expected a duration"));
}

TEST(CadenceConfigTest, DefaultsFollowImpact) {
  auto org = *Organisation::Create(DefaultConfig());
  EXPECT_EQ(org->UpdateCadence(v1::IMPACT_CRITICAL), absl::Minutes(30));
  EXPECT_EQ(org->UpdateCadence(v1::IMPACT_MAJOR), absl::Hours(1));
  EXPECT_EQ(org->UpdateCadence(v1::IMPACT_MINOR), absl::Hours(2));
  EXPECT_EQ(org->UpdateCadence(v1::IMPACT_NONE), absl::ZeroDuration());
}

}  // namespace
}  // namespace herald
