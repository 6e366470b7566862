#include "server/core/oncall/point_person_resolver.h"

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/proto_time.h"

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

PointPersonResolver::Rota WeeklyRota(const std::string& zone) {
  v1::RotaConfig c;
  c.set_id("comms");
  c.add_component_ids("checkout");
  c.add_members("bob");
  c.add_members("erin");
  c.set_time_zone(zone);
  c.set_handoff_weekday(v1::WEEKDAY_SUNDAY);
  c.set_handoff_time(
      "02:30");  // inside the DST gap or overlap on change nights
  c.set_start_date("2026-01-04");  // a Sunday
  return *PointPersonResolver::RotaFromConfig(c);
}

struct DstCase {
  std::string zone, change_night;  // the Sunday the clocks change
};

class RotationAcrossDstTest : public ::testing::TestWithParam<DstCase> {};

// On each change night the handoff still happens exactly once, shifts stay
// contiguous, and every instant belongs to exactly the shift that contains it.
// A handoff inside the spring gap happens at the transition (03:00 local); in
// the autumn overlap, at the first 02:30.
TEST_P(RotationAcrossDstTest, HandoffHappensOnceAndShiftsStayAWeekLong) {
  const PointPersonResolver r({WeeklyRota(GetParam().zone)});
  absl::TimeZone tz;
  ASSERT_TRUE(absl::LoadTimeZone(GetParam().zone, &tz));
  absl::CivilDay day;
  ASSERT_TRUE(absl::ParseCivilTime(GetParam().change_night, &day));
  const absl::Time before = absl::FromCivil(
      absl::CivilSecond(day.year(), day.month(), day.day() - 1, 12), tz);
  const absl::Time after = absl::FromCivil(
      absl::CivilSecond(day.year(), day.month(), day.day(), 12), tz);
  const auto a = *r.ForComponent("checkout", before);
  const auto b = *r.ForComponent("checkout", after);
  EXPECT_NE(a.point_person_id(), b.point_person_id());
  EXPECT_EQ(FromProtoTime(a.shift_end()), FromProtoTime(b.shift_start()));
  // Every instant across the night maps to exactly one of the two.
  for (absl::Time t = before; t < after; t += absl::Minutes(10)) {
    const auto x = *r.ForComponent("checkout", t);
    EXPECT_TRUE(x.point_person_id() == a.point_person_id() ||
                x.point_person_id() == b.point_person_id());
    EXPECT_LE(FromProtoTime(x.shift_start()), t);
    EXPECT_LT(t, FromProtoTime(x.shift_end()));
  }
  // Shifts are a week of wall-clock time, give or take the hour the clocks
  // moved and the half hour a gap delays a handoff.
  for (const auto& shift : {a, b}) {
    const absl::Duration len =
        FromProtoTime(shift.shift_end()) - FromProtoTime(shift.shift_start());
    EXPECT_GE(len, absl::Hours(167)) << len;
    EXPECT_LE(len, absl::Hours(169)) << len;
  }
  // Local handoff time is kept where it exists: the week after is exact.
  const auto next = *r.ForComponent("checkout", FromProtoTime(b.shift_end()));
  EXPECT_EQ(absl::FormatTime("%H:%M", FromProtoTime(next.shift_start()), tz),
            "02:30");
}

INSTANTIATE_TEST_SUITE_P(
    EuropeAndAmerica, RotationAcrossDstTest,
    ::testing::Values(DstCase{"Europe/Berlin", "2026-03-29"},  // spring forward
                      DstCase{"Europe/Berlin", "2026-10-25"},  // fall back
                      DstCase{"America/New_York",
                              "2026-03-08"},  // spring forward
                      DstCase{"America/New_York", "2026-11-01"}),  // fall back
    [](const auto& info) {
      std::string name = info.param.zone + "_" + info.param.change_night;
      for (char& c : name) {
        if (!absl::ascii_isalnum(c)) c = '_';
      }
      return name;
    });

TEST(PointPersonResolverOverrideTest, NewestActiveOverrideWins) {
  const PointPersonResolver r({WeeklyRota("UTC")});
  const absl::Time t = At("2026-02-01T12:00:00Z");
  v1::RotaOverride first, second, other_rota;
  for (auto* o : {&first, &second, &other_rota}) {
    o->set_rota_id("comms");
    *o->mutable_starts_at() = ToProtoTime(t - absl::Hours(1));
    *o->mutable_ends_at() = ToProtoTime(t + absl::Hours(1));
  }
  first.set_id(1);
  first.set_person_id("dave");
  second.set_id(2);
  second.set_person_id("fay");
  other_rota.set_id(3);
  other_rota.set_rota_id("elsewhere");
  other_rota.set_person_id("zed");
  EXPECT_EQ(r.ForComponent("checkout", t, {first, second, other_rota})
                ->point_person_id(),
            "fay");
  EXPECT_EQ(r.ForComponent("checkout", t + absl::Hours(2), {first, second})
                ->override_id(),
            0);
}

}  // namespace
}  // namespace herald
