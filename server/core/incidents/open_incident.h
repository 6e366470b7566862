// Loads an incident that people may still act on. Stateless; thread-safe.
#ifndef HERALD_SERVER_CORE_INCIDENTS_OPEN_INCIDENT_H_
#define HERALD_SERVER_CORE_INCIDENTS_OPEN_INCIDENT_H_

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "herald/v1/domain.pb.h"
#include "server/store/store.h"

namespace herald {

// The unresolved incident `id`. NotFound when unknown; FailedPrecondition
// "INC-12 is resolved; <refusal>" once resolved, and for scheduled
// maintenance, which takes no updates, resolution or acknowledgement.
inline absl::StatusOr<v1::Incident> LoadOpenIncident(
    StoreTxn& txn, int64_t id, absl::string_view refusal) {
  absl::StatusOr<v1::Incident> incident = txn.GetIncident(id);
  if (incident.ok() && incident->has_resolved_at()) {
    return absl::FailedPreconditionError(
        absl::StrCat(incident->ref(), " is resolved; ", refusal));
  }
  if (incident.ok() && incident->has_maintenance()) {
    return absl::FailedPreconditionError(absl::StrCat(
        incident->ref(),
        " is scheduled maintenance, not an incident: herald maintenance "
        "complete ",
        incident->ref(),
        " ends it once the work is done (herald maintenance cancel calls it "
        "off before it starts)"));
  }
  return incident;
}

}  // namespace herald

#endif  // HERALD_SERVER_CORE_INCIDENTS_OPEN_INCIDENT_H_
