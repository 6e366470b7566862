// CadenceKeeper makes sure customers never go long without news. Each
// published status update of an open incident, and each reopening of one
// whose customers were told something, starts the impact's update cadence
// (comms.update_cadence) as two durable jobs. If no newer update is
// published by then, the first reminds the point person; the second, at
// twice the cadence, tells the rota's backup and drafts a holding statement
// ("We are still working on this; next update by HH:MM") for approval.
// Thread-safe (the store serializes writers).
#ifndef HERALD_SERVER_CORE_COMMS_CADENCE_KEEPER_H_
#define HERALD_SERVER_CORE_COMMS_CADENCE_KEEPER_H_

#include "absl/status/status.h"
#include "herald/v1/domain.pb.h"
#include "server/core/comms/delivery_planner.h"
#include "server/core/comms/message_drafter.h"
#include "server/core/core_deps.h"
#include "server/store/store.h"

namespace herald {

class CadenceKeeper {
 public:
  CadenceKeeper(const CoreDeps& deps, const MessageDrafter& drafter,
                const DeliveryPlanner& planner);

  // Starts the cadence after `message` was published on `incident` (only
  // status updates of open incidents have one).
  absl::Status OnPublished(StoreTxn& txn, const v1::Message& message,
                           const v1::Incident& incident) const;

  // Starts the cadence again from now for `incident`, which has just
  // reopened, if its customers were told anything (they were last told it
  // is resolved, or the resolution was never approved).
  absl::Status OnReopened(StoreTxn& txn, const v1::Incident& incident) const;

  // Runs a due JOB_KIND_UPDATE_DUE job. Nothing happens when the incident
  // has been resolved or a newer update or resolution published since.
  absl::Status RunUpdateDue(StoreTxn& txn, const v1::Job& job) const;

 private:
  // The two jobs that follow `message_id`, due one and two cadences after
  // `from`.
  absl::Status StartClock(StoreTxn& txn, const v1::Incident& incident,
                          int64_t message_id, absl::Time from) const;

  const CoreDeps& deps_;
  const MessageDrafter& drafter_;
  const DeliveryPlanner& planner_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_COMMS_CADENCE_KEEPER_H_
