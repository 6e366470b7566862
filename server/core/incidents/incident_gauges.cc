#include "server/core/incidents/incident_gauges.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "herald/enum_labels.h"
#include "server/base/proto_time.h"

namespace herald {

IncidentGauges::IncidentGauges(const CoreDeps& deps) : deps_(deps) {}

absl::Status IncidentGauges::Refresh() const {
  std::map<v1::Impact, int> open = {{v1::IMPACT_NONE, 0},
                                    {v1::IMPACT_MINOR, 0},
                                    {v1::IMPACT_MAJOR, 0},
                                    {v1::IMPACT_CRITICAL, 0}};
  std::optional<absl::Time> oldest_last_update;
  int unacknowledged = 0, overdue = 0;
  const absl::Time now = deps_.clock.Now();
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<v1::Incident>> incidents =
        r.ListIncidents({.include_resolved = false});
    if (!incidents.ok()) return incidents.status();
    const v1::Incident* oldest = nullptr;
    for (const v1::Incident& i : *incidents) {
      if (i.has_maintenance()) continue;
      ++open[i.impact()];
      unacknowledged += i.acknowledged_by().empty();
      if (!i.customer_visible()) continue;
      // When customers last heard about it.
      absl::StatusOr<std::vector<v1::Message>> published = r.ListMessages(
          {.incident_id = i.id(), .states = {v1::MESSAGE_STATE_PUBLISHED}});
      if (!published.ok()) return published.status();
      absl::Time last = FromProtoTime(i.opened_at());
      for (const v1::Message& m : *published) {
        last = std::max(last, FromProtoTime(m.published_at()));
      }
      const absl::Duration cadence = deps_.org->UpdateCadence(i.impact());
      overdue += cadence > absl::ZeroDuration() && now - last > cadence;
      if (oldest == nullptr ||
          FromProtoTime(i.opened_at()) < FromProtoTime(oldest->opened_at())) {
        oldest = &i;
        oldest_last_update = last;
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  for (const auto& [impact, n] : open) {
    deps_.metrics.open_incidents.Add({{"impact", EnumLabel(impact)}})
        .Set(static_cast<double>(n));
  }
  deps_.metrics.oldest_open_incident_update_age_seconds.Set(
      oldest_last_update
          ? std::max(0.0, absl::ToDoubleSeconds(now - *oldest_last_update))
          : 0.0);
  deps_.metrics.unacknowledged_incidents.Set(unacknowledged);
  deps_.metrics.incidents_past_update_cadence.Set(overdue);
  return absl::OkStatus();
}

}  // namespace herald
