#include "server/core/job_runner.h"

#include <utility>
#include <vector>

namespace herald {

JobRunner::JobRunner(const CoreDeps& deps, const Escalator& escalator,
                     const CadenceKeeper& cadence,
                     const MaintenanceScheduler& maintenance,
                     const Aftercare& aftercare, const FollowUps& follow_ups)
    : deps_(deps),
      escalator_(escalator),
      cadence_(cadence),
      maintenance_(maintenance),
      aftercare_(aftercare),
      follow_ups_(follow_ups) {}

absl::StatusOr<int> JobRunner::RunDueJobs(int batch) const {
  std::vector<v1::Job> due;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<v1::Job>> jobs =
        r.ListDueJobs(deps_.clock.Now(), batch);
    if (!jobs.ok()) return jobs.status();
    due = *std::move(jobs);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  for (v1::Job& job : due) {
    absl::Status ran = deps_.store.Write(
        [&](StoreTxn& txn) { return Run(txn, std::move(job)); });
    if (!ran.ok()) return ran;
  }
  return static_cast<int>(due.size());
}

absl::Status JobRunner::Run(StoreTxn& txn, v1::Job job) const {
  job.set_done(true);
  if (auto s = txn.UpdateJob(job); !s.ok()) return s;
  switch (job.kind()) {
    case v1::JOB_KIND_ACK_TIMEOUT:
      return escalator_.RunAckTimeout(txn, job);
    case v1::JOB_KIND_UPDATE_DUE:
      return cadence_.RunUpdateDue(txn, job);
    case v1::JOB_KIND_MAINTENANCE_START:
    case v1::JOB_KIND_MAINTENANCE_END:
      return maintenance_.RunWindowJob(txn, job);
    case v1::JOB_KIND_APOLOGY_REMINDER:
      return aftercare_.RunApologyReminder(txn, job);
    case v1::JOB_KIND_FOLLOW_UP:
      return follow_ups_.RunFollowUp(txn, job);
    default:
      return absl::OkStatus();  // from a newer herald: done, not retried
  }
}

}  // namespace herald
