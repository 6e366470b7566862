#include "server/core/comms/cadence_keeper.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/base/proto_time.h"
#include "server/core/comms/message_records.h"
#include "server/core/incidents/timeline.h"

namespace herald {
namespace {

// What customers of `incident_id` heard last: its newest published status
// update or resolution notice, or nullopt.
absl::StatusOr<std::optional<v1::Message>> LatestPublishedUpdate(
    StoreReader& r, int64_t incident_id) {
  absl::StatusOr<std::vector<v1::Message>> published =
      r.ListMessages({incident_id, {v1::MESSAGE_STATE_PUBLISHED}});
  if (!published.ok()) return published.status();
  std::optional<v1::Message> latest;
  for (v1::Message& m : *published) {
    if (m.kind() != v1::MESSAGE_KIND_STATUS_UPDATE &&
        m.kind() != v1::MESSAGE_KIND_RESOLUTION) {
      continue;
    }
    if (!latest || FromProtoTime(m.published_at()) >=
                       FromProtoTime(latest->published_at())) {
      latest = std::move(m);
    }
  }
  return latest;
}

}  // namespace

CadenceKeeper::CadenceKeeper(const CoreDeps& deps,
                             const MessageDrafter& drafter,
                             const DeliveryPlanner& planner)
    : deps_(deps), drafter_(drafter), planner_(planner) {}

absl::Status CadenceKeeper::OnPublished(StoreTxn& txn,
                                        const v1::Message& message,
                                        const v1::Incident& incident) const {
  if (message.kind() != v1::MESSAGE_KIND_STATUS_UPDATE ||
      incident.has_resolved_at()) {
    return absl::OkStatus();
  }
  return StartClock(txn, incident, message.id(),
                    FromProtoTime(message.published_at()));
}

absl::Status CadenceKeeper::OnReopened(StoreTxn& txn,
                                       const v1::Incident& incident) const {
  absl::StatusOr<std::optional<v1::Message>> latest =
      LatestPublishedUpdate(txn, incident.id());
  if (!latest.ok()) return latest.status();
  if (!latest->has_value()) return absl::OkStatus();  // nobody was told yet
  return StartClock(txn, incident, (*latest)->id(), deps_.clock.Now());
}

absl::Status CadenceKeeper::StartClock(StoreTxn& txn,
                                       const v1::Incident& incident,
                                       int64_t message_id,
                                       absl::Time from) const {
  const absl::Duration cadence = deps_.org->UpdateCadence(incident.impact());
  if (cadence <= absl::ZeroDuration()) return absl::OkStatus();
  for (int step : {1, 2}) {
    v1::Job job;
    job.set_kind(v1::JOB_KIND_UPDATE_DUE);
    job.set_incident_id(incident.id());
    job.set_message_id(message_id);
    job.set_step(step);
    *job.mutable_due_at() = ToProtoTime(from + step * cadence);
    if (auto id = txn.InsertJob(job); !id.ok()) return id.status();
  }
  return absl::OkStatus();
}

absl::Status CadenceKeeper::RunUpdateDue(StoreTxn& txn,
                                         const v1::Job& job) const {
  absl::StatusOr<v1::Incident> incident = txn.GetIncident(job.incident_id());
  if (!incident.ok()) return incident.status();
  if (incident->has_resolved_at()) return absl::OkStatus();
  absl::StatusOr<std::optional<v1::Message>> latest =
      LatestPublishedUpdate(txn, incident->id());
  if (!latest.ok()) return latest.status();
  if (!latest->has_value() || (*latest)->id() != job.message_id()) {
    return absl::OkStatus();  // a newer update went out in time
  }
  const absl::Time now = deps_.clock.Now();
  const absl::Duration cadence = deps_.org->UpdateCadence(incident->impact());
  const std::string since =
      HumanDuration(now - FromProtoTime((*latest)->published_at()));

  if (job.step() == 1) {
    if (auto s = txn.AppendTimeline(
            TimelineEntry(incident->id(), now, "update_due", "herald",
                          absl::StrCat("No customer update for ", since,
                                       "; reminded the point person")));
        !s.ok()) {
      return s;
    }
    if (incident->point_person_id().empty()) return absl::OkStatus();
    return planner_.NotifyPerson(
        txn, absl::StrCat("update-due-", job.message_id()), "update_due",
        *incident, incident->point_person_id());
  }

  // Twice the cadence: a holding statement, and the backup is told.
  absl::StatusOr<v1::Message> holding =
      drafter_.DraftHoldingStatement(*incident, now + cadence);
  if (!holding.ok()) return holding.status();
  absl::StatusOr<v1::Message> stored =
      StoreDraft(txn, *std::move(holding), kHeraldActor, now);
  if (!stored.ok()) return stored.status();
  if (auto s = planner_.NotifyDraftWaiting(txn, *stored, *incident); !s.ok()) {
    return s;
  }
  std::string told;
  const PointPersonResolver::Rota* rota =
      deps_.org->rotas().Find(incident->rota_id());
  if (rota != nullptr && !rota->backup.empty()) {
    if (auto s = planner_.NotifyPerson(
            txn, absl::StrCat("update-overdue-", job.message_id()),
            "update_overdue", *incident, rota->backup);
        !s.ok()) {
      return s;
    }
    told = absl::StrCat("; told ", rota->backup, " (backup)");
  }
  return txn.AppendTimeline(
      TimelineEntry(incident->id(), now, "update_overdue", "herald",
                    absl::StrCat("No customer update for ", since,
                                 "; drafted holding "
                                 "statement ",
                                 stored->ref(), told)));
}

}  // namespace herald
