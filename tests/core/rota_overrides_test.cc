#include "server/core/oncall/rota_overrides.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/proto_time.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using testing::CommsLead;
using testing::CoreHarness;
using testing::FiringGroup;
using ::testing::HasSubstr;

v1::RotaOverride Override(const std::string& person, absl::Time from,
                          absl::Time until) {
  v1::RotaOverride o;
  o.set_rota_id("customer-comms");
  o.set_person_id(person);
  *o.mutable_starts_at() = ToProtoTime(from);
  *o.mutable_ends_at() = ToProtoTime(until);
  return o;
}

TEST(RotaOverridesTest, OverrideNamesThePointPersonWhileActive) {
  CoreHarness h;
  const absl::Time now = h.clock.Now();
  ASSERT_TRUE(
      h.overrides
          .Create(CommsLead(), Override("dave", now, now + absl::Hours(2)))
          .ok());
  std::vector<v1::OnCallAssignment> during = *h.queries.OnCall("checkout", now);
  EXPECT_EQ(during[0].point_person_id(), "dave");
  EXPECT_NE(during[0].override_id(), 0);
  const int64_t id =
      h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  EXPECT_EQ(h.queries.GetIncident(id)->incident.point_person_id(), "dave");

  std::vector<v1::OnCallAssignment> after =
      *h.queries.OnCall("checkout", now + absl::Hours(3));
  EXPECT_NE(after[0].point_person_id(), "dave");
  EXPECT_EQ(after[0].override_id(), 0);
}

TEST(RotaOverridesTest, RemovedOverrideNoLongerApplies) {
  CoreHarness h;
  const absl::Time now = h.clock.Now();
  const v1::RotaOverride o = *h.overrides.Create(
      CommsLead(), Override("dave", now, now + absl::Hours(2)));
  ASSERT_EQ(h.overrides.List("")->size(), 1u);
  ASSERT_TRUE(h.overrides.Delete(CommsLead(), o.id()).ok());
  EXPECT_NE((*h.queries.OnCall("checkout", now))[0].point_person_id(), "dave");
  EXPECT_EQ(h.overrides.Delete(CommsLead(), o.id()).code(),
            absl::StatusCode::kNotFound);
}

TEST(RotaOverridesTest, BadOverridesAreRefusedNamingTheField) {
  CoreHarness h;
  const absl::Time now = h.clock.Now();
  v1::RotaOverride unknown_rota = Override("dave", now, now + absl::Hours(1));
  unknown_rota.set_rota_id("nope");
  EXPECT_THAT(
      std::string(
          h.overrides.Create(CommsLead(), unknown_rota).status().message()),
      HasSubstr("rota"));
  EXPECT_THAT(
      std::string(
          h.overrides
              .Create(CommsLead(), Override("zed", now, now + absl::Hours(1)))
              .status()
              .message()),
      HasSubstr("person"));
  EXPECT_EQ(h.overrides.Create(CommsLead(), Override("dave", now, now))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.overrides
                .Create(CommsLead(), Override("dave", now - absl::Hours(3),
                                              now - absl::Hours(1)))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace herald
