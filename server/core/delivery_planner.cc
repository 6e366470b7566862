#include "server/core/delivery_planner.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/core/proto_time.h"

namespace herald {
namespace {

bool SubscribesToAny(const v1::Subscriber& s, const v1::Incident& incident) {
  for (const auto& c : s.component_ids()) {
    for (const auto& affected : incident.component_ids()) {
      if (c == affected) return true;
    }
  }
  return false;
}

v1::Delivery NewEmail(const v1::Incident& incident, absl::Time now) {
  v1::Delivery d;
  d.set_incident_id(incident.id());
  d.set_channel(v1::CHANNEL_KIND_EMAIL);
  d.set_state(v1::DELIVERY_STATE_QUEUED);
  *d.mutable_created_at() = ToProtoTime(now);
  *d.mutable_next_attempt_at() = ToProtoTime(now);
  return d;
}

}  // namespace

DeliveryPlanner::DeliveryPlanner(const CoreDeps& deps,
                                 const MessageDrafter& drafter)
    : deps_(deps), drafter_(drafter) {}

absl::StatusOr<std::vector<v1::Delivery>> DeliveryPlanner::PlanMessage(
    StoreReader& reader, const v1::Message& message,
    const v1::Incident& incident) const {
  absl::StatusOr<std::vector<v1::Subscriber>> subscribers =
      reader.ListSubscribers();
  if (!subscribers.ok()) return subscribers.status();
  const absl::Time now = deps_.clock.Now();
  std::vector<v1::Delivery> out;
  std::set<std::string>
      seen_addresses;  // one email per address, however many ids share it
  for (const v1::Subscriber& s : *subscribers) {
    if (s.email().empty() || !SubscribesToAny(s, incident)) continue;
    if (!seen_addresses.insert(s.email()).second) continue;
    absl::StatusOr<Email> email = drafter_.EmailFor(message, incident, s);
    if (!email.ok()) return email.status();
    v1::Delivery d = NewEmail(incident, now);
    d.set_message_id(message.id());
    d.set_recipient(absl::StrCat("subscriber:", s.id()));
    d.set_address(s.email());
    d.set_subject(email->subject);
    d.set_body(email->text);
    d.set_html_body(email->html);
    d.set_idempotency_key(
        absl::StrCat("msg-", message.id(), "-subscriber-", s.id(), "-email"));
    out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<int> DeliveryPlanner::EnqueueMessage(
    StoreTxn& txn, const v1::Message& message,
    const v1::Incident& incident) const {
  absl::StatusOr<std::vector<v1::Delivery>> planned =
      PlanMessage(txn, message, incident);
  if (!planned.ok()) return planned.status();
  for (const v1::Delivery& d : *planned) {
    if (auto id = txn.InsertDelivery(d); !id.ok()) return id.status();
  }
  return static_cast<int>(planned->size());
}

absl::Status DeliveryPlanner::NotifyPerson(StoreTxn& txn,
                                           absl::string_view event,
                                           absl::string_view kind,
                                           const v1::Incident& incident,
                                           const std::string& person_id,
                                           const v1::Message* message) const {
  const v1::PersonConfig* person = deps_.org->FindPerson(person_id);
  if (person == nullptr || person->email().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "person \"", person_id, "\" has no email address to notify"));
  }
  absl::StatusOr<Email> email =
      drafter_.StaffEmail(kind, incident, *person, message);
  if (!email.ok()) return email.status();
  v1::Delivery d = NewEmail(incident, deps_.clock.Now());
  d.set_recipient(absl::StrCat("person:", person_id));
  d.set_address(person->email());
  d.set_subject(email->subject);
  d.set_body(email->text);
  d.set_html_body(email->html);
  d.set_idempotency_key(
      absl::StrCat("inc-", incident.id(), "-", event, "-person-", person_id));
  absl::StatusOr<int64_t> id = txn.InsertDelivery(d);
  if (absl::IsAlreadyExists(id.status())) return absl::OkStatus();
  return id.status();
}

absl::Status DeliveryPlanner::NotifyDraftWaiting(
    StoreTxn& txn, const v1::Message& draft,
    const v1::Incident& incident) const {
  for (const v1::PersonConfig& p : deps_.org->config().people()) {
    const bool lead = std::find(p.roles().begin(), p.roles().end(),
                                v1::ROLE_COMMS_LEAD) != p.roles().end();
    if (!lead || p.email().empty()) continue;
    if (auto s = NotifyPerson(txn, absl::StrCat("draft-", draft.id()),
                              "draft_waiting", incident, p.id(), &draft);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace herald
