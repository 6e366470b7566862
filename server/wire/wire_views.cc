#include "server/wire/wire_views.h"

#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "server/base/proto_time.h"
#include "server/core/comms/message_drafter.h"
#include "server/core/org/organisation.h"

namespace herald {
namespace {

template <typename T>
void MoveInto(std::vector<T>& from, google::protobuf::RepeatedPtrField<T>* to) {
  to->Reserve(static_cast<int>(from.size()));
  for (T& item : from) *to->Add() = std::move(item);
}

}  // namespace

v1::GetIncidentResponse ToGetIncidentResponse(IncidentDetail detail) {
  v1::GetIncidentResponse out;
  *out.mutable_incident() = std::move(detail.incident);
  MoveInto(detail.alerts, out.mutable_alerts());
  MoveInto(detail.updates, out.mutable_updates());
  MoveInto(detail.messages, out.mutable_messages());
  MoveInto(detail.timeline, out.mutable_timeline());
  MoveInto(detail.reach, out.mutable_reach());
  out.set_next_page_token(std::move(detail.next_page_token));
  out.set_alert_count(detail.alert_count);
  out.set_timeline_count(detail.timeline_count);
  return out;
}

v1::GetMessageResponse ToGetMessageResponse(MessageDetail detail) {
  v1::GetMessageResponse out;
  for (std::string& w : UneditedEngineerWords(detail.message)) {
    out.add_unedited_engineer_words(std::move(w));
  }
  *out.mutable_message() = std::move(detail.message);
  MoveInto(detail.versions, out.mutable_versions());
  MoveInto(detail.audit, out.mutable_audit());
  MoveInto(detail.previews, out.mutable_previews());
  MoveInto(detail.languages, out.mutable_languages());
  MoveInto(detail.covered, out.mutable_covered());
  return out;
}

v1::ListAmendsResponse ToListAmendsResponse(AmendsPage page) {
  v1::ListAmendsResponse out;
  MoveInto(page.amends, out.mutable_amends());
  out.set_fixed(page.fixed);
  out.set_authority_percent(page.authority_percent);
  out.set_approved_percent(page.approved_percent);
  out.set_approved_by(std::move(page.approved_by));
  out.set_needs_admin(page.needs_admin);
  out.set_next_page_token(std::move(page.next_page_token));
  return out;
}

v1::ApproveCreditsResponse ToApproveCreditsResponse(CreditApproval approval) {
  v1::ApproveCreditsResponse out;
  *out.mutable_incident() = std::move(approval.incident);
  out.set_approved_percent(approval.approved_percent);
  return out;
}

v1::WatchEvent ToWatchEvent(const IncidentEvent& event) {
  v1::WatchEvent out;
  if (event.at != absl::InfinitePast()) {
    *out.mutable_at() = ToProtoTime(event.at);
  }
  out.set_incident_id(event.incident_id);
  if (event.incident_id != 0) {
    out.set_incident_ref(IncidentRef(event.incident_id));
  }
  out.set_kind(event.kind);
  out.set_actor(event.actor);
  out.set_text(event.text);
  out.set_message_ref(event.message_ref);
  return out;
}

std::string ToBroadcastLine(const IncidentEvent& event) {
  return absl::Base64Escape(ToWatchEvent(event).SerializeAsString());
}

std::optional<IncidentEvent> FromBroadcastLine(absl::string_view line) {
  std::string bytes;
  v1::WatchEvent e;
  if (!absl::Base64Unescape(line, &bytes) || !e.ParseFromString(bytes)) {
    return std::nullopt;
  }
  return IncidentEvent{
      .at = e.has_at() ? FromProtoTime(e.at()) : absl::InfinitePast(),
      .incident_id = e.incident_id(),
      .kind = e.kind(),
      .actor = e.actor(),
      .text = e.text(),
      .message_ref = e.message_ref()};
}

}  // namespace herald
