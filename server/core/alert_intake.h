// AlertIntake turns alert-group notifications into incidents. It deduplicates
// alerts by fingerprint, opens one incident per group key, routes alerts to
// components, names the point person and tells them, and marks an incident
// ready to resolve when all of its alerts have resolved. Receiving the same
// notification again changes nothing. Each notification is applied in one
// store transaction, so a caller may acknowledge once Ingest returns OK.
// Thread-safe (the store serializes writers).
#ifndef HERALD_SERVER_CORE_ALERT_INTAKE_H_
#define HERALD_SERVER_CORE_ALERT_INTAKE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "herald/v1/domain.pb.h"
#include "server/core/core_deps.h"
#include "server/core/delivery_planner.h"

namespace herald {

struct IntakeResult {
  int64_t incident_id = 0;  // 0 when the group has no open incident
  bool opened = false;      // this notification opened the incident
  bool changed = false;     // anything was written at all
};

class AlertIntake {
 public:
  AlertIntake(const CoreDeps& deps, const DeliveryPlanner& planner);

  // Applies `group`. Returns Unavailable when the store cannot commit; the
  // caller should then ask the sender to retry.
  absl::StatusOr<IntakeResult> Ingest(const v1::AlertGroup& group);

 private:
  absl::StatusOr<IntakeResult> IngestInTxn(StoreTxn& txn,
                                           const v1::AlertGroup& group);
  absl::StatusOr<v1::Incident> Open(StoreTxn& txn, const v1::AlertGroup& group);

  const CoreDeps& deps_;
  const DeliveryPlanner& planner_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_ALERT_INTAKE_H_
