#include "server/core/incidents/alert_intake.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/base/proto_time.h"
#include "server/core/comms/message_records.h"
#include "server/core/incidents/public_incident.h"
#include "server/core/incidents/timeline.h"
#include "server/core/oncall/rota_overrides.h"

namespace herald {
namespace {

Labels ToLabels(const v1::Alert& alert) {
  return Labels(alert.labels().begin(), alert.labels().end());
}

std::string AlertName(const v1::Alert& alert) {
  auto it = alert.labels().find("alertname");
  return it == alert.labels().end() ? alert.fingerprint() : it->second;
}

// Alert intake acts as Alertmanager on the timeline.
v1::TimelineEvent AlertEvent(const v1::Incident& incident, absl::Time at,
                             std::string kind, std::string text) {
  return TimelineEntry(incident.id(), at, std::move(kind), "alertmanager",
                       std::move(text));
}

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list,
              const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Adds the components `alert` routes to; true when any was new.
bool AddComponents(const Organisation& org, const v1::Alert& alert,
                   v1::Incident& incident) {
  bool added = false;
  for (const std::string& c :
       org.router().Route(ToLabels(alert)).component_ids) {
    if (!Contains(incident.component_ids(), c)) {
      incident.add_component_ids(c);
      added = true;
    }
  }
  return added;
}

}  // namespace

AlertIntake::AlertIntake(const CoreDeps& deps, const MessageDrafter& drafter,
                         const DeliveryPlanner& planner,
                         const Escalator& escalator,
                         const CadenceKeeper& cadence)
    : deps_(deps),
      drafter_(drafter),
      planner_(planner),
      escalator_(escalator),
      cadence_(cadence) {}

absl::Status AlertIntake::Bound(v1::AlertGroup& group, LimitHits& hits) {
  absl::Status s = ApplyIntakeLimits(deps_.org->intake_limits(), group, hits);
  if (!s.ok()) deps_.metrics.alert_groups_refused.Increment();
  return s;
}

absl::StatusOr<IntakeResult> AlertIntake::Ingest(const v1::AlertGroup& in) {
  const absl::Time received_at = deps_.clock.Now();
  v1::AlertGroup group = in;
  LimitHits hits;
  if (absl::Status s = Bound(group, hits); !s.ok()) return s;
  IntakeResult result;
  int new_unrouted = 0;
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    return ApplyInTxn(txn, group, result, new_unrouted);
  });
  if (!s.ok()) return s;
  CountCommitted(group, result, new_unrouted, received_at, hits);
  return result;
}

void AlertIntake::IngestAsync(
    v1::AlertGroup group,
    absl::AnyInvocable<void(absl::StatusOr<IntakeResult>)> done) {
  // Owned by the two callbacks, which the store runs one after the other.
  struct Pending {
    v1::AlertGroup group;
    IntakeResult result;
    int new_unrouted = 0;
    absl::Time received_at;
    LimitHits hits;
    absl::AnyInvocable<void(absl::StatusOr<IntakeResult>)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->received_at = deps_.clock.Now();
  if (absl::Status s = Bound(group, pending->hits); !s.ok()) {
    return done(std::move(s));
  }
  pending->group = std::move(group);
  pending->done = std::move(done);
  deps_.store.WriteAsync(
      [this, pending](StoreTxn& txn) {
        return ApplyInTxn(txn, pending->group, pending->result,
                          pending->new_unrouted);
      },
      [this, pending](absl::Status s) {
        if (!s.ok()) return pending->done(std::move(s));
        CountCommitted(pending->group, pending->result, pending->new_unrouted,
                       pending->received_at, pending->hits);
        pending->done(pending->result);
      });
}

absl::Status AlertIntake::ApplyInTxn(StoreTxn& txn, const v1::AlertGroup& group,
                                     IntakeResult& result, int& new_unrouted) {
  new_unrouted = 0;
  absl::StatusOr<IntakeResult> r = IngestInTxn(txn, group, &new_unrouted);
  if (!r.ok()) return r.status();
  result = *r;
  return absl::OkStatus();
}

void AlertIntake::CountCommitted(const v1::AlertGroup& group,
                                 const IntakeResult& result, int new_unrouted,
                                 absl::Time received_at,
                                 const LimitHits& hits) {
  for (const auto& [field, n] :
       {std::pair{"label_value", hits.label_values},
        std::pair{"annotation", hits.annotations},
        std::pair{"group_key", hits.group_keys}, std::pair{"url", hits.urls}}) {
    if (n > 0) deps_.metrics.AlertFieldsTruncated(field).Increment(n);
  }
  deps_.metrics.alerts_over_limit.Increment(result.alerts_over_limit);
  for (const v1::Alert& a : group.alerts()) {
    deps_.metrics
        .AlertsReceived(a.status() == v1::ALERT_STATUS_FIRING ? "firing"
                                                              : "resolved")
        .Increment();
  }
  deps_.metrics.alerts_unrouted.Increment(new_unrouted);
  if (result.changed && result.incident_id != 0 && deps_.watched()) {
    int firing = 0;
    for (const v1::Alert& a : group.alerts()) {
      firing += a.status() == v1::ALERT_STATUS_FIRING;
    }
    const int resolved = group.alerts_size() - firing;
    if (result.opened || result.reopened || result.attached) {
      deps_.Emit(result.incident_id,
                 result.opened ? "opened"
                               : (result.reopened ? "reopened" : "attached"),
                 kHeraldActor,
                 absl::StrCat("alert group ", group.group_key(),
                              result.opened ? "; first draft ready" : ""));
    }
    deps_.Emit(result.incident_id, "alerts", kHeraldActor,
               absl::StrCat(firing, " firing, ", resolved, " resolved in ",
                            group.group_key()));
  }
  if (result.opened) {
    deps_.metrics.incidents_opened.Increment();
    deps_.metrics.first_draft_seconds.Observe(
        absl::ToDoubleSeconds(deps_.clock.Now() - received_at));
  }
}

absl::Status AlertIntake::DraftFirstMessage(StoreTxn& txn,
                                            const v1::Incident& incident) {
  v1::Update from_alert;
  from_alert.set_text(incident.description());
  absl::StatusOr<v1::Message> draft = drafter_.DraftStatusUpdate(
      incident, v1::INCIDENT_STATUS_INVESTIGATING, from_alert);
  if (!draft.ok()) return draft.status();
  absl::StatusOr<v1::Message> stored =
      StoreDraft(txn, *std::move(draft), kHeraldActor, deps_.clock.Now());
  if (!stored.ok()) return stored.status();
  return planner_.NotifyDraftWaiting(txn, *stored, incident);
}

absl::StatusOr<v1::Incident> AlertIntake::Open(
    StoreTxn& txn, const v1::AlertGroup& group,
    const std::vector<v1::Alert>& firing) {
  const Organisation& org = *deps_.org;
  const absl::Time now = deps_.clock.Now();
  v1::Incident incident;
  v1::Impact impact = v1::IMPACT_NONE;
  for (const v1::Alert& a : firing) {
    AddComponents(org, a, incident);
    impact = std::max(impact, org.ImpactFor(ToLabels(a)));
  }
  const v1::Alert& first = firing.front();
  auto annotation = [&](const char* key) -> std::string {
    auto common = group.common_annotations().find(key);
    if (common != group.common_annotations().end()) return common->second;
    auto own = first.annotations().find(key);
    return own == first.annotations().end() ? "" : own->second;
  };
  incident.set_title(annotation("summary").empty() ? AlertName(first)
                                                   : annotation("summary"));
  incident.set_description(annotation("description"));
  incident.set_status(v1::INCIDENT_STATUS_INVESTIGATING);
  incident.set_impact(impact);
  incident.set_group_key(group.group_key());
  incident.set_truncated_alerts(group.truncated_alerts());
  *incident.mutable_opened_at() = ToProtoTime(now);
  *incident.mutable_updated_at() = ToProtoTime(now);

  if (auto s = AssignPointPerson(txn, org, now, incident); !s.ok()) return s;

  absl::StatusOr<int64_t> id = txn.InsertIncident(incident);
  if (!id.ok()) return id.status();
  incident.set_id(*id);
  incident.set_ref(IncidentRef(*id));
  if (auto s = txn.UpdateIncident(incident); !s.ok()) return s;

  const std::vector<std::string> components(incident.component_ids().begin(),
                                            incident.component_ids().end());
  if (auto s = txn.AppendTimeline(AlertEvent(
          incident, now, "opened",
          absl::StrCat("Opened from alert group ", group.group_key(),
                       "; affects ", org.ComponentNames(components))));
      !s.ok()) {
    return s;
  }
  if (auto s = DraftFirstMessage(txn, incident); !s.ok()) return s;
  if (incident.point_person_id().empty()) {
    if (auto s = txn.AppendTimeline(
            AlertEvent(incident, now, "unassigned",
                       "No rota covers the affected components"));
        !s.ok()) {
      return s;
    }
    return incident;
  }
  if (auto s = txn.AppendTimeline(
          AlertEvent(incident, now, "point_person",
                     absl::StrCat("Point person: ", incident.point_person_id(),
                                  " (notified by email)")));
      !s.ok()) {
    return s;
  }
  if (auto s = planner_.NotifyPerson(txn, "assigned", "point_person_assigned",
                                     incident, incident.point_person_id());
      !s.ok()) {
    return s;
  }
  if (auto s = escalator_.StartClock(txn, incident); !s.ok()) return s;
  return incident;
}

absl::Status AlertIntake::Reopen(StoreTxn& txn, v1::Incident& incident,
                                 const v1::AlertGroup& group) {
  const absl::Time now = deps_.clock.Now();
  const absl::Duration since = now - FromProtoTime(incident.resolved_at());
  // Open again everywhere: listed, taking updates and acknowledgement,
  // investigated from the start. What customers see changes only when the
  // draft below is approved.
  incident.set_status(v1::INCIDENT_STATUS_INVESTIGATING);
  incident.clear_resolved_at();
  incident.set_ready_to_resolve(false);
  incident.set_reopened_count(incident.reopened_count() + 1);
  incident.clear_acknowledged_by();
  incident.clear_acknowledged_at();
  incident.set_escalation_level(0);
  if (!Contains(incident.attached_group_keys(), group.group_key()) &&
      incident.group_key() != group.group_key()) {
    incident.add_attached_group_keys(group.group_key());
  }
  *incident.mutable_updated_at() = ToProtoTime(now);
  if (auto s = txn.UpdateIncident(incident); !s.ok()) return s;
  // Drafts written for the resolution no longer tell the truth.
  if (auto s = SupersedeDrafts(
          txn, incident.id(),
          {v1::MESSAGE_KIND_RESOLUTION, v1::MESSAGE_KIND_APOLOGY,
           v1::MESSAGE_KIND_STATUS_UPDATE},
          kHeraldActor, "the incident reopened", now);
      !s.ok()) {
    return s.status();
  }
  if (auto s = txn.AppendTimeline(
          AlertEvent(incident, now, "reopened",
                     absl::StrCat("An alert fired again ", HumanDuration(since),
                                  " after resolution; reopened")));
      !s.ok()) {
    return s;
  }
  if (auto s = DraftReopenedMessage(txn, incident); !s.ok()) return s;
  if (auto s = cadence_.OnReopened(txn, incident); !s.ok()) return s;
  if (incident.point_person_id().empty()) return absl::OkStatus();
  if (auto s = planner_.NotifyPerson(
          txn, absl::StrCat("reopened-", incident.reopened_count()),
          "incident_reopened", incident, incident.point_person_id());
      !s.ok()) {
    return s;
  }
  return escalator_.StartClock(txn, incident);
}

absl::Status AlertIntake::DraftReopenedMessage(StoreTxn& txn,
                                               const v1::Incident& incident) {
  absl::StatusOr<std::vector<v1::Message>> messages = txn.ListMessages(
      {.incident_id = incident.id(), .states = {v1::MESSAGE_STATE_PUBLISHED}});
  if (!messages.ok()) return messages.status();
  const PublicIncident told = PublicView(incident, *std::move(messages));
  // Customers never heard it was resolved: they need the first word (or the
  // next one), not news that it is back.
  if (told.status != v1::INCIDENT_STATUS_RESOLVED) {
    return DraftFirstMessage(txn, incident);
  }
  absl::StatusOr<v1::Message> draft =
      drafter_.DraftReopened(incident, deps_.clock.Now() - told.resolved_at);
  if (!draft.ok()) return draft.status();
  absl::StatusOr<v1::Message> stored =
      StoreDraft(txn, *std::move(draft), kHeraldActor, deps_.clock.Now());
  if (!stored.ok()) return stored.status();
  return planner_.NotifyDraftWaiting(txn, *stored, incident);
}

absl::StatusOr<v1::Incident> AlertIntake::IncidentFor(
    StoreTxn& txn, const v1::AlertGroup& group,
    const std::vector<v1::Alert>& firing, IntakeResult& result) {
  const absl::Time now = deps_.clock.Now();
  const Organisation& org = *deps_.org;

  // Reopen: the group's latest incident, or the one an alert last belonged
  // to, if it was resolved within the window.
  std::vector<int64_t> candidates;
  absl::StatusOr<v1::Incident> latest =
      txn.FindLatestIncident(group.group_key());
  if (latest.ok()) {
    candidates.push_back(latest->id());
  } else if (!absl::IsNotFound(latest.status())) {
    return latest.status();
  }
  for (const v1::Alert& a : firing) {
    absl::StatusOr<v1::Alert> before = txn.GetAlert(a.fingerprint());
    if (before.ok() && before->incident_id() != 0) {
      candidates.push_back(before->incident_id());
    }
  }
  for (int64_t id : candidates) {
    absl::StatusOr<v1::Incident> c = txn.GetIncident(id);
    if (!c.ok()) return c.status();
    if (c->has_resolved_at() &&
        now - FromProtoTime(c->resolved_at()) <= org.reopen_window()) {
      if (auto s = Reopen(txn, *c, group); !s.ok()) return s;
      result.reopened = true;
      return c;
    }
  }

  // Attach: an open incident that already covers these components.
  if (!org.config().intake().separate_incidents_per_group()) {
    v1::Incident probe;
    for (const v1::Alert& a : firing) AddComponents(org, a, probe);
    absl::StatusOr<std::vector<v1::Incident>> open = txn.ListIncidents({false});
    if (!open.ok()) return open.status();
    for (auto it = open->rbegin(); it != open->rend(); ++it) {  // oldest first
      const bool overlaps =
          std::any_of(probe.component_ids().begin(),
                      probe.component_ids().end(), [&](const std::string& c) {
                        return Contains(it->component_ids(), c);
                      });
      // Scheduled maintenance is planned work, not an outage to grow.
      if (!overlaps || it->has_maintenance()) continue;
      if (it->attached_group_keys_size() >= IntakeLimits::kMaxAttachedGroups) {
        continue;  // full: the group opens its own incident
      }
      v1::Incident incident = *it;
      incident.add_attached_group_keys(group.group_key());
      *incident.mutable_updated_at() = ToProtoTime(now);
      if (auto s = txn.UpdateIncident(incident); !s.ok()) return s;
      if (auto s = txn.AppendTimeline(AlertEvent(
              incident, now, "attached",
              absl::StrCat("Alert group ", group.group_key(),
                           " attached: it affects the same components")));
          !s.ok()) {
        return s;
      }
      result.attached = true;
      return incident;
    }
  }

  absl::StatusOr<v1::Incident> opened = Open(txn, group, firing);
  if (opened.ok()) result.opened = true;
  return opened;
}

absl::StatusOr<IntakeResult> AlertIntake::IngestInTxn(
    StoreTxn& txn, const v1::AlertGroup& group, int* new_unrouted) {
  const absl::Time now = deps_.clock.Now();
  const Organisation& org = *deps_.org;
  IntakeResult result;

  absl::StatusOr<v1::Incident> incident =
      txn.FindOpenIncident(group.group_key());
  if (!incident.ok() && !absl::IsNotFound(incident.status())) {
    return incident.status();
  }

  // Which alerts are new or changed? Identical repeats are ignored.
  std::vector<v1::Alert> changed, new_firing;
  std::vector<int64_t> held_by;  // each changed alert's incident before, or 0
  for (const v1::Alert& in : group.alerts()) {
    v1::Alert alert = in;
    const ComponentRouter::Routing routing =
        org.router().Route(ToLabels(alert));
    alert.set_unrouted(routing.unrouted);
    absl::StatusOr<v1::Alert> existing = txn.GetAlert(alert.fingerprint());
    if (!existing.ok() && !absl::IsNotFound(existing.status())) {
      return existing.status();
    }
    const bool known_to_open = existing.ok() && incident.ok() &&
                               existing->incident_id() == incident->id();
    if (known_to_open) {
      alert.set_incident_id(existing->incident_id());
      if (google::protobuf::util::MessageDifferencer::Equals(alert,
                                                             *existing)) {
        continue;
      }
    }
    if (!existing.ok() && alert.unrouted()) ++*new_unrouted;
    if (alert.status() == v1::ALERT_STATUS_FIRING &&
        (!known_to_open || existing->status() != v1::ALERT_STATUS_FIRING)) {
      new_firing.push_back(alert);
    }
    changed.push_back(std::move(alert));
    held_by.push_back(existing.ok() ? existing->incident_id() : 0);
  }
  if (changed.empty()) {
    if (incident.ok()) result.incident_id = incident->id();
    return result;
  }
  result.changed = true;

  if (!incident.ok()) {
    if (new_firing.empty()) {
      // Resolutions for a group with no open incident: kept for dedup only.
      for (v1::Alert& a : changed) {
        a.set_incident_id(0);
        if (auto s = txn.PutAlert(a); !s.ok()) return s;
      }
      return result;
    }
    incident = IncidentFor(txn, group, new_firing, result);
    if (!incident.ok()) return incident.status();
  }
  result.incident_id = incident->id();

  // An incident holds at most max_alerts_per_incident alerts; further new
  // ones are counted, not stored (alerts it holds are still updated).
  absl::StatusOr<int64_t> held = txn.CountAlerts(incident->id());
  if (!held.ok()) return held.status();
  const int64_t max_alerts = org.intake_limits().max_alerts_per_incident;
  bool incident_changed = false;
  for (size_t i = 0; i < changed.size(); ++i) {
    v1::Alert& a = changed[i];
    if (held_by[i] != incident->id()) {
      if (*held >= max_alerts) {
        ++result.alerts_over_limit;
        continue;
      }
      ++*held;
    }
    a.set_incident_id(incident->id());
    if (auto s = txn.PutAlert(a); !s.ok()) return s;
    if (result.opened) continue;  // Open() recorded them
    const bool firing = a.status() == v1::ALERT_STATUS_FIRING;
    if (firing) incident_changed |= AddComponents(org, a, *incident);
    if (auto s = txn.AppendTimeline(AlertEvent(
            *incident, now, firing ? "alert_firing" : "alert_resolved",
            absl::StrCat(AlertName(a), " (", a.fingerprint(), ") ",
                         firing ? "firing" : "resolved",
                         a.unrouted() ? "; matched no component" : "")));
        !s.ok()) {
      return s;
    }
  }
  if (result.alerts_over_limit > 0) {
    if (incident->alerts_over_limit() == 0) {
      if (auto s = txn.AppendTimeline(AlertEvent(
              *incident, now, "alert_limit",
              absl::StrCat("This incident holds ", max_alerts,
                           " alerts, its limit "
                           "(intake.limits.max_alerts_per_incident); further "
                           "alerts are counted, not stored")));
          !s.ok()) {
        return s;
      }
    }
    incident->set_alerts_over_limit(incident->alerts_over_limit() +
                                    result.alerts_over_limit);
    incident_changed = true;
  }
  if (group.truncated_alerts() != incident->truncated_alerts()) {
    incident->set_truncated_alerts(group.truncated_alerts());
    incident_changed = true;
  }

  // Ready to resolve once every alert of every group of the incident has
  // resolved. Alertmanager marks a group resolved only when all of its
  // alerts have, including any it truncated from the notification.
  bool all_resolved = group.status() == v1::ALERT_STATUS_RESOLVED;
  // Read a page at a time, stopping at the first alert still firing.
  constexpr int kPage = 500;
  for (std::string after; all_resolved;) {
    absl::StatusOr<std::vector<v1::Alert>> alerts =
        txn.ListAlertsPage(incident->id(), after, kPage);
    if (!alerts.ok()) return alerts.status();
    all_resolved =
        std::all_of(alerts->begin(), alerts->end(), [](const v1::Alert& a) {
          return a.status() == v1::ALERT_STATUS_RESOLVED;
        });
    if (alerts->size() < kPage) break;
    after = alerts->back().fingerprint();
  }
  if (all_resolved != incident->ready_to_resolve()) {
    incident->set_ready_to_resolve(all_resolved);
    incident_changed = true;
    if (all_resolved) {
      if (auto s = txn.AppendTimeline(AlertEvent(
              *incident, now, "ready_to_resolve",
              "Every alert has resolved; waiting for a person to resolve"));
          !s.ok()) {
        return s;
      }
      if (!incident->point_person_id().empty()) {
        if (auto s = planner_.NotifyPerson(
                txn, absl::StrCat("ready-", incident->reopened_count()),
                "ready_to_resolve", *incident, incident->point_person_id());
            !s.ok()) {
          return s;
        }
      }
    }
  }
  // A new or resolved alert alone is recorded on the timeline; the incident
  // record is rewritten only when one of its own fields changed.
  if (incident_changed) {
    *incident->mutable_updated_at() = ToProtoTime(now);
    if (auto s = txn.UpdateIncident(*incident); !s.ok()) return s;
  }
  return result;
}

}  // namespace herald
