#include "server/core/comms/maintenance_scheduler.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/base/proto_time.h"
#include "server/base/text.h"
#include "server/core/comms/message_records.h"
#include "server/core/incidents/timeline.h"
#include "server/core/oncall/rota_overrides.h"

namespace herald {
namespace {

absl::Status ArmJob(StoreTxn& txn, const v1::Incident& incident,
                    v1::JobKind kind, const google::protobuf::Timestamp& at) {
  v1::Job job;
  job.set_kind(kind);
  job.set_incident_id(incident.id());
  *job.mutable_due_at() = at;
  return txn.InsertJob(job).status();
}

absl::StatusOr<std::map<std::string, v1::ComponentStatus>> CurrentStatuses(
    StoreReader& reader) {
  absl::StatusOr<std::vector<v1::ComponentState>> states =
      reader.ListComponentStates();
  if (!states.ok()) return states.status();
  std::map<std::string, v1::ComponentStatus> out;
  for (const v1::ComponentState& s : *states)
    out[s.component_id()] = s.status();
  return out;
}

absl::Status PutStatus(StoreTxn& txn, const std::string& component,
                       v1::ComponentStatus status, absl::Time now) {
  v1::ComponentState state;
  state.set_component_id(component);
  state.set_status(status);
  *state.mutable_updated_at() = ToProtoTime(now);
  return txn.PutComponentState(state);
}

}  // namespace

MaintenanceScheduler::MaintenanceScheduler(const CoreDeps& deps,
                                           const MessageDrafter& drafter,
                                           const DeliveryPlanner& planner)
    : deps_(deps), drafter_(drafter), planner_(planner) {}

absl::StatusOr<ScheduledMaintenance> MaintenanceScheduler::Schedule(
    const Caller& caller, MaintenanceRequest request) const {
  const Organisation& org = *deps_.org;
  const absl::Time now = deps_.clock.Now();
  if (request.component_ids.empty()) {
    return absl::InvalidArgumentError(
        "component_ids: name at least one component");
  }
  std::sort(request.component_ids.begin(), request.component_ids.end());
  request.component_ids.erase(
      std::unique(request.component_ids.begin(), request.component_ids.end()),
      request.component_ids.end());
  for (const std::string& c : request.component_ids) {
    if (org.FindComponent(c) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("component_ids: unknown component \"", c, "\""));
    }
  }
  request.text = std::string(absl::StripAsciiWhitespace(request.text));
  if (request.text.empty()) {
    return absl::InvalidArgumentError(
        "text: say what is done and what customers may notice");
  }
  for (absl::Status s :
       {CheckLength("text", request.text, kMaxMessageBodyBytes),
        CheckLength("title", request.title, kMaxMessageTitleBytes)}) {
    if (!s.ok()) return s;
  }
  if (request.ends_at <= request.starts_at) {
    return absl::InvalidArgumentError(
        "ends_at: the window must end after it starts");
  }
  if (request.ends_at <= now) {
    return absl::InvalidArgumentError(
        absl::StrCat("ends_at: the window is already over (it ended ",
                     FormatUtc(request.ends_at), ")"));
  }

  v1::Incident planned;
  for (const std::string& c : request.component_ids) {
    planned.add_component_ids(c);
  }
  planned.set_title(
      request.title.empty()
          ? absl::StrCat("Scheduled maintenance: ",
                         org.ComponentNames(request.component_ids))
          : request.title);
  planned.set_description(request.text);
  planned.set_status(v1::INCIDENT_STATUS_SCHEDULED);
  planned.set_impact(v1::IMPACT_NONE);
  planned.set_group_key(
      absl::StrCat("maintenance:", absl::StrJoin(request.component_ids, ","),
                   "@", absl::ToUnixSeconds(request.starts_at)));
  *planned.mutable_opened_at() = ToProtoTime(now);
  *planned.mutable_updated_at() = ToProtoTime(now);
  *planned.mutable_maintenance()->mutable_starts_at() =
      ToProtoTime(request.starts_at);
  *planned.mutable_maintenance()->mutable_ends_at() =
      ToProtoTime(request.ends_at);

  ScheduledMaintenance out;
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    // From the plan each run: the store may run this again.
    v1::Incident incident = planned;
    if (auto st = AssignPointPerson(txn, org, now, incident); !st.ok()) {
      return st;
    }
    absl::StatusOr<int64_t> id = txn.InsertIncident(incident);
    if (absl::IsAlreadyExists(id.status())) {
      return absl::AlreadyExistsError(absl::StrCat(
          "maintenance of ", org.ComponentNames(request.component_ids),
          " from ", FormatUtc(request.starts_at), " is already scheduled"));
    }
    if (!id.ok()) return id.status();
    incident.set_id(*id);
    incident.set_ref(IncidentRef(*id));
    if (auto st = txn.UpdateIncident(incident); !st.ok()) return st;
    if (auto st = txn.AppendTimeline(TimelineEntry(
            incident.id(), now, "maintenance_scheduled", caller.person_id,
            absl::StrCat("Maintenance of ",
                         org.ComponentNames(request.component_ids), " from ",
                         FormatUtc(request.starts_at), " to ",
                         FormatUtc(request.ends_at), ": ", request.text)));
        !st.ok()) {
      return st;
    }
    absl::StatusOr<v1::Message> draft =
        drafter_.DraftMaintenance(incident, request.text);
    if (!draft.ok()) return draft.status();
    // The point person owns the announcement, as they own an incident's
    // messages; without a rota, whoever scheduled it does.
    const std::string author = incident.point_person_id().empty()
                                   ? caller.person_id
                                   : incident.point_person_id();
    absl::StatusOr<v1::Message> stored =
        StoreDraft(txn, *std::move(draft), author, now);
    if (!stored.ok()) return stored.status();
    if (auto st = planner_.NotifyDraftWaiting(txn, *stored, incident);
        !st.ok()) {
      return st;
    }
    if (auto st = ArmJob(txn, incident, v1::JOB_KIND_MAINTENANCE_START,
                         incident.maintenance().starts_at());
        !st.ok()) {
      return st;
    }
    if (auto st = ArmJob(txn, incident, v1::JOB_KIND_MAINTENANCE_END,
                         incident.maintenance().ends_at());
        !st.ok()) {
      return st;
    }
    out.incident = std::move(incident);
    out.draft = *std::move(stored);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  deps_.Emit(out.incident.id(), "maintenance_scheduled", caller.person_id,
             out.incident.title());
  deps_.Emit(out.incident.id(), "drafted", out.draft.author_id(),
             out.draft.title(), out.draft.ref());
  return out;
}

absl::StatusOr<v1::Incident> MaintenanceScheduler::Cancel(
    const Caller& caller, int64_t incident_id, absl::string_view reason) const {
  const absl::Time now = deps_.clock.Now();
  v1::Incident out;
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<v1::Incident> incident = txn.GetIncident(incident_id);
    if (!incident.ok()) return incident.status();
    if (!incident->has_maintenance()) {
      return absl::FailedPreconditionError(
          absl::StrCat(incident->ref(), " is an incident, not maintenance"));
    }
    if (incident->status() == v1::INCIDENT_STATUS_COMPLETED) {
      return absl::FailedPreconditionError(
          absl::StrCat(incident->ref(), " has already ended"));
    }
    const std::string why = reason.empty()
                                ? std::string("Cancelled")
                                : absl::StrCat("Cancelled: ", reason);
    if (auto st =
            SupersedeDrafts(txn, incident->id(), {v1::MESSAGE_KIND_MAINTENANCE},
                            caller.person_id, why, now);
        !st.ok()) {
      return st.status();
    }
    if (auto st = Finish(txn, *incident, now, caller.person_id, why);
        !st.ok()) {
      return st;
    }
    out = *std::move(incident);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  deps_.Emit(out.id(), "maintenance_cancelled", caller.person_id,
             reason.empty() ? "Cancelled" : reason);
  return out;
}

absl::Status MaintenanceScheduler::RunWindowJob(StoreTxn& txn,
                                                const v1::Job& job) const {
  absl::StatusOr<v1::Incident> incident = txn.GetIncident(job.incident_id());
  if (!incident.ok()) return incident.status();
  const absl::Time now = deps_.clock.Now();
  if (job.kind() == v1::JOB_KIND_MAINTENANCE_START &&
      incident->status() == v1::INCIDENT_STATUS_SCHEDULED) {
    return Start(txn, *incident, now);
  }
  if (job.kind() == v1::JOB_KIND_MAINTENANCE_END &&
      incident->status() != v1::INCIDENT_STATUS_COMPLETED) {
    return Finish(txn, *incident, now, kHeraldActor, "Window ended");
  }
  return absl::OkStatus();  // cancelled, or already carried out
}

absl::Status MaintenanceScheduler::Start(StoreTxn& txn, v1::Incident& incident,
                                         absl::Time now) const {
  absl::StatusOr<std::map<std::string, v1::ComponentStatus>> current =
      CurrentStatuses(txn);
  if (!current.ok()) return current.status();
  auto& before = *incident.mutable_maintenance()->mutable_statuses_before();
  for (const std::string& c : incident.component_ids()) {
    auto it = current->find(c);
    before[c] =
        it == current->end() ? v1::COMPONENT_STATUS_OPERATIONAL : it->second;
    if (auto s = PutStatus(txn, c, v1::COMPONENT_STATUS_UNDER_MAINTENANCE, now);
        !s.ok()) {
      return s;
    }
  }
  incident.set_status(v1::INCIDENT_STATUS_IN_PROGRESS);
  *incident.mutable_updated_at() = ToProtoTime(now);
  if (auto s = txn.UpdateIncident(incident); !s.ok()) return s;
  const std::vector<std::string> components(incident.component_ids().begin(),
                                            incident.component_ids().end());
  return txn.AppendTimeline(TimelineEntry(
      incident.id(), now, "maintenance_started", kHeraldActor,
      absl::StrCat("Window started: ", deps_.org->ComponentNames(components),
                   " under maintenance")));
}

absl::Status MaintenanceScheduler::Finish(StoreTxn& txn, v1::Incident& incident,
                                          absl::Time now,
                                          const std::string& actor,
                                          absl::string_view why) const {
  const bool started = incident.status() == v1::INCIDENT_STATUS_IN_PROGRESS;
  if (started) {
    absl::StatusOr<std::map<std::string, v1::ComponentStatus>> current =
        CurrentStatuses(txn);
    if (!current.ok()) return current.status();
    const auto& before = incident.maintenance().statuses_before();
    for (const std::string& c : incident.component_ids()) {
      // Something else (an incident, say) changed it during the window:
      // that status is newer than ours and stays.
      auto it = current->find(c);
      if (it == current->end() ||
          it->second != v1::COMPONENT_STATUS_UNDER_MAINTENANCE) {
        continue;
      }
      auto was = before.find(c);
      const v1::ComponentStatus restore =
          was == before.end() ? v1::COMPONENT_STATUS_OPERATIONAL
                              : static_cast<v1::ComponentStatus>(was->second);
      if (auto s = PutStatus(txn, c, restore, now); !s.ok()) return s;
    }
  }
  incident.set_status(v1::INCIDENT_STATUS_COMPLETED);
  *incident.mutable_updated_at() = ToProtoTime(now);
  *incident.mutable_resolved_at() = ToProtoTime(now);
  if (auto s = txn.UpdateIncident(incident); !s.ok()) return s;
  return txn.AppendTimeline(
      TimelineEntry(incident.id(), now, "maintenance_completed", actor,
                    absl::StrCat(why, started ? "; components restored" : "")));
}

}  // namespace herald
