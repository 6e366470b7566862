// Escalator makes sure someone always answers. When an incident is assigned,
// it starts an acknowledgement timer (a durable job). If the point person has
// not run `herald ack` when it fires, the rota's backup is told, then each
// step of the escalation chain, one ack timeout apart, until someone
// acknowledges or the chain is exhausted. Jobs live in the store, so timers
// survive restarts; JobRunner runs them, driven by a scheduler in production
// and by a fake clock in tests. Thread-safe (the store serializes writers).
#ifndef HERALD_SERVER_CORE_ONCALL_ESCALATOR_H_
#define HERALD_SERVER_CORE_ONCALL_ESCALATOR_H_

#include "absl/status/statusor.h"
#include "herald/v1/domain.pb.h"
#include "server/core/comms/delivery_planner.h"
#include "server/core/core_deps.h"
#include "server/core/org/authorizer.h"

namespace herald {

class Escalator {
 public:
  Escalator(const CoreDeps& deps, const DeliveryPlanner& planner);

  // Schedules the first acknowledgement timeout for `incident`, whose point
  // person was just named. No-op when the incident has no rota.
  absl::Status StartClock(StoreTxn& txn, const v1::Incident& incident) const;

  // Records `caller`'s acknowledgement, which stops escalation. Acknowledging
  // again returns the incident unchanged. NotFound for an unknown incident;
  // FailedPrecondition once resolved; PermissionDenied unless the caller is
  // the point person, on the escalation path, or a comms lead.
  absl::StatusOr<v1::Incident> Acknowledge(const Caller& caller,
                                           int64_t incident_id) const;

  // Runs a due JOB_KIND_ACK_TIMEOUT job: escalates one step unless someone
  // has acknowledged (or a newer timer superseded this one).
  absl::Status RunAckTimeout(StoreTxn& txn, const v1::Job& job) const;

 private:
  const CoreDeps& deps_;
  const DeliveryPlanner& planner_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_ONCALL_ESCALATOR_H_
