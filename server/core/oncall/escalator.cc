#include "server/core/oncall/escalator.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/base/proto_time.h"
#include "server/core/incidents/open_incident.h"
#include "server/core/incidents/timeline.h"

namespace herald {
Escalator::Escalator(const CoreDeps& deps, const DeliveryPlanner& planner)
    : deps_(deps), planner_(planner) {}

absl::Status Escalator::StartClock(StoreTxn& txn,
                                   const v1::Incident& incident) const {
  const PointPersonResolver::Rota* rota =
      deps_.org->rotas().Find(incident.rota_id());
  if (rota == nullptr) return absl::OkStatus();
  v1::Job job;
  job.set_kind(v1::JOB_KIND_ACK_TIMEOUT);
  job.set_incident_id(incident.id());
  job.set_step(incident.escalation_level());
  *job.mutable_due_at() = ToProtoTime(deps_.clock.Now() + rota->ack_timeout);
  return txn.InsertJob(job).status();
}

absl::StatusOr<v1::Incident> Escalator::Acknowledge(const Caller& caller,
                                                    int64_t incident_id) const {
  v1::Incident out;
  const absl::Time now = deps_.clock.Now();
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<v1::Incident> incident =
        LoadOpenIncident(txn, incident_id, "there is nothing to acknowledge");
    if (!incident.ok()) return incident.status();
    if (!incident->acknowledged_by().empty()) {
      out = *std::move(incident);
      return absl::OkStatus();
    }
    std::vector<std::string> allowed = {incident->point_person_id()};
    if (const auto* rota = deps_.org->rotas().Find(incident->rota_id())) {
      for (const auto& p : PointPersonResolver::EscalationPath(*rota)) {
        allowed.push_back(p);
      }
    }
    const bool on_path = std::find(allowed.begin(), allowed.end(),
                                   caller.person_id) != allowed.end();
    if (!on_path && !caller.roles.contains(v1::ROLE_COMMS_LEAD)) {
      return absl::PermissionDeniedError(
          absl::StrCat(caller.person_id, " is not on ", incident->ref(),
                       "'s escalation path (", absl::StrJoin(allowed, ", "),
                       ") and is not a comms lead"));
    }
    incident->set_acknowledged_by(caller.person_id);
    *incident->mutable_acknowledged_at() = ToProtoTime(now);
    *incident->mutable_updated_at() = ToProtoTime(now);
    if (auto st = txn.UpdateIncident(*incident); !st.ok()) return st;
    if (auto st = txn.AppendTimeline(TimelineEntry(
            incident_id, now, "acknowledged", caller.person_id,
            absl::StrCat(
                "Acknowledged after ",
                HumanDuration(now - FromProtoTime(incident->opened_at())))));
        !st.ok()) {
      return st;
    }
    out = *std::move(incident);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  deps_.Emit(incident_id, "acknowledged", caller.person_id,
             absl::StrCat("acknowledged by ", out.acknowledged_by()));
  return out;
}

absl::Status Escalator::RunAckTimeout(StoreTxn& txn, const v1::Job& job) const {
  absl::StatusOr<v1::Incident> incident = txn.GetIncident(job.incident_id());
  if (!incident.ok()) return incident.status();
  if (incident->has_resolved_at() || !incident->acknowledged_by().empty() ||
      incident->escalation_level() != job.step()) {
    return absl::OkStatus();  // answered, or superseded by a newer timer
  }
  const PointPersonResolver::Rota* rota =
      deps_.org->rotas().Find(incident->rota_id());
  if (rota == nullptr) return absl::OkStatus();
  const std::vector<std::string> path =
      PointPersonResolver::EscalationPath(*rota);
  const absl::Time now = deps_.clock.Now();
  const int step = job.step();
  if (step >= static_cast<int>(path.size())) {
    return txn.AppendTimeline(
        TimelineEntry(incident->id(), now, "escalation_exhausted", "herald",
                      "Nobody on the escalation path has acknowledged"));
  }
  const std::string& next = path[step];
  incident->set_escalation_level(step + 1);
  *incident->mutable_updated_at() = ToProtoTime(now);
  if (auto st = txn.UpdateIncident(*incident); !st.ok()) return st;
  if (auto st = txn.AppendTimeline(TimelineEntry(
          incident->id(), now, "escalated", "herald",
          absl::StrCat("Not acknowledged within ",
                       absl::FormatDuration(rota->ack_timeout), "; told ", next,
                       step == 0 ? " (backup)" : "")));
      !st.ok()) {
    return st;
  }
  // Each reopening climbs the path again, so it tells each person again.
  const std::string event =
      incident->reopened_count() == 0
          ? absl::StrCat("escalation_", step + 1)
          : absl::StrCat("reopened-", incident->reopened_count(),
                         "-escalation_", step + 1);
  if (auto st =
          planner_.NotifyPerson(txn, event, "escalation", *incident, next);
      !st.ok()) {
    return st;
  }
  return StartClock(txn, *incident);
}

}  // namespace herald
