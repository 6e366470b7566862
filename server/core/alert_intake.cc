#include "server/core/alert_intake.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/core/proto_time.h"

namespace herald {
namespace {

Labels ToLabels(const v1::Alert& alert) {
  return Labels(alert.labels().begin(), alert.labels().end());
}

std::string AlertName(const v1::Alert& alert) {
  auto it = alert.labels().find("alertname");
  return it == alert.labels().end() ? alert.fingerprint() : it->second;
}

v1::TimelineEvent Event(const v1::Incident& incident, absl::Time at,
                        std::string kind, std::string text) {
  v1::TimelineEvent e;
  e.set_incident_id(incident.id());
  *e.mutable_at() = ToProtoTime(at);
  e.set_kind(std::move(kind));
  e.set_actor("alertmanager");
  e.set_text(std::move(text));
  return e;
}

}  // namespace

AlertIntake::AlertIntake(const CoreDeps& deps, const DeliveryPlanner& planner)
    : deps_(deps), planner_(planner) {}

absl::StatusOr<IntakeResult> AlertIntake::Ingest(const v1::AlertGroup& group) {
  IntakeResult result;
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<IntakeResult> r = IngestInTxn(txn, group);
    if (!r.ok()) return r.status();
    result = *r;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  for (const v1::Alert& a : group.alerts()) {
    deps_.metrics
        .AlertsReceived(a.status() == v1::ALERT_STATUS_FIRING ? "firing"
                                                              : "resolved")
        .Increment();
  }
  if (result.opened) deps_.metrics.incidents_opened.Increment();
  return result;
}

absl::StatusOr<v1::Incident> AlertIntake::Open(StoreTxn& txn,
                                               const v1::AlertGroup& group) {
  const Organisation& org = *deps_.org;
  const absl::Time now = deps_.clock.Now();
  v1::Incident incident;
  std::vector<std::string> components;
  v1::Impact impact = v1::IMPACT_NONE;
  const v1::Alert* first_firing = nullptr;
  for (const v1::Alert& a : group.alerts()) {
    if (a.status() != v1::ALERT_STATUS_FIRING) continue;
    if (first_firing == nullptr) first_firing = &a;
    for (const std::string& c : org.router().Route(ToLabels(a))) {
      if (std::find(components.begin(), components.end(), c) ==
          components.end()) {
        components.push_back(c);
      }
    }
    impact = std::max(impact, org.ImpactFor(ToLabels(a)));
  }
  auto annotation = [&](const char* key) -> std::string {
    auto common = group.common_annotations().find(key);
    if (common != group.common_annotations().end()) return common->second;
    auto own = first_firing->annotations().find(key);
    return own == first_firing->annotations().end() ? "" : own->second;
  };
  incident.set_title(annotation("summary").empty() ? AlertName(*first_firing)
                                                   : annotation("summary"));
  incident.set_description(annotation("description"));
  incident.set_status(v1::INCIDENT_STATUS_INVESTIGATING);
  incident.set_impact(impact);
  for (const auto& c : components) incident.add_component_ids(c);
  incident.set_group_key(group.group_key());
  incident.set_truncated_alerts(group.truncated_alerts());
  *incident.mutable_opened_at() = ToProtoTime(now);
  *incident.mutable_updated_at() = ToProtoTime(now);

  for (const auto& c : components) {
    absl::StatusOr<v1::OnCallAssignment> who = org.rotas().ForComponent(c, now);
    if (who.ok()) {
      incident.set_point_person_id(who->point_person_id());
      break;
    }
  }

  absl::StatusOr<int64_t> id = txn.InsertIncident(incident);
  if (!id.ok()) return id.status();
  incident.set_id(*id);
  incident.set_ref(IncidentRef(*id));
  if (auto s = txn.UpdateIncident(incident); !s.ok()) return s;

  std::string opened_text =
      absl::StrCat("Opened from alert group ", group.group_key(), "; affects ",
                   org.ComponentNames(components));
  if (auto s = txn.AppendTimeline(Event(incident, now, "opened", opened_text));
      !s.ok())
    return s;
  if (incident.point_person_id().empty()) {
    if (auto s =
            txn.AppendTimeline(Event(incident, now, "unassigned",
                                     "No rota covers the affected components"));
        !s.ok()) {
      return s;
    }
    return incident;
  }
  if (auto s = txn.AppendTimeline(
          Event(incident, now, "point_person",
                absl::StrCat("Point person: ", incident.point_person_id(),
                             " (notified by email)")));
      !s.ok()) {
    return s;
  }
  if (auto s = planner_.NotifyPerson(txn, "point_person_assigned", incident,
                                     incident.point_person_id());
      !s.ok()) {
    return s;
  }
  return incident;
}

absl::StatusOr<IntakeResult> AlertIntake::IngestInTxn(
    StoreTxn& txn, const v1::AlertGroup& group) {
  const absl::Time now = deps_.clock.Now();
  IntakeResult result;

  absl::StatusOr<v1::Incident> incident =
      txn.FindOpenIncident(group.group_key());
  if (!incident.ok() && !absl::IsNotFound(incident.status()))
    return incident.status();

  // Which alerts are new or changed? Identical repeats are ignored.
  std::vector<v1::Alert> changed;
  bool any_new_firing = false;
  for (const v1::Alert& in : group.alerts()) {
    v1::Alert alert = in;
    absl::StatusOr<v1::Alert> existing = txn.GetAlert(alert.fingerprint());
    if (!existing.ok() && !absl::IsNotFound(existing.status()))
      return existing.status();
    const bool known_to_open = existing.ok() && incident.ok() &&
                               existing->incident_id() == incident->id();
    if (known_to_open) {
      alert.set_incident_id(existing->incident_id());
      if (google::protobuf::util::MessageDifferencer::Equals(alert, *existing))
        continue;
    }
    if (alert.status() == v1::ALERT_STATUS_FIRING &&
        (!known_to_open || existing->status() != v1::ALERT_STATUS_FIRING)) {
      any_new_firing = true;
    }
    changed.push_back(std::move(alert));
  }
  if (changed.empty()) {
    if (incident.ok()) result.incident_id = incident->id();
    return result;
  }
  result.changed = true;

  if (!incident.ok()) {
    if (!any_new_firing) {
      // Resolutions for a group with no open incident: remember them for dedup
      // only.
      for (v1::Alert& a : changed) {
        a.set_incident_id(0);
        if (auto s = txn.PutAlert(a); !s.ok()) return s;
      }
      return result;
    }
    incident = Open(txn, group);
    if (!incident.ok()) return incident.status();
    result.opened = true;
  }
  result.incident_id = incident->id();

  bool incident_changed = false;
  for (v1::Alert& a : changed) {
    a.set_incident_id(incident->id());
    if (auto s = txn.PutAlert(a); !s.ok()) return s;
    if (result.opened) continue;
    const bool firing = a.status() == v1::ALERT_STATUS_FIRING;
    if (firing) {
      for (const std::string& c : deps_.org->router().Route(ToLabels(a))) {
        const auto& ids = incident->component_ids();
        if (std::find(ids.begin(), ids.end(), c) == ids.end()) {
          incident->add_component_ids(c);
          incident_changed = true;
        }
      }
    }
    if (auto s = txn.AppendTimeline(
            Event(*incident, now, firing ? "alert_firing" : "alert_resolved",
                  absl::StrCat(AlertName(a), " (", a.fingerprint(), ") ",
                               firing ? "firing" : "resolved")));
        !s.ok()) {
      return s;
    }
  }
  if (group.truncated_alerts() != incident->truncated_alerts()) {
    incident->set_truncated_alerts(group.truncated_alerts());
    incident_changed = true;
  }

  // Alertmanager marks a group resolved only when every alert in it has
  // resolved, including any it truncated from this notification.
  const bool all_resolved = group.status() == v1::ALERT_STATUS_RESOLVED;
  if (all_resolved != incident->ready_to_resolve()) {
    incident->set_ready_to_resolve(all_resolved);
    incident_changed = true;
    if (all_resolved) {
      if (auto s = txn.AppendTimeline(Event(
              *incident, now, "ready_to_resolve",
              "Every alert has resolved; waiting for a person to resolve"));
          !s.ok()) {
        return s;
      }
      if (!incident->point_person_id().empty()) {
        if (auto s = planner_.NotifyPerson(txn, "ready_to_resolve", *incident,
                                           incident->point_person_id());
            !s.ok()) {
          return s;
        }
      }
    }
  }
  if (incident_changed || !result.opened) {
    *incident->mutable_updated_at() = ToProtoTime(now);
    if (auto s = txn.UpdateIncident(*incident); !s.ok()) return s;
  }
  return result;
}

}  // namespace herald
