// CommsWorkflow is what people do to an incident: engineers post short notes
// (each refreshes the point person's draft), someone resolves it (drafting
// the resolution notice and the personal apologies), and a comms lead
// approves a message, which publishes it and queues its deliveries in the
// same transaction. Role checks happen at the API edge; this class enforces
// the domain's rules. Thread-safe (the store serializes writers).
#ifndef HERALD_SERVER_CORE_COMMS_COMMS_WORKFLOW_H_
#define HERALD_SERVER_CORE_COMMS_COMMS_WORKFLOW_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"
#include "server/core/aftercare/aftercare.h"
#include "server/core/comms/cadence_keeper.h"
#include "server/core/comms/delivery_planner.h"
#include "server/core/comms/message_drafter.h"
#include "server/core/core_deps.h"
#include "server/core/org/authorizer.h"

namespace herald {

// Engineer updates are short by design; comms.max_update_length overrides.
inline constexpr size_t kDefaultMaxUpdateLength = 500;

// The optional parts of an engineer's update.
struct UpdateDetails {
  v1::IncidentStatus status_hint = v1::INCIDENT_STATUS_UNSPECIFIED;
  absl::Duration eta = absl::ZeroDuration();  // zero: none given
  std::string next_step;
};

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
  int64_t deliveries_enqueued = 0;
};

// What the approver chose beyond "publish this version".
struct ApprovalChoice {
  // Publish an engineer's words that the text still holds as written.
  bool publish_as_written = false;
  // For a maintenance announcement: the version of each notice its
  // approval covers, by ref, as the approver saw them. Set, the approval
  // is refused (Aborted) when a covered notice is not among them or has
  // changed since; unset, the notices are approved as they are now.
  std::optional<std::map<std::string, int32_t>> covered_versions;
};

class CommsWorkflow {
 public:
  CommsWorkflow(const CoreDeps& deps, const MessageDrafter& drafter,
                const DeliveryPlanner& planner, const CadenceKeeper& cadence,
                const Aftercare& aftercare);

  // Stores `text` as an update to `incident_id` and replaces the pending
  // status-update draft with a fresh one. InvalidArgument for empty or
  // over-long text, a status hint other than identified/monitoring, or a
  // negative ETA; NotFound for an unknown incident; FailedPrecondition once
  // resolved.
  absl::StatusOr<PostedUpdate> PostUpdate(const Caller& caller,
                                          int64_t incident_id,
                                          const std::string& text,
                                          const UpdateDetails& details = {});
  // PostUpdate without waiting for the commit, for callers that must not
  // block (RPC handlers): `done` gets what PostUpdate would have returned.
  // It may run on the store's writer thread, so it must be quick and must
  // not call the store.
  void PostUpdateAsync(
      const Caller& caller, int64_t incident_id, const std::string& text,
      const UpdateDetails& details,
      absl::AnyInvocable<void(absl::StatusOr<PostedUpdate>)> done);

  // Resolves `incident_id` and drafts the resolution notice and the apology,
  // and sets the reminder for an apology left unapproved.
  // NotFound for an unknown incident; FailedPrecondition when already resolved.
  absl::StatusOr<Resolution> Resolve(const Caller& caller, int64_t incident_id,
                                     const std::string& note);

  // A message's life: herald drafts it (version 1); people edit it, each
  // edit adding a version; an approver approves it, which publishes it, or
  // rejects it with a reason, after which an edit makes it a draft again. A
  // newer draft of the same kind supersedes it. Published and superseded
  // messages never change. Each step is recorded in the audit log.
  //
  // The errors, the same for every step: NotFound for an unknown message;
  // FailedPrecondition when its state does not allow the step; Aborted when
  // `expected_version` is not 0 and the message has another version (someone
  // edited it since the caller looked); PermissionDenied when the caller's
  // authority does not cover the message, or the four-eyes policy forbids
  // the caller to decide on their own edit; InvalidArgument for bad input.

  // Approves and publishes `message_id` (a draft, or pending approval). An
  // apology first fixes each affected customer's amends (Aftercare), and
  // goes to them. A version that still holds an engineer's words as written
  // (UneditedEngineerWords) is refused with FailedPrecondition naming them,
  // unless `choice.publish_as_written`; the audit log says which it was.
  absl::StatusOr<Publication> Approve(const Caller& caller, int64_t message_id,
                                      int32_t expected_version,
                                      ApprovalChoice choice = {});

  // Stores a new version of a draft, pending or rejected message with the
  // given title and/or body (an empty one is kept), component statuses
  // (components not named keep theirs) and translations by language tag
  // (title and body; neither removes the language; languages not named
  // keep theirs); the message becomes a draft again. InvalidArgument when
  // nothing would change, for an unknown component or an unset status, and
  // for a translation into the default language, into one herald has no
  // templates for (no reader would get it), or with only a title or a body.
  absl::StatusOr<v1::Message> Edit(
      const Caller& caller, int64_t message_id, int32_t expected_version,
      const std::string& title, const std::string& body,
      const std::map<std::string, v1::ComponentStatus>& statuses = {},
      const std::map<std::string, v1::Translation>& translations = {});

  // Rejects a draft or pending message; `reason` is required.
  absl::StatusOr<v1::Message> Reject(const Caller& caller, int64_t message_id,
                                     int32_t expected_version,
                                     const std::string& reason);

  // Which failed deliveries to queue again: those of one message, or (with
  // message_id 0) every failed one, optionally only those queued at or
  // after `since` or last tried on `channel`.
  struct RetryFilter {
    int64_t message_id = 0;
    absl::Time since = absl::InfinitePast();
    v1::ChannelKind channel = v1::CHANNEL_KIND_UNSPECIFIED;
  };
  // Queues the failed deliveries `filter` names again, each from its
  // recipient's first contact with the same idempotency keys, and records
  // the retry in each message's audit log (staff notices: the incident's).
  // Returns how many were queued. NotFound for an unknown message. Works a
  // page of deliveries per transaction.
  absl::StatusOr<int> RetryFailedDeliveries(const Caller& caller,
                                            const RetryFilter& filter) const;

 private:
  // Queues `failed` again from each recipient's first contact and audits
  // it per message (staff notices: per incident). Returns how many.
  absl::StatusOr<int> Requeue(StoreTxn& txn, const Caller& caller,
                              std::vector<v1::Delivery> failed,
                              absl::Time now) const;
  // Comms leads approve anything; the incident's point person approves the
  // message kinds their rota's authority scope lists. PermissionDenied
  // otherwise, saying why.
  absl::Status CheckAuthority(const Caller& caller, const v1::Message& message,
                              const v1::Incident& incident) const;
  // Loads a message for a decision (approve or reject): it must await
  // approval, be at `expected_version`, be within the caller's authority and,
  // under four eyes, not be the caller's own edit.
  absl::StatusOr<v1::Message> LoadForDecision(StoreTxn& txn,
                                              const Caller& caller,
                                              int64_t message_id,
                                              int32_t expected_version,
                                              absl::string_view verb,
                                              v1::Incident& incident) const;

  const CoreDeps& deps_;
  const MessageDrafter& drafter_;
  const DeliveryPlanner& planner_;
  const CadenceKeeper& cadence_;
  const Aftercare& aftercare_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_COMMS_COMMS_WORKFLOW_H_
