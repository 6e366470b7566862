// DeliveryPlanner decides who receives what and writes it to the outbox inside
// the caller's transaction, so a message is published and its deliveries are
// queued atomically. Idempotency keys are derived from (message, recipient),
// so queuing the same message twice never doubles a delivery.
// Immutable; thread-safe.
#ifndef HERALD_SERVER_CORE_COMMS_DELIVERY_PLANNER_H_
#define HERALD_SERVER_CORE_COMMS_DELIVERY_PLANNER_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "herald/v1/domain.pb.h"
#include "server/core/comms/message_drafter.h"
#include "server/core/core_deps.h"

namespace herald {

class DeliveryPlanner {
 public:
  DeliveryPlanner(const CoreDeps& deps, const MessageDrafter& drafter);

  // Queues one delivery of the published `message` for each active
  // subscriber of the incident's components (for the affected-customers
  // audience of apologies and follow-ups: each active customer whose amends
  // the apology fixed; for a maintenance cancellation: each active
  // subscriber an earlier notice of it reached or is on its way to), in
  // one set-based statement.
  // Content is rendered per contact when sent, from the message and its
  // published_incident. Returns how many were queued.
  absl::StatusOr<int64_t> EnqueueMessage(StoreTxn& txn,
                                         const v1::Message& message,
                                         const v1::Incident& incident) const;

  // Queues a staff notification (templates `<kind>.email_*`) to
  // `person_id`, with `values` added to the templates' context. `event`
  // makes it unique for the incident: queuing the same event for the same
  // incident and person again is a no-op.
  absl::Status NotifyPerson(
      StoreTxn& txn, absl::string_view event, absl::string_view kind,
      const v1::Incident& incident, const std::string& person_id,
      const v1::Message* message = nullptr,
      const std::map<std::string, std::string>& values = {}) const;
  // NotifyPerson to every comms lead with a contact.
  absl::Status NotifyCommsLeads(
      StoreTxn& txn, absl::string_view event, absl::string_view kind,
      const v1::Incident& incident, const v1::Message* message = nullptr,
      const std::map<std::string, std::string>& values = {}) const;

  // Publishes `message` under an approval already given (its approver_id
  // is set): published now, rendering from `told` (the incident as
  // customers know it once this is out), its deliveries queued, audited as
  // "approved" by `actor` with `why`, and on the timeline. Returns how many
  // recipients were queued.
  absl::StatusOr<int64_t> PublishApproved(StoreTxn& txn, v1::Message& message,
                                          const v1::Incident& incident,
                                          const v1::Incident& told,
                                          const std::string& actor,
                                          absl::string_view why) const;

  const MessageDrafter& drafter() const { return drafter_; }

  // Tells every comms lead that `draft` waits for their approval (template
  // draft_waiting), once per draft.
  absl::Status NotifyDraftWaiting(StoreTxn& txn, const v1::Message& draft,
                                  const v1::Incident& incident) const;

 private:
  const CoreDeps& deps_;
  const MessageDrafter& drafter_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_COMMS_DELIVERY_PLANNER_H_
