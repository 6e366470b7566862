// RotaOverrides records temporary replacements of a rota's point person
// ("Erin covers for Bob until Friday"). They are durable, take effect in
// PointPersonResolver wherever the point person is named, and can be
// removed. Thread-safe (the store serializes writers).
#ifndef HERALD_SERVER_CORE_ONCALL_ROTA_OVERRIDES_H_
#define HERALD_SERVER_CORE_ONCALL_ROTA_OVERRIDES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "herald/v1/domain.pb.h"
#include "server/core/core_deps.h"
#include "server/core/org/authorizer.h"

namespace herald {

// Names `incident`'s point person and rota at `now`: the first affected
// component that a rota covers decides, with that rota's active overrides
// applied. Leaves both empty when no rota covers any component.
absl::Status AssignPointPerson(StoreReader& reader, const Organisation& org,
                               absl::Time now, v1::Incident& incident);

class RotaOverrides {
 public:
  explicit RotaOverrides(const CoreDeps& deps);

  // Stores an override of `rota_id` by `person_id` over [starts_at, ends_at).
  // An unset `starts_at` means now. InvalidArgument names the bad field
  // (unknown rota or person, an end not after the start or in the past).
  absl::StatusOr<v1::RotaOverride> Create(const Caller& caller,
                                          v1::RotaOverride override) const;

  // Overrides of `rota_id` (empty: all) that have not ended. NotFound for an
  // unknown rota.
  absl::StatusOr<std::vector<v1::RotaOverride>> List(
      const std::string& rota_id) const;

  // NotFound when there is no override `id`.
  absl::Status Delete(const Caller& caller, int64_t id) const;

 private:
  const CoreDeps& deps_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_ONCALL_ROTA_OVERRIDES_H_
