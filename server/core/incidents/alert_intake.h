// AlertIntake turns alert-group notifications into incidents. It
// deduplicates alerts by fingerprint and routes them to components (an alert
// no matcher claims goes to the default component, flagged unrouted). A group
// with no open incident reopens its incident if that was resolved within the
// reopen window, else attaches to an open incident on the same components
// (unless configured not to), else opens a new one, names the point person,
// tells them and starts the acknowledgement clock. An incident whose alerts
// have all resolved is marked ready to resolve; a person resolves it.
// Receiving the same notification again changes nothing. Each notification
// is applied in one store transaction, so a caller may acknowledge it once
// Ingest returns OK. Thread-safe (the store serializes writers).
#ifndef HERALD_SERVER_CORE_INCIDENTS_ALERT_INTAKE_H_
#define HERALD_SERVER_CORE_INCIDENTS_ALERT_INTAKE_H_

#include <cstdint>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "herald/v1/domain.pb.h"
#include "server/core/comms/cadence_keeper.h"
#include "server/core/comms/delivery_planner.h"
#include "server/core/comms/message_drafter.h"
#include "server/core/core_deps.h"
#include "server/core/incidents/intake_limits.h"
#include "server/core/oncall/escalator.h"

namespace herald {

struct IntakeResult {
  int64_t incident_id = 0;  // 0 when the group has no open incident
  bool opened = false;      // this notification opened the incident
  bool reopened = false;    // ... or reopened a recently resolved one
  bool attached = false;    // ... or joined an open one on the same components
  bool changed = false;     // anything was written at all
  // New alerts not stored: the incident held max_alerts_per_incident.
  int alerts_over_limit = 0;
};

class AlertIntake {
 public:
  AlertIntake(const CoreDeps& deps, const MessageDrafter& drafter,
              const DeliveryPlanner& planner, const Escalator& escalator,
              const CadenceKeeper& cadence);

  // Applies `group`, first brought within intake.limits (see IntakeLimits:
  // long texts are cut with a marker, a long group key digested).
  // InvalidArgument naming the field when the group is beyond those limits;
  // nothing is written then. Returns Unavailable when the store cannot
  // commit; the caller should then ask the sender to retry.
  absl::StatusOr<IntakeResult> Ingest(const v1::AlertGroup& group);
  // Ingest without waiting for the commit: `done` gets what Ingest would have
  // returned. It may run on the store's writer thread, so it must be quick
  // (hand the result to the caller's own thread) and must not call the store.
  void IngestAsync(v1::AlertGroup group,
                   absl::AnyInvocable<void(absl::StatusOr<IntakeResult>)> done);

 private:
  absl::Status ApplyInTxn(StoreTxn& txn, const v1::AlertGroup& group,
                          IntakeResult& result, int& new_unrouted);
  // Metrics for a notification that arrived at `received_at` and whose
  // transaction has committed.
  void CountCommitted(const v1::AlertGroup& group, const IntakeResult& result,
                      int new_unrouted, absl::Time received_at,
                      const LimitHits& hits);
  // ApplyIntakeLimits with the organisation's limits; counts a refusal.
  absl::Status Bound(v1::AlertGroup& group, LimitHits& hits);
  absl::StatusOr<IntakeResult> IngestInTxn(StoreTxn& txn,
                                           const v1::AlertGroup& group,
                                           int* new_unrouted);
  // Finds or creates the incident for a group that has none open.
  absl::StatusOr<v1::Incident> IncidentFor(StoreTxn& txn,
                                           const v1::AlertGroup& group,
                                           const std::vector<v1::Alert>& firing,
                                           IntakeResult& result);
  absl::StatusOr<v1::Incident> Open(StoreTxn& txn, const v1::AlertGroup& group,
                                    const std::vector<v1::Alert>& firing);
  // The first public word, ready to approve: an investigating draft from the
  // alert's annotations; comms leads are told it waits.
  absl::Status DraftFirstMessage(StoreTxn& txn, const v1::Incident& incident);
  // Opens a recently resolved incident again: internally investigating,
  // listed and taking updates, acknowledgement and cadence as a new one; the
  // comms leads get a draft to approve, and until then customers keep seeing
  // what they were last told.
  absl::Status Reopen(StoreTxn& txn, v1::Incident& incident,
                      const v1::AlertGroup& group);
  // The reopened incident's draft: "the problem is back" when customers were
  // told it is resolved, else a first (or next) investigating update.
  absl::Status DraftReopenedMessage(StoreTxn& txn,
                                    const v1::Incident& incident);

  const CoreDeps& deps_;
  const MessageDrafter& drafter_;
  const DeliveryPlanner& planner_;
  const Escalator& escalator_;
  const CadenceKeeper& cadence_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_INCIDENTS_ALERT_INTAKE_H_
