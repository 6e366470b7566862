// CommsWorkflow is what people do to an incident: engineers post short notes
// (each refreshes the point person's draft), someone resolves it (drafting
// the resolution notice and the personal apologies), and a comms lead
// approves a message, which publishes it and queues its deliveries in the
// same transaction. Role checks happen at the API edge; this class enforces
// the domain's rules. Thread-safe (the store serializes writers).
#ifndef HERALD_SERVER_CORE_COMMS_WORKFLOW_H_
#define HERALD_SERVER_CORE_COMMS_WORKFLOW_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "herald/v1/domain.pb.h"
#include "server/core/authorizer.h"
#include "server/core/core_deps.h"
#include "server/core/delivery_planner.h"
#include "server/core/message_drafter.h"

namespace herald {

// Engineer updates are short by design.
inline constexpr size_t kMaxUpdateLength = 500;

struct PostedUpdate {
  v1::Update update;
  v1::Message draft;
};

struct Resolution {
  v1::Incident incident;
  std::vector<v1::Message> drafts;  // the resolution notice, then the apology
};

struct Publication {
  v1::Message message;
  int deliveries_enqueued = 0;
};

class CommsWorkflow {
 public:
  CommsWorkflow(const CoreDeps& deps, const MessageDrafter& drafter,
                const DeliveryPlanner& planner);

  // Stores `text` as an update to `incident_id` and replaces the pending
  // status-update draft with a fresh one. InvalidArgument for empty or
  // over-long text or a status hint other than identified/monitoring;
  // NotFound for an unknown incident; FailedPrecondition once resolved.
  absl::StatusOr<PostedUpdate> PostUpdate(const Caller& caller,
                                          int64_t incident_id,
                                          const std::string& text,
                                          v1::IncidentStatus status_hint);

  // Resolves `incident_id` and drafts the resolution notice and the apology.
  // NotFound for an unknown incident; FailedPrecondition when already resolved.
  absl::StatusOr<Resolution> Resolve(const Caller& caller, int64_t incident_id,
                                     const std::string& note);

  // Approves and publishes `message_id`. When `expected_version` is not 0 and
  // the message has another version, returns Aborted. FailedPrecondition when
  // the message is not a draft awaiting approval; NotFound when unknown;
  // PermissionDenied when the caller's authority does not cover it.
  absl::StatusOr<Publication> Approve(const Caller& caller, int64_t message_id,
                                      int32_t expected_version);

 private:
  // Comms leads approve anything; the incident's point person approves the
  // message kinds their rota's authority scope lists. PermissionDenied
  // otherwise, saying why.
  absl::Status CheckAuthority(const Caller& caller, const v1::Message& message,
                              const v1::Incident& incident) const;

  const CoreDeps& deps_;
  const MessageDrafter& drafter_;
  const DeliveryPlanner& planner_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_COMMS_WORKFLOW_H_
