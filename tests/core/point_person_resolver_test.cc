#include "server/core/point_person_resolver.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/proto_time.h"

namespace herald {
namespace {

using ::testing::HasSubstr;

PointPersonResolver::Rota MakeRota(const std::string& zone,
                                   const std::string& time = "09:00") {
  v1::RotaConfig c;
  c.set_id("comms");
  c.add_component_ids("checkout");
  c.add_members("bob");
  c.add_members("erin");
  c.add_members("fay");
  c.set_backup("carol");
  c.set_time_zone(zone);
  c.set_handoff_weekday(v1::WEEKDAY_MONDAY);
  c.set_handoff_time(time);
  c.set_start_date("2026-01-05");  // a Monday
  absl::StatusOr<PointPersonResolver::Rota> rota =
      PointPersonResolver::RotaFromConfig(c);
  EXPECT_TRUE(rota.ok()) << rota.status();
  return *rota;
}

absl::Time At(const std::string& rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

std::string Who(const PointPersonResolver& r, const std::string& when) {
  return r.ForComponent("checkout", At(when))->point_person_id();
}

TEST(PointPersonResolverTest, FirstMemberHoldsTheFirstWeek) {
  PointPersonResolver r({MakeRota("UTC")});
  EXPECT_EQ(Who(r, "2026-01-05T09:00:00Z"), "bob");
  EXPECT_EQ(Who(r, "2026-01-11T23:59:59Z"), "bob");
  EXPECT_EQ(Who(r, "2026-01-12T09:00:00Z"), "erin");
  EXPECT_EQ(Who(r, "2026-01-19T09:00:00Z"), "fay");
  EXPECT_EQ(Who(r, "2026-01-26T09:00:00Z"), "bob");
}

TEST(PointPersonResolverTest, HandoffHappensAtTheLocalTimeNotBefore) {
  PointPersonResolver r({MakeRota("UTC")});
  EXPECT_EQ(Who(r, "2026-01-12T08:59:59Z"), "bob");
  EXPECT_EQ(Who(r, "2026-01-12T09:00:00Z"), "erin");
}

TEST(PointPersonResolverTest, HandoffStaysAtLocalNineAcrossSpringForward) {
  // Europe/Berlin moves to CEST on Sunday 2026-03-29; the Monday handoff is
  // then at 07:00 UTC instead of 08:00 UTC.
  PointPersonResolver r({MakeRota("Europe/Berlin")});
  const std::string before = Who(r, "2026-03-30T06:59:59Z");
  const std::string after = Who(r, "2026-03-30T07:00:00Z");
  EXPECT_NE(before, after);
  absl::StatusOr<v1::OnCallAssignment> a =
      r.ForComponent("checkout", At("2026-03-30T07:00:00Z"));
  EXPECT_EQ(FromProtoTime(a->shift_start()), At("2026-03-30T07:00:00Z"));
}

TEST(PointPersonResolverTest, ShiftSpanningFallBackIsOneHourLonger) {
  // America/New_York falls back on Sunday 2026-11-01.
  PointPersonResolver r({MakeRota("America/New_York")});
  absl::StatusOr<v1::OnCallAssignment> a =
      r.ForComponent("checkout", At("2026-10-29T12:00:00Z"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(FromProtoTime(a->shift_end()) - FromProtoTime(a->shift_start()),
            absl::Hours(7 * 24 + 1));
}

TEST(PointPersonResolverTest, DstNightAtThreeAmStillNamesTheWeeksHolder) {
  PointPersonResolver r({MakeRota("Europe/Berlin", "02:30")});
  // 02:30 local does not exist on 2026-03-29 (a Sunday); Monday's handoff is
  // unaffected.
  EXPECT_EQ(Who(r, "2026-03-29T01:30:00Z"), Who(r, "2026-03-28T12:00:00Z"));
}

TEST(PointPersonResolverTest, UnknownComponentIsNotFound) {
  PointPersonResolver r({MakeRota("UTC")});
  EXPECT_EQ(
      r.ForComponent("search", At("2026-01-05T10:00:00Z")).status().code(),
      absl::StatusCode::kNotFound);
}

TEST(PointPersonResolverTest, RejectsBadZoneAndTimeNamingTheField) {
  v1::RotaConfig c;
  c.add_members("bob");
  c.set_time_zone("Mars/Olympus");
  EXPECT_THAT(
      std::string(PointPersonResolver::RotaFromConfig(c).status().message()),
      HasSubstr("time_zone"));
  c.set_time_zone("UTC");
  c.set_handoff_time("9am");
  EXPECT_THAT(
      std::string(PointPersonResolver::RotaFromConfig(c).status().message()),
      HasSubstr("handoff_time"));
  c.set_handoff_time("09:00");
  c.clear_members();
  EXPECT_THAT(
      std::string(PointPersonResolver::RotaFromConfig(c).status().message()),
      HasSubstr("members"));
}

}  // namespace
}  // namespace herald
