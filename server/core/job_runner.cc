#include "server/core/job_runner.h"

#include <utility>
#include <vector>

#include "herald/enum_labels.h"
#include "server/core/comms/message_records.h"

namespace herald {
namespace {

// How long a claimed job is held: a job runs in one transaction, within
// seconds.
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
  const absl::Time now = deps_.clock.Now();
  absl::StatusOr<std::vector<v1::Job>> due = deps_.store.ClaimDueJobs(
      ClaimRequest{.now = now, .lease = kJobLease, .limit = batch});
  if (!due.ok()) return due.status();
  absl::Status first_error;
  int ran = 0;
  for (const v1::Job& job : *due) {
    const int64_t id = job.id();
    // Run takes a copy: the store may run this again; what the run that
    // committed published counts.
    int published = 0;
    absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
      absl::StatusOr<int> n = Run(txn, job);
      if (!n.ok()) return n.status();
      published = *n;
      return absl::OkStatus();
    });
    if (s.ok()) {
      ++ran;
      if (published > 0) deps_.metrics.messages_published.Increment(published);
      // What a job changes may be public (a maintenance starting, a notice
      // or a follow-up sent): watchers and the public pages' cache hear
      // of it at once, as they do of every call's change.
      deps_.Emit(job.incident_id(), "job_ran", kHeraldActor,
                 EnumLabel(job.kind()));
      continue;
    }
    // The others still run; this one's lease ends now so that the next
    // pass tries it again (if the store lets the lease go, else when the
    // lease runs out).
    deps_.store.Write([&](StoreTxn& txn) { return txn.LeaseJob(id, now); })
        .IgnoreError();
    if (first_error.ok()) first_error = s;
  }
  if (!first_error.ok()) return first_error;
  return ran;
}

absl::StatusOr<int> JobRunner::Run(StoreTxn& txn, v1::Job job) const {
  job.set_done(true);
  if (auto s = txn.UpdateJob(job); !s.ok()) return s;
  // A job that tells staff, not customers: it publishes nothing.
  const auto none = [](absl::Status s) -> absl::StatusOr<int> {
    if (!s.ok()) return s;
    return 0;
  };
  switch (job.kind()) {
    case v1::JOB_KIND_ACK_TIMEOUT:
      return none(escalator_.RunAckTimeout(txn, job));
    case v1::JOB_KIND_UPDATE_DUE:
      return none(cadence_.RunUpdateDue(txn, job));
    case v1::JOB_KIND_MAINTENANCE_REMINDER:
    case v1::JOB_KIND_MAINTENANCE_START:
    case v1::JOB_KIND_MAINTENANCE_END:
      return maintenance_.RunWindowJob(txn, job);
    case v1::JOB_KIND_APOLOGY_REMINDER:
      return none(aftercare_.RunApologyReminder(txn, job));
    case v1::JOB_KIND_FOLLOW_UP:
      return follow_ups_.RunFollowUp(txn, job);
    default:
      return 0;  // from a newer herald: done, not retried
  }
}

}  // namespace herald
