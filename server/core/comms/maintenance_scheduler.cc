#include "server/core/comms/maintenance_scheduler.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"
#include "server/base/text.h"
#include "server/core/comms/message_records.h"
#include "server/core/incidents/public_incident.h"
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

// Maintenance `incident_id`, not yet ended; FailedPrecondition for an
// incident or a maintenance that has ended.
absl::StatusOr<v1::Incident> OpenMaintenance(StoreTxn& txn,
                                             int64_t incident_id) {
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
  return incident;
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
    // The notices the announcement's approval covers; a reminder only when
    // there is still time for one.
    const absl::Duration lead = org.maintenance_reminder_before();
    const bool remind =
        lead > absl::ZeroDuration() && request.starts_at - lead > now;
    std::vector<std::string> notices = {"started", "completed"};
    if (remind) notices.insert(notices.begin(), "reminder");
    out.notices.clear();
    for (const std::string& notice : notices) {
      absl::StatusOr<v1::Message> n =
          drafter_.DraftMaintenanceNotice(incident, notice, "");
      if (!n.ok()) return n.status();
      n->set_covered_by(stored->id());
      absl::StatusOr<v1::Message> kept =
          StoreDraft(txn, *std::move(n), author, now);
      if (!kept.ok()) return kept.status();
      out.notices.push_back(*std::move(kept));
    }
    if (remind) {
      if (auto st = ArmJob(txn, incident, v1::JOB_KIND_MAINTENANCE_REMINDER,
                           ToProtoTime(request.starts_at - lead));
          !st.ok()) {
        return st;
      }
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

absl::StatusOr<CancelledMaintenance> MaintenanceScheduler::Cancel(
    const Caller& caller, int64_t incident_id, absl::string_view reason) const {
  const absl::Time now = deps_.clock.Now();
  const std::string note(absl::StripAsciiWhitespace(reason));
  if (absl::Status st = CheckLength("reason", note, kMaxMessageBodyBytes);
      !st.ok()) {
    return st;
  }
  CancelledMaintenance out;
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    out = {};
    absl::StatusOr<v1::Incident> incident = OpenMaintenance(txn, incident_id);
    if (!incident.ok()) return incident.status();
    if (incident->status() == v1::INCIDENT_STATUS_IN_PROGRESS) {
      // Customers were told it started; "it will not happen" would be
      // untrue, and its components are under maintenance.
      return absl::FailedPreconditionError(absl::StrCat(
          incident->ref(),
          " has started: when the work is done (or undone), mark it "
          "complete with herald maintenance complete"));
    }
    absl::StatusOr<bool> announced = Announced(txn, incident->id());
    if (!announced.ok()) return announced.status();
    const std::string why = note.empty() ? std::string("Cancelled")
                                         : absl::StrCat("Cancelled: ", note);
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
    if (*announced) {
      // Those who were told it would happen are told it will not, in words
      // a comms lead approves.
      absl::StatusOr<v1::Message> draft =
          drafter_.DraftMaintenanceNotice(*incident, "cancelled", note);
      if (!draft.ok()) return draft.status();
      const std::string author = incident->point_person_id().empty()
                                     ? caller.person_id
                                     : incident->point_person_id();
      absl::StatusOr<v1::Message> stored =
          StoreDraft(txn, *std::move(draft), author, now);
      if (!stored.ok()) return stored.status();
      if (auto st = planner_.NotifyDraftWaiting(txn, *stored, *incident);
          !st.ok()) {
        return st;
      }
      out.draft = *std::move(stored);
    }
    out.incident = *std::move(incident);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  deps_.Emit(out.incident.id(), "maintenance_cancelled", caller.person_id,
             note.empty() ? "Cancelled" : note);
  if (out.draft.id() != 0) {
    deps_.Emit(out.incident.id(), "drafted", out.draft.author_id(),
               out.draft.title(), out.draft.ref());
  }
  return out;
}

absl::StatusOr<CompletedMaintenance> MaintenanceScheduler::Complete(
    const Caller& caller, int64_t incident_id) const {
  const absl::Time now = deps_.clock.Now();
  CompletedMaintenance out;
  bool published = false;
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    out = {};
    published = false;
    absl::StatusOr<v1::Incident> incident = OpenMaintenance(txn, incident_id);
    if (!incident.ok()) return incident.status();
    if (incident->status() == v1::INCIDENT_STATUS_SCHEDULED) {
      return absl::FailedPreconditionError(absl::StrCat(
          incident->ref(),
          " has not started: cancel it (herald maintenance cancel) instead"));
    }
    if (auto st = Finish(txn, *incident, now, caller.person_id,
                         absl::StrCat("Completed by ", caller.person_id));
        !st.ok()) {
      return st;
    }
    absl::StatusOr<std::optional<int64_t>> sent =
        SendHeldNotice(txn, *incident, "completed");
    if (!sent.ok()) return sent.status();
    published = sent->has_value();
    out.deliveries_enqueued = sent->value_or(0);
    // An "extended" notice still waiting, and any notice never sent, are
    // no longer true.
    if (auto st = SupersedeDrafts(
            txn, incident->id(), {v1::MESSAGE_KIND_MAINTENANCE},
            caller.person_id, "the maintenance is complete", now);
        !st.ok()) {
      return st.status();
    }
    out.incident = *std::move(incident);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (published) deps_.metrics.messages_published.Increment();
  deps_.Emit(out.incident.id(), "maintenance_completed", caller.person_id,
             absl::StrCat("completed; ", out.deliveries_enqueued,
                          " recipient(s) told"));
  return out;
}

absl::StatusOr<bool> MaintenanceScheduler::Announced(StoreTxn& txn,
                                                     int64_t incident_id) {
  absl::StatusOr<std::vector<v1::Message>> published =
      txn.ListMessages({incident_id, {v1::MESSAGE_STATE_PUBLISHED}});
  if (!published.ok()) return published.status();
  return std::any_of(published->begin(), published->end(),
                     [](const v1::Message& m) {
                       return m.maintenance_notice() == "announcement" ||
                              (m.kind() == v1::MESSAGE_KIND_MAINTENANCE &&
                               m.maintenance_notice().empty());
                     });
}

absl::StatusOr<std::optional<int64_t>> MaintenanceScheduler::SendHeldNotice(
    StoreTxn& txn, const v1::Incident& incident,
    absl::string_view notice) const {
  absl::StatusOr<std::vector<v1::Message>> held =
      txn.ListMessages({incident.id(), {v1::MESSAGE_STATE_APPROVED}});
  if (!held.ok()) return held.status();
  auto it = std::find_if(held->begin(), held->end(), [&](const v1::Message& m) {
    return m.maintenance_notice() == notice;
  });
  if (it == held->end()) return std::nullopt;
  absl::StatusOr<std::vector<v1::Message>> published =
      txn.ListMessages({incident.id(), {v1::MESSAGE_STATE_PUBLISHED}});
  if (!published.ok()) return published.status();
  // The incident as customers know it once this notice is out: with it.
  v1::Message out_now = *it;
  out_now.set_state(v1::MESSAGE_STATE_PUBLISHED);
  *out_now.mutable_published_at() = ToProtoTime(deps_.clock.Now());
  published->push_back(std::move(out_now));
  const v1::Incident told =
      PublicSnapshot(incident, PublicView(incident, *std::move(published)));
  absl::StatusOr<int64_t> reached = planner_.PublishApproved(
      txn, *it, incident, told, kHeraldActor,
      absl::StrCat("as ", it->approver_id(),
                   " approved it with the announcement"));
  if (!reached.ok()) return reached.status();
  return *reached;
}

absl::StatusOr<int> MaintenanceScheduler::RunWindowJob(
    StoreTxn& txn, const v1::Job& job) const {
  // How many messages sending `notice` published.
  const auto send = [&](const v1::Incident& incident,
                        absl::string_view notice) -> absl::StatusOr<int> {
    absl::StatusOr<std::optional<int64_t>> sent =
        SendHeldNotice(txn, incident, notice);
    if (!sent.ok()) return sent.status();
    return sent->has_value() ? 1 : 0;
  };
  absl::StatusOr<v1::Incident> incident = txn.GetIncident(job.incident_id());
  if (!incident.ok()) return incident.status();
  const absl::Time now = deps_.clock.Now();
  if (job.kind() == v1::JOB_KIND_MAINTENANCE_REMINDER &&
      incident->status() == v1::INCIDENT_STATUS_SCHEDULED) {
    return send(*incident, "reminder");
  }
  if (job.kind() == v1::JOB_KIND_MAINTENANCE_START &&
      incident->status() == v1::INCIDENT_STATUS_SCHEDULED) {
    if (auto st = Start(txn, *incident, now); !st.ok()) return st;
    // A reminder approved too late for its moment is not sent now.
    absl::StatusOr<std::vector<v1::Message>> held =
        txn.ListMessages({incident->id(), {v1::MESSAGE_STATE_APPROVED}});
    if (!held.ok()) return held.status();
    for (v1::Message& m : *held) {
      if (m.maintenance_notice() != "reminder") continue;
      m.set_state(v1::MESSAGE_STATE_SUPERSEDED);
      *m.mutable_updated_at() = ToProtoTime(now);
      if (auto st = txn.UpdateMessage(m); !st.ok()) return st;
      if (auto st = AuditMessage(txn, m, kHeraldActor, "superseded",
                                 "the window started before it was due", now);
          !st.ok()) {
        return st;
      }
    }
    return send(*incident, "started");
  }
  if (job.kind() == v1::JOB_KIND_MAINTENANCE_END &&
      incident->status() == v1::INCIDENT_STATUS_IN_PROGRESS) {
    if (auto st = Overrun(txn, *incident, now); !st.ok()) return st;
  }
  return 0;  // cancelled, completed, or already carried out
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

absl::Status MaintenanceScheduler::Overrun(StoreTxn& txn,
                                           const v1::Incident& incident,
                                           absl::Time now) const {
  if (auto st = txn.AppendTimeline(
          TimelineEntry(incident.id(), now, "maintenance_overrun", kHeraldActor,
                        "Window ended with the work still in progress"));
      !st.ok()) {
    return st;
  }
  // Customers who were told when it would end are told it takes longer,
  // in words a comms lead approves.
  absl::StatusOr<bool> announced = Announced(txn, incident.id());
  if (!announced.ok()) return announced.status();
  v1::Message draft;
  if (*announced) {
    absl::StatusOr<v1::Message> extended =
        drafter_.DraftMaintenanceNotice(incident, "extended", "");
    if (!extended.ok()) return extended.status();
    const std::string author = incident.point_person_id().empty()
                                   ? std::string(kHeraldActor)
                                   : incident.point_person_id();
    absl::StatusOr<v1::Message> stored =
        StoreDraft(txn, *std::move(extended), author, now);
    if (!stored.ok()) return stored.status();
    draft = *std::move(stored);
    if (auto st = planner_.NotifyDraftWaiting(txn, draft, incident); !st.ok()) {
      return st;
    }
  }
  // The point person hears of it whether or not customers were told.
  const std::map<std::string, std::string> values = {
      {"message_ref", draft.ref()}};
  const v1::Message* message = draft.id() != 0 ? &draft : nullptr;
  absl::Status told =
      incident.point_person_id().empty()
          ? planner_.NotifyCommsLeads(txn, "maintenance-overrun",
                                      "maintenance_overrun", incident, message,
                                      values)
          : planner_.NotifyPerson(txn, "maintenance-overrun",
                                  "maintenance_overrun", incident,
                                  incident.point_person_id(), message, values);
  // A point person without a contact is no reason to lose the draft.
  if (absl::IsFailedPrecondition(told)) {
    LogWarn("maintenance overrun: could not tell the point person",
            {{"incident", incident.ref()}, {"error", told.ToString()}});
    return absl::OkStatus();
  }
  return told;
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
