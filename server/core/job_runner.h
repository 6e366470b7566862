// JobRunner runs herald's durable timers: it finds the jobs due at the
// clock's now and runs each in its own transaction, marking it done in the
// same transaction, so a job runs once even across restarts. Acknowledgement
// timeouts go to the Escalator, update-cadence jobs to the CadenceKeeper,
// maintenance windows to the MaintenanceScheduler, apology reminders to
// Aftercare and follow-ups to FollowUps.
// Driven by a PeriodicRunner in heraldd and by a fake clock in tests.
// Thread-safe.
#ifndef HERALD_SERVER_CORE_JOB_RUNNER_H_
#define HERALD_SERVER_CORE_JOB_RUNNER_H_

#include "absl/status/statusor.h"
#include "server/core/aftercare/aftercare.h"
#include "server/core/aftercare/follow_ups.h"
#include "server/core/comms/cadence_keeper.h"
#include "server/core/comms/maintenance_scheduler.h"
#include "server/core/core_deps.h"
#include "server/core/oncall/escalator.h"

namespace herald {

class JobRunner {
 public:
  JobRunner(const CoreDeps& deps, const Escalator& escalator,
            const CadenceKeeper& cadence,
            const MaintenanceScheduler& maintenance, const Aftercare& aftercare,
            const FollowUps& follow_ups);

  // Claims (Store::ClaimDueJobs) and runs up to `batch` due jobs, oldest
  // first; each job's run and its `done` commit together. A job whose run
  // fails does not stop the others; it is due again at once. Returns how
  // many ran, or the first failure.
  absl::StatusOr<int> RunDueJobs(int batch = 64) const;

 private:
  // Runs `job` and marks it done; returns how many messages it published
  // (a held maintenance notice, a follow-up), for the metric.
  absl::StatusOr<int> Run(StoreTxn& txn, v1::Job job) const;

  const CoreDeps& deps_;
  const Escalator& escalator_;
  const CadenceKeeper& cadence_;
  const MaintenanceScheduler& maintenance_;
  const Aftercare& aftercare_;
  const FollowUps& follow_ups_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_JOB_RUNNER_H_
