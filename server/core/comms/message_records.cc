#include "server/core/comms/message_records.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "herald/enum_labels.h"
#include "server/base/proto_time.h"
#include "server/core/org/organisation.h"

namespace herald {

absl::Status AuditMessage(StoreTxn& txn, const v1::Message& message,
                          const std::string& actor_id, absl::string_view action,
                          std::string detail, absl::Time now) {
  v1::AuditEntry e;
  e.set_incident_id(message.incident_id());
  e.set_message_id(message.id());
  e.set_message_ref(message.ref());
  e.set_message_version(message.version());
  e.set_actor_id(actor_id);
  e.set_action(std::string(action));
  e.set_detail(std::move(detail));
  *e.mutable_at() = ToProtoTime(now);
  return txn.AppendAudit(e).status();
}

absl::Status StoreMessageVersion(StoreTxn& txn, const v1::Message& message,
                                 absl::Time now) {
  v1::MessageVersion v;
  v.set_message_id(message.id());
  v.set_version(message.version());
  v.set_title(message.title());
  v.set_body(message.body());
  v.set_editor_id(message.last_editor_id());
  *v.mutable_component_statuses() = message.component_statuses();
  *v.mutable_translations() = message.translations();
  *v.mutable_created_at() = ToProtoTime(now);
  return txn.InsertMessageVersion(v);
}

absl::StatusOr<v1::Message> StoreDraft(StoreTxn& txn, v1::Message draft,
                                       const std::string& author_id,
                                       absl::Time now) {
  draft.set_author_id(author_id);
  draft.set_last_editor_id(author_id);
  draft.set_version(1);
  *draft.mutable_created_at() = ToProtoTime(now);
  *draft.mutable_updated_at() = ToProtoTime(now);
  absl::StatusOr<int64_t> id = txn.InsertMessage(draft);
  if (!id.ok()) return id.status();
  draft.set_id(*id);
  draft.set_ref(MessageRef(*id));
  if (auto s = txn.UpdateMessage(draft); !s.ok()) return s;
  if (auto s = StoreMessageVersion(txn, draft, now); !s.ok()) return s;
  if (auto s = AuditMessage(
          txn, draft, author_id, "drafted",
          absl::StrCat(EnumLabel(draft.kind()), " \"", draft.title(), "\""),
          now);
      !s.ok()) {
    return s;
  }
  return draft;
}

namespace {

// A message someone still has to decide on (not a rejected one, nor a
// maintenance notice approved and held for its moment).
bool AwaitsDecision(const v1::Message& m) {
  return m.state() == v1::MESSAGE_STATE_DRAFT ||
         m.state() == v1::MESSAGE_STATE_PENDING_APPROVAL;
}

}  // namespace

bool NoticeMomentPassed(const v1::Message& notice, const v1::Incident& incident,
                        absl::Time now, absl::Duration reminder_before) {
  const std::string& n = notice.maintenance_notice();
  const bool started = incident.status() != v1::INCIDENT_STATUS_SCHEDULED;
  if (n == "reminder") {
    return started || now >= FromProtoTime(incident.maintenance().starts_at()) -
                                 reminder_before;
  }
  if (n == "started") return started;
  if (n == "completed") {
    return incident.status() == v1::INCIDENT_STATUS_COMPLETED;
  }
  return false;
}

absl::StatusOr<int> SupersedeDrafts(
    StoreTxn& txn, int64_t incident_id,
    std::initializer_list<v1::MessageKind> kinds, const std::string& actor_id,
    absl::string_view why, absl::Time now) {
  int unreviewed = 0;
  absl::StatusOr<std::vector<v1::Message>> pending = txn.ListMessages(
      {incident_id,
       {v1::MESSAGE_STATE_DRAFT, v1::MESSAGE_STATE_PENDING_APPROVAL,
        v1::MESSAGE_STATE_REJECTED, v1::MESSAGE_STATE_APPROVED}});
  if (!pending.ok()) return pending.status();
  for (v1::Message& m : *pending) {
    if (std::find(kinds.begin(), kinds.end(), m.kind()) == kinds.end()) {
      continue;
    }
    if (AwaitsDecision(m)) ++unreviewed;
    m.set_state(v1::MESSAGE_STATE_SUPERSEDED);
    *m.mutable_updated_at() = ToProtoTime(now);
    if (auto s = txn.UpdateMessage(m); !s.ok()) return s;
    if (auto s =
            AuditMessage(txn, m, actor_id, "superseded", std::string(why), now);
        !s.ok()) {
      return s;
    }
  }
  return unreviewed;
}

}  // namespace herald
