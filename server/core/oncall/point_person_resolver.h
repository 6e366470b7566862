// PointPersonResolver names the communication point person of each rota at a
// given instant. Rotas hand off weekly at a local wall-clock time in a named
// IANA time zone; shifts are counted in civil days, so a handoff stays at the
// same local time across daylight-saving changes.
// Immutable after construction; thread-safe.
#ifndef HERALD_SERVER_CORE_ONCALL_POINT_PERSON_RESOLVER_H_
#define HERALD_SERVER_CORE_ONCALL_POINT_PERSON_RESOLVER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "herald/v1/config.pb.h"
#include "herald/v1/domain.pb.h"

namespace herald {

class PointPersonResolver {
 public:
  struct Rota {
    std::string id;
    std::vector<std::string> component_ids;
    std::vector<std::string> members;  // rotation order; never empty
    std::string backup;
    absl::TimeZone zone;
    absl::Weekday handoff_weekday = absl::Weekday::monday;
    int handoff_minute_of_day = 9 * 60;
    absl::CivilDay start_day;
    absl::Duration ack_timeout = absl::Minutes(15);
    std::vector<std::string> escalation;  // after the backup, in order
    v1::AuthorityScope authority;
  };

  // Builds a rota from config. Returns InvalidArgument naming the field
  // (relative to the rota, e.g. "time_zone") when it cannot be used.
  static absl::StatusOr<Rota> RotaFromConfig(const v1::RotaConfig& config);

  explicit PointPersonResolver(std::vector<Rota> rotas);

  // Who holds the role for the first rota covering `component_id` at `at`.
  // An override of that rota active at `at` (the newest, if several) names
  // the point person instead. Returns NotFound when no rota covers the
  // component.
  absl::StatusOr<v1::OnCallAssignment> ForComponent(
      const std::string& component_id, absl::Time at,
      absl::Span<const v1::RotaOverride> overrides = {}) const;

  // Every rota's assignment at `at`, in config order.
  std::vector<v1::OnCallAssignment> All(
      absl::Time at, absl::Span<const v1::RotaOverride> overrides = {}) const;

  // The rota with `id`, or nullptr.
  const Rota* Find(const std::string& id) const;

  // Who is told, in order, when the point person does not acknowledge: the
  // backup, then the escalation chain. Empty entries are left out.
  static std::vector<std::string> EscalationPath(const Rota& rota);

 private:
  v1::OnCallAssignment Assign(
      const Rota& rota, absl::Time at,
      absl::Span<const v1::RotaOverride> overrides) const;

  std::vector<Rota> rotas_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_ONCALL_POINT_PERSON_RESOLVER_H_
