// Recording customer messages: a new draft is stored as version 1, and every
// decision about a message (its drafting, each edit, approval, rejection,
// being superseded) is appended to the store's audit log in the same
// transaction as the change itself. Stateless functions.
#ifndef HERALD_SERVER_CORE_COMMS_MESSAGE_RECORDS_H_
#define HERALD_SERVER_CORE_COMMS_MESSAGE_RECORDS_H_

#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"
#include "server/store/store.h"

namespace herald {

// The actor recorded for what herald does by itself.
inline constexpr char kHeraldActor[] = "herald";

// What one customer message may hold, and a reason for a rejection.
inline constexpr size_t kMaxMessageTitleBytes = 300;
inline constexpr size_t kMaxMessageBodyBytes = 10000;
inline constexpr size_t kMaxReasonBytes = 1000;

absl::Status AuditMessage(StoreTxn& txn, const v1::Message& message,
                          const std::string& actor_id, absl::string_view action,
                          std::string detail, absl::Time now);

// Stores the message's current title and body as its version `version`.
absl::Status StoreMessageVersion(StoreTxn& txn, const v1::Message& message,
                                 absl::Time now);

// Stores `draft` (herald's rendering) as version 1 of a new message written
// by `author_id`, with its first version and a "drafted" audit entry.
// Returns it with its id and ref.
absl::StatusOr<v1::Message> StoreDraft(StoreTxn& txn, v1::Message draft,
                                       const std::string& author_id,
                                       absl::Time now);

// Whether the moment maintenance notice `notice` of maintenance `incident`
// is for has passed at `now`: the reminder once `reminder_before` ahead of
// the window (its job has run) or once the window started, the "started"
// notice once it started, the "completed" notice once it is completed.
// False for every other message.
bool NoticeMomentPassed(const v1::Message& notice, const v1::Incident& incident,
                        absl::Time now, absl::Duration reminder_before);

// Supersedes the incident's messages of `kinds` that await approval, were
// rejected, or were approved and are held for their moment (maintenance
// notices), auditing each with `why`. Returns how many were still awaiting
// approval (not rejected): drafts a comms lead has been told of and not yet
// decided on.
absl::StatusOr<int> SupersedeDrafts(
    StoreTxn& txn, int64_t incident_id,
    std::initializer_list<v1::MessageKind> kinds, const std::string& actor_id,
    absl::string_view why, absl::Time now);

}  // namespace herald

#endif  // HERALD_SERVER_CORE_COMMS_MESSAGE_RECORDS_H_
