#include "server/core/job_runner.h"

#include <utility>
#include <vector>

namespace herald {
namespace {

// How long a claimed job is held: a job runs in one transaction, within
// seconds. One whose run failed (the store could not write) is run again
// when its lease ends.
constexpr absl::Duration kJobLease = absl::Minutes(1);

}  // namespace

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
  // Claimed with a lease: no other runner, here or in another heraldd on
  // the same store, takes these jobs while it runs; a runner that dies
  // gives them back when it ends.
  absl::StatusOr<std::vector<v1::Job>> due =
      deps_.store.ClaimDueJobs(ClaimRequest{
          .now = deps_.clock.Now(), .lease = kJobLease, .limit = batch});
  if (!due.ok()) return due.status();
  for (v1::Job& job : *due) {
    absl::Status ran = deps_.store.Write(
        [&](StoreTxn& txn) { return Run(txn, std::move(job)); });
    if (!ran.ok()) return ran;
  }
  return static_cast<int>(due->size());
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
