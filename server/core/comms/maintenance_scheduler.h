// MaintenanceScheduler carries planned work from its announcement to its
// end. Scheduling opens a maintenance "incident" (status scheduled) and
// drafts the announcement together with the notices its approval covers:
// a reminder (comms.maintenance_reminder_before ahead of the window, when
// there is still time for one), "started" and "completed". Each is its own
// message and may be edited; one approval, of the announcement, approves
// the set, and each notice is then held until its moment:
//   reminder     the reminder job sends it before the window
//   start        the components go under_maintenance; "started" goes out
//   Complete     someone marks the work done: the components get their
//                status back; "completed" goes out
//   window end   with the work still in progress: the point person is told
//                and an "extended" notice is drafted for approval
//   Cancel       before the window: the notices not yet sent are withdrawn,
//                and if the announcement went out a "cancelled" notice is
//                drafted for approval
// A notice whose moment passed before it was approved is superseded, not
// sent late. Window changes run as durable jobs, so a restart neither
// skips nor repeats them. Immutable; thread-safe.
#ifndef HERALD_SERVER_CORE_COMMS_MAINTENANCE_SCHEDULER_H_
#define HERALD_SERVER_CORE_COMMS_MAINTENANCE_SCHEDULER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"
#include "server/core/comms/delivery_planner.h"
#include "server/core/comms/message_drafter.h"
#include "server/core/core_deps.h"
#include "server/core/org/authorizer.h"

namespace herald {

struct MaintenanceRequest {
  std::vector<std::string> component_ids;
  absl::Time starts_at;
  absl::Time ends_at;
  std::string text;   // what is done, what customers may notice
  std::string title;  // empty: "Scheduled maintenance: <components>"
};

struct ScheduledMaintenance {
  v1::Incident incident;
  v1::Message draft;                 // the announcement, awaiting approval
  std::vector<v1::Message> notices;  // covered by its approval
};

struct CancelledMaintenance {
  v1::Incident incident;
  // The cancellation notice, awaiting approval; unset (id 0) when nobody
  // was told of the maintenance.
  v1::Message draft;
};

struct CompletedMaintenance {
  v1::Incident incident;
  int64_t deliveries_enqueued = 0;  // of the "completed" notice
};

class MaintenanceScheduler {
 public:
  MaintenanceScheduler(const CoreDeps& deps, const MessageDrafter& drafter,
                       const DeliveryPlanner& planner);

  // Opens the maintenance, drafts its announcement, tells the comms leads it
  // waits, and arms the window's start and end. InvalidArgument names the
  // bad field (no or unknown component, empty text, a window that is empty
  // or already over); AlreadyExists when maintenance of the same components
  // from the same start is already scheduled.
  absl::StatusOr<ScheduledMaintenance> Schedule(
      const Caller& caller, MaintenanceRequest request) const;

  // Calls off a maintenance that has not started: withdraws every notice
  // not yet sent, marks it completed, and, when its announcement went out,
  // drafts a "cancelled" notice (with `reason`, an engineer's words) for
  // approval. FailedPrecondition when `incident_id` is not maintenance, has
  // started (customers were told it did: Complete it) or has ended.
  absl::StatusOr<CancelledMaintenance> Cancel(const Caller& caller,
                                              int64_t incident_id,
                                              absl::string_view reason) const;

  // Marks the work of a maintenance in progress done: restores its
  // components, sends the "completed" notice its announcement's approval
  // covers, and withdraws a waiting "extended" draft. FailedPrecondition
  // when it is not maintenance, has not started (cancel it instead) or has
  // already ended.
  absl::StatusOr<CompletedMaintenance> Complete(const Caller& caller,
                                                int64_t incident_id) const;

  // The window's jobs (JOB_KIND_MAINTENANCE_REMINDER, _START, _END), run by
  // JobRunner. Jobs for a maintenance that has moved on are no-ops.
  // Returns how many messages it published (a held notice: 0 or 1).
  absl::StatusOr<int> RunWindowJob(StoreTxn& txn, const v1::Job& job) const;

 private:
  absl::Status Start(StoreTxn& txn, v1::Incident& incident,
                     absl::Time now) const;
  // The window ended with the work still in progress.
  absl::Status Overrun(StoreTxn& txn, const v1::Incident& incident,
                       absl::Time now) const;
  absl::Status Finish(StoreTxn& txn, v1::Incident& incident, absl::Time now,
                      const std::string& actor, absl::string_view why) const;
  // Sends the held notice `notice` (Message.maintenance_notice) of
  // `incident`'s maintenance and returns how many it reached; nullopt when
  // none is approved (customers were never told of the maintenance).
  absl::StatusOr<std::optional<int64_t>> SendHeldNotice(
      StoreTxn& txn, const v1::Incident& incident,
      absl::string_view notice) const;
  // Whether the announcement of `incident_id` went out.
  static absl::StatusOr<bool> Announced(StoreTxn& txn, int64_t incident_id);

  const CoreDeps& deps_;
  const MessageDrafter& drafter_;
  const DeliveryPlanner& planner_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_COMMS_MAINTENANCE_SCHEDULER_H_
