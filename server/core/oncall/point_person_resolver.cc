#include "server/core/oncall/point_person_resolver.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/base/proto_time.h"

namespace herald {
namespace {

absl::Weekday ToAbslWeekday(v1::Weekday w) {
  switch (w) {
    case v1::WEEKDAY_TUESDAY:
      return absl::Weekday::tuesday;
    case v1::WEEKDAY_WEDNESDAY:
      return absl::Weekday::wednesday;
    case v1::WEEKDAY_THURSDAY:
      return absl::Weekday::thursday;
    case v1::WEEKDAY_FRIDAY:
      return absl::Weekday::friday;
    case v1::WEEKDAY_SATURDAY:
      return absl::Weekday::saturday;
    case v1::WEEKDAY_SUNDAY:
      return absl::Weekday::sunday;
    default:
      return absl::Weekday::monday;
  }
}

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace

absl::StatusOr<PointPersonResolver::Rota> PointPersonResolver::RotaFromConfig(
    const v1::RotaConfig& config) {
  Rota rota;
  rota.id = config.id();
  rota.component_ids.assign(config.component_ids().begin(),
                            config.component_ids().end());
  rota.members.assign(config.members().begin(), config.members().end());
  rota.backup = config.backup();
  if (rota.members.empty()) {
    return absl::InvalidArgumentError(
        "members: expected at least one person id");
  }
  const std::string zone_name =
      config.time_zone().empty() ? "UTC" : config.time_zone();
  if (!absl::LoadTimeZone(zone_name, &rota.zone)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "time_zone: expected an IANA time zone name, got \"", zone_name, "\""));
  }
  rota.handoff_weekday = ToAbslWeekday(config.handoff_weekday());
  if (!config.handoff_time().empty()) {
    std::vector<std::string> parts = absl::StrSplit(config.handoff_time(), ':');
    int hh = -1, mm = -1;
    if (parts.size() != 2 || parts[0].size() != 2 || parts[1].size() != 2 ||
        !absl::SimpleAtoi(parts[0], &hh) || !absl::SimpleAtoi(parts[1], &mm) ||
        hh < 0 || hh > 23 || mm < 0 || mm > 59) {
      return absl::InvalidArgumentError(
          absl::StrCat("handoff_time: expected HH:MM (24-hour), got \"",
                       config.handoff_time(), "\""));
    }
    rota.handoff_minute_of_day = hh * 60 + mm;
  }
  absl::CivilDay start(2024, 1, 1);
  if (!config.start_date().empty() &&
      !absl::ParseCivilTime(config.start_date(), &start)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "start_date: expected YYYY-MM-DD, got \"", config.start_date(), "\""));
  }
  // The first shift starts on the handoff weekday on or after start_date.
  while (absl::GetWeekday(start) != rota.handoff_weekday) ++start;
  rota.start_day = start;
  if (!config.ack_timeout().empty()) {
    if (!absl::ParseDuration(config.ack_timeout(), &rota.ack_timeout) ||
        rota.ack_timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ack_timeout: expected a positive duration like \"15m\", got \"",
          config.ack_timeout(), "\""));
    }
  }
  rota.escalation.assign(config.escalation().begin(),
                         config.escalation().end());
  rota.authority = config.authority();
  return rota;
}

PointPersonResolver::PointPersonResolver(std::vector<Rota> rotas)
    : rotas_(std::move(rotas)) {}

absl::StatusOr<v1::OnCallAssignment> PointPersonResolver::ForComponent(
    const std::string& component_id, absl::Time at,
    absl::Span<const v1::RotaOverride> overrides) const {
  for (const Rota& rota : rotas_) {
    for (const std::string& c : rota.component_ids) {
      if (c == component_id) return Assign(rota, at, overrides);
    }
  }
  return absl::NotFoundError(
      absl::StrCat("no rota covers component \"", component_id, "\""));
}

std::vector<v1::OnCallAssignment> PointPersonResolver::All(
    absl::Time at, absl::Span<const v1::RotaOverride> overrides) const {
  std::vector<v1::OnCallAssignment> out;
  for (const Rota& rota : rotas_) out.push_back(Assign(rota, at, overrides));
  return out;
}

const PointPersonResolver::Rota* PointPersonResolver::Find(
    const std::string& id) const {
  for (const Rota& rota : rotas_) {
    if (rota.id == id) return &rota;
  }
  return nullptr;
}

std::vector<std::string> PointPersonResolver::EscalationPath(const Rota& rota) {
  std::vector<std::string> path;
  if (!rota.backup.empty()) path.push_back(rota.backup);
  for (const std::string& p : rota.escalation) {
    if (!p.empty()) path.push_back(p);
  }
  return path;
}

v1::OnCallAssignment PointPersonResolver::Assign(
    const Rota& rota, absl::Time at,
    absl::Span<const v1::RotaOverride> overrides) const {
  auto shift_start = [&](int64_t k) {
    absl::CivilDay day = rota.start_day + 7 * k;
    return absl::CivilSecond(day.year(), day.month(), day.day(),
                             rota.handoff_minute_of_day / 60,
                             rota.handoff_minute_of_day % 60);
  };
  // Shift k runs from the instant of its handoff to the next one. Handoffs
  // are local wall-clock times; in a DST gap absl maps one to the transition
  // instant, in an overlap to its first occurrence. Comparing instants (not
  // civil times) keeps every instant in exactly one shift.
  auto handoff = [&](int64_t k) {
    return absl::FromCivil(shift_start(k), rota.zone);
  };
  const absl::CivilSecond local = absl::ToCivilSecond(at, rota.zone);
  int64_t k = FloorDiv(absl::CivilDay(local) - rota.start_day, 7);
  while (at < handoff(k)) --k;
  while (at >= handoff(k + 1)) ++k;
  const int64_t n = static_cast<int64_t>(rota.members.size());
  const int64_t index = ((k % n) + n) % n;

  v1::OnCallAssignment a;
  a.set_rota_id(rota.id);
  for (const auto& c : rota.component_ids) a.add_component_ids(c);
  a.set_point_person_id(rota.members[index]);
  a.set_backup_id(rota.backup);
  *a.mutable_shift_start() = ToProtoTime(handoff(k));
  *a.mutable_shift_end() = ToProtoTime(handoff(k + 1));
  a.set_time_zone(rota.zone.name());
  for (const auto& p : rota.escalation) a.add_escalation(p);
  *a.mutable_authority() = rota.authority;
  a.set_ack_timeout(absl::FormatDuration(rota.ack_timeout));
  const v1::RotaOverride* active = nullptr;
  for (const v1::RotaOverride& o : overrides) {
    if (o.rota_id() == rota.id && FromProtoTime(o.starts_at()) <= at &&
        at < FromProtoTime(o.ends_at()) && (!active || o.id() > active->id())) {
      active = &o;
    }
  }
  if (active != nullptr) {
    a.set_point_person_id(active->person_id());
    a.set_override_id(active->id());
  }
  return a;
}

}  // namespace herald
