#include "server/core/incidents/public_incident.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/base/proto_time.h"

namespace herald {

std::string IncidentPagePath(absl::string_view ref) {
  return absl::StrCat("/incidents/", ref);
}

bool ShowsOnStatusPage(const v1::Message& message) {
  return message.state() == v1::MESSAGE_STATE_PUBLISHED &&
         (message.kind() == v1::MESSAGE_KIND_STATUS_UPDATE ||
          message.kind() == v1::MESSAGE_KIND_RESOLUTION ||
          message.kind() == v1::MESSAGE_KIND_MAINTENANCE);
}

PublicIncident PublicView(const v1::Incident& incident,
                          std::vector<v1::Message> messages) {
  PublicIncident out;
  for (v1::Message& m : messages) {
    if (ShowsOnStatusPage(m)) out.messages.push_back(std::move(m));
  }
  if (out.messages.empty()) return out;
  std::sort(out.messages.begin(), out.messages.end(),
            [](const v1::Message& a, const v1::Message& b) {
              const absl::Time at = FromProtoTime(a.published_at());
              const absl::Time bt = FromProtoTime(b.published_at());
              return at != bt ? at > bt : a.id() > b.id();
            });
  const v1::Message& latest = out.messages.front();
  out.visible = true;
  out.name = latest.title();
  out.updated_at = FromProtoTime(latest.published_at());
  // A maintenance window, announced, moves on its own schedule.
  out.status =
      incident.has_maintenance() ? incident.status() : latest.incident_status();
  if (out.status == v1::INCIDENT_STATUS_RESOLVED) {
    out.resolved_at = out.updated_at;
  }
  const v1::Incident& shown =
      latest.has_published_incident() ? latest.published_incident() : incident;
  out.component_ids.assign(shown.component_ids().begin(),
                           shown.component_ids().end());
  return out;
}

v1::Incident PublicSnapshot(const v1::Incident& incident,
                            const PublicIncident& view) {
  v1::Incident out = incident;
  out.set_title(view.name);
  out.clear_description();
  if (view.status != v1::INCIDENT_STATUS_UNSPECIFIED) {
    out.set_status(view.status);
  }
  // Customers hear of a resolution only once it is approved; then its time
  // is when the impact ended, not when the notice went out.
  if (view.status != v1::INCIDENT_STATUS_RESOLVED) {
    out.clear_resolved_at();
  } else if (!out.has_resolved_at()) {
    *out.mutable_resolved_at() = ToProtoTime(view.resolved_at);
  }
  return out;
}

}  // namespace herald
