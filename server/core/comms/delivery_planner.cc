#include "server/core/comms/delivery_planner.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/base/proto_time.h"
#include "server/core/comms/message_records.h"
#include "server/core/incidents/timeline.h"

namespace herald {
namespace {

v1::Delivery NewStaffDelivery(const v1::Incident& incident, absl::Time now) {
  v1::Delivery d;
  d.set_incident_id(incident.id());
  d.set_state(v1::DELIVERY_STATE_QUEUED);
  *d.mutable_created_at() = ToProtoTime(now);
  *d.mutable_next_attempt_at() = ToProtoTime(now);
  return d;
}

}  // namespace

DeliveryPlanner::DeliveryPlanner(const CoreDeps& deps,
                                 const MessageDrafter& drafter)
    : deps_(deps), drafter_(drafter) {}

absl::StatusOr<int64_t> DeliveryPlanner::EnqueueMessage(
    StoreTxn& txn, const v1::Message& message,
    const v1::Incident& incident) const {
  return txn.EnqueueFanOut(
      FanOut{.message_id = message.id(),
             .incident_id = incident.id(),
             .component_ids = {incident.component_ids().begin(),
                               incident.component_ids().end()},
             .now = deps_.clock.Now(),
             .to_amends = message.audience() == v1::AUDIENCE_AFFECTED_CUSTOMERS,
             // A cancellation goes to those who were told the work would
             // happen, not to whoever follows the components now.
             .to_told = message.maintenance_notice() == "cancelled"});
}

absl::StatusOr<int64_t> DeliveryPlanner::PublishApproved(
    StoreTxn& txn, v1::Message& message, const v1::Incident& incident,
    const v1::Incident& told, const std::string& actor,
    absl::string_view why) const {
  const absl::Time now = deps_.clock.Now();
  message.set_state(v1::MESSAGE_STATE_PUBLISHED);
  *message.mutable_updated_at() = ToProtoTime(now);
  *message.mutable_published_at() = ToProtoTime(now);
  *message.mutable_published_incident() = told;
  if (auto st = txn.UpdateMessage(message); !st.ok()) return st;
  absl::StatusOr<int64_t> queued = EnqueueMessage(txn, message, incident);
  if (!queued.ok()) return queued.status();
  if (auto st = AuditMessage(
          txn, message, actor, "approved",
          absl::StrCat("published to ", *queued, " recipient(s) ", why), now);
      !st.ok()) {
    return st;
  }
  if (auto st = txn.AppendTimeline(TimelineEntry(
          incident.id(), now, "published", actor,
          absl::StrCat(message.ref(), " published: \"", message.title(),
                       "\" to ", *queued, " recipient(s)")));
      !st.ok()) {
    return st;
  }
  return queued;
}

absl::Status DeliveryPlanner::NotifyPerson(
    StoreTxn& txn, absl::string_view event, absl::string_view kind,
    const v1::Incident& incident, const std::string& person_id,
    const v1::Message* message,
    const std::map<std::string, std::string>& values) const {
  const v1::PersonConfig* person = deps_.org->FindPerson(person_id);
  if (person == nullptr ||
      (person->email().empty() && person->contacts().empty())) {
    return absl::FailedPreconditionError(
        absl::StrCat("person \"", person_id, "\" has no contact to notify"));
  }
  absl::StatusOr<Email> email =
      drafter_.StaffEmail(kind, incident, *person, message, values);
  if (!email.ok()) return email.status();
  v1::Delivery d = NewStaffDelivery(incident, deps_.clock.Now());
  d.set_recipient(absl::StrCat("person:", person_id));
  d.set_subject(email->subject);
  d.set_body(email->text);
  d.set_html_body(email->html);
  d.set_idempotency_key(
      absl::StrCat("inc-", incident.id(), "-", event, "-person-", person_id));
  absl::StatusOr<int64_t> id = txn.InsertDelivery(d);
  if (absl::IsAlreadyExists(id.status())) return absl::OkStatus();
  return id.status();
}

absl::Status DeliveryPlanner::NotifyCommsLeads(
    StoreTxn& txn, absl::string_view event, absl::string_view kind,
    const v1::Incident& incident, const v1::Message* message,
    const std::map<std::string, std::string>& values) const {
  for (const v1::PersonConfig& p : deps_.org->config().people()) {
    const bool lead = std::find(p.roles().begin(), p.roles().end(),
                                v1::ROLE_COMMS_LEAD) != p.roles().end();
    if (!lead || (p.email().empty() && p.contacts().empty())) continue;
    if (auto s =
            NotifyPerson(txn, event, kind, incident, p.id(), message, values);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status DeliveryPlanner::NotifyDraftWaiting(
    StoreTxn& txn, const v1::Message& draft,
    const v1::Incident& incident) const {
  return NotifyCommsLeads(txn, absl::StrCat("draft-", draft.id()),
                          "draft_waiting", incident, &draft);
}

}  // namespace herald
