// MaintenanceScheduler announces planned work ahead of time and carries out
// its window. Scheduling opens a maintenance "incident" (status scheduled)
// with an announcement draft that goes through the same approval path as
// every customer message; publishing it puts the maintenance on the status
// page and emails the components' subscribers. When the window starts, the
// components go under_maintenance; when it ends (or is cancelled), each one
// still under_maintenance gets back the status it had before. Window changes
// run as durable jobs, so a restart neither skips nor repeats them.
// Immutable; thread-safe.
#ifndef HERALD_SERVER_CORE_COMMS_MAINTENANCE_SCHEDULER_H_
#define HERALD_SERVER_CORE_COMMS_MAINTENANCE_SCHEDULER_H_

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
  v1::Message draft;  // the announcement, awaiting approval
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

  // Ends the maintenance now: restores its components if the window had
  // started, supersedes an announcement not yet approved, and marks it
  // completed. FailedPrecondition when `incident_id` is not maintenance or
  // has already ended.
  absl::StatusOr<v1::Incident> Cancel(const Caller& caller, int64_t incident_id,
                                      absl::string_view reason) const;

  // The window's jobs (JOB_KIND_MAINTENANCE_START, _END), run by JobRunner.
  // Jobs for a maintenance that has moved on are no-ops.
  absl::Status RunWindowJob(StoreTxn& txn, const v1::Job& job) const;

 private:
  absl::Status Start(StoreTxn& txn, v1::Incident& incident,
                     absl::Time now) const;
  absl::Status Finish(StoreTxn& txn, v1::Incident& incident, absl::Time now,
                      const std::string& actor, absl::string_view why) const;

  const CoreDeps& deps_;
  const MessageDrafter& drafter_;
  const DeliveryPlanner& planner_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_COMMS_MAINTENANCE_SCHEDULER_H_
