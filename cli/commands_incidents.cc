#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <dtl/dtl.hpp>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/editor.h"
#include "cli/safe_output.h"
#include "cli/subscriber_csv.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "herald/enum_labels.h"
#include "server/base/private_files.h"
#include "server/base/text.h"

namespace herald::cli {

int Commands::Incidents(bool all) {
  v1::ListIncidentsRequest req;
  req.set_include_resolved(all);
  return ListAndPrint(
      &IncidentStub::ListIncidents, req, &v1::ListIncidentsResponse::incidents,
      {.header = {"ID", "STATUS", "IMPACT", "OPENED", "POINT PERSON", "FLAGS",
                  "TITLE"},
       .empty = (all ? "No incidents." : "No open incidents.")},
      [](const auto& i) -> std::vector<std::string> {
        std::vector<std::string> flags;
        if (i.has_resolved_at()) flags.push_back("resolved");
        if (i.ready_to_resolve() && !i.has_resolved_at())
          flags.push_back("ready-to-resolve");
        if (!i.customer_visible()) flags.push_back("internal");
        return {i.ref(),
                EnumLabel(i.status()),
                EnumLabel(i.impact()),
                When(i.opened_at()),
                i.point_person_id().empty() ? "-" : i.point_person_id(),
                flags.empty() ? "-" : absl::StrJoin(flags, ","),
                OneLine(i.title(), 60)};
      });
}

int Commands::Show(const std::string& incident) {
  v1::GetIncidentRequest req;
  req.set_incident(incident);
  return CallAndPrint(
      &IncidentStub::GetIncident, req,
      [&](const v1::GetIncidentResponse& resp) {
        const v1::Incident& i = resp.incident();
        out_ << i.ref() << "  " << i.title() << "\n";
        out_ << "  status:        " << EnumLabel(i.status())
             << (i.customer_visible() ? ""
                                      : " (internal: nothing published yet)")
             << "\n";
        out_ << "  impact:        " << EnumLabel(i.impact()) << "\n";
        out_ << "  components:    " << absl::StrJoin(i.component_ids(), ", ")
             << "\n";
        out_ << "  point person:  "
             << (i.point_person_id().empty() ? "-" : i.point_person_id());
        if (!i.acknowledged_by().empty()) {
          out_ << " (acknowledged by " << i.acknowledged_by() << " at "
               << When(i.acknowledged_at()) << " UTC)";
        } else if (!i.point_person_id().empty() && !i.has_resolved_at()) {
          out_ << " (not acknowledged";
          if (i.escalation_level() > 0) {
            out_ << "; escalated " << i.escalation_level() << " step(s)";
          }
          out_ << ")";
        }
        out_ << "\n";
        if (i.reopened_count() > 0) {
          out_ << "  reopened:      " << i.reopened_count() << " time(s)\n";
        }
        if (!i.attached_group_keys().empty()) {
          out_ << "  also groups:   "
               << absl::StrJoin(i.attached_group_keys(), "; ") << "\n";
        }
        out_ << "  opened:        " << When(i.opened_at()) << " UTC\n";
        if (i.has_resolved_at())
          out_ << "  resolved:      " << When(i.resolved_at()) << " UTC\n";
        if (i.ready_to_resolve() && !i.has_resolved_at()) {
          out_ << "  note:          every alert has resolved; run `herald "
                  "resolve "
               << i.ref() << "`\n";
        }
        if (i.truncated_alerts() > 0) {
          out_ << "  truncated:     " << i.truncated_alerts()
               << " alert(s) left out by Alertmanager\n";
        }
        if (i.alerts_over_limit() > 0) {
          out_ << "  over limit:    " << i.alerts_over_limit()
               << " alert(s) not stored: the incident holds its most "
                  "(intake.limits.max_alerts_per_incident)\n";
        }
        out_ << "\nAlerts\n";
        PrintAlerts(resp.alerts(), "  ");
        if (resp.alert_count() > resp.alerts_size()) {
          out_ << "  ... and " << resp.alert_count() - resp.alerts_size()
               << " more: herald alerts " << i.ref() << "\n";
        }
        out_ << "\nMessages\n";
        Table messages({"  ID", "KIND", "STATE", "VERSION", "TITLE"});
        for (const auto& m : resp.messages()) {
          messages.Add({"  " + m.ref(), EnumLabel(m.kind()),
                        EnumLabel(m.state()), absl::StrCat(m.version()),
                        OneLine(m.title(), 60)});
        }
        messages.Print(out_);
        out_ << "\nTimeline (UTC)\n";
        for (const auto& e : resp.timeline()) {
          out_ << "  " << When(e.at()) << "  " << std::left << std::setw(17)
               << e.kind() << " " << e.actor() << ": " << OneLine(e.text(), 100)
               << "\n";
        }
        if (resp.timeline_count() > resp.timeline_size()) {
          out_ << "  ... and " << resp.timeline_count() - resp.timeline_size()
               << " more events\n";
        }
        return kExitOk;
      });
}

int Commands::Update(const std::string& incident, const std::string& text,
                     const std::string& status, const std::string& eta,
                     const std::string& next) {
  v1::PostUpdateRequest req;
  req.set_incident(incident);
  req.set_text(text);
  if (status == "identified") req.set_status(v1::INCIDENT_STATUS_IDENTIFIED);
  if (status == "monitoring") req.set_status(v1::INCIDENT_STATUS_MONITORING);
  if (!eta.empty()) {
    absl::Duration d;
    if (!absl::ParseDuration(eta, &d) || d <= absl::ZeroDuration()) {
      return UsageError(absl::InvalidArgumentError(absl::StrCat(
          "--eta: expected a duration from now such as 30m or 2h, got \"", eta,
          "\"")));
    }
    req.mutable_eta()->set_seconds(absl::ToInt64Seconds(d));
  }
  req.set_next_step(next);
  return CallAndPrint(
      &IncidentStub::PostUpdate, req, [&](const v1::PostUpdateResponse& resp) {
        out_ << "Update stored on " << incident << ". Draft "
             << resp.draft().ref() << " is waiting for approval:\n\n  "
             << resp.draft().title() << "\n  "
             << OneLine(resp.draft().body(), 400) << "\n";
        return kExitOk;
      });
}

int Commands::Resolve(const std::string& incident, const std::string& note) {
  v1::ResolveIncidentRequest req;
  req.set_incident(incident);
  req.set_note(note);
  return CallAndPrint(&IncidentStub::ResolveIncident, req,
                      [&](const v1::ResolveIncidentResponse& resp) {
                        out_ << resp.incident().ref()
                             << " resolved. Drafts waiting for approval:\n";
                        for (const auto& m : resp.drafts()) {
                          out_ << "  " << m.ref() << "  " << EnumLabel(m.kind())
                               << "  " << m.title() << "\n";
                        }
                        return kExitOk;
                      });
}

int Commands::AuditLog(const std::string& incident) {
  v1::ListAuditRequest req;
  req.set_incident(incident);
  return ListAndPrint(
      &MessageStub::ListAudit, req, &v1::ListAuditResponse::entries,
      {.header = {"AT (UTC)", "INCIDENT", "MESSAGE", "VERSION", "ACTOR",
                  "ACTION", "DETAIL"},
       .empty = "No decisions recorded."},
      [](const v1::AuditEntry& e) -> std::vector<std::string> {
        return {When(e.at()),
                absl::StrCat("INC-", e.incident_id()),
                e.message_ref(),
                absl::StrCat(e.message_version()),
                e.actor_id(),
                e.action(),
                e.detail().empty() ? "-" : OneLine(e.detail(), 60)};
      });
}

void Commands::PrintAlerts(
    const google::protobuf::RepeatedPtrField<v1::Alert>& list,
    const std::string& indent) {
  Table t({indent + "FINGERPRINT", "INCIDENT", "STATUS", "ALERTNAME", "NOTE"});
  for (const auto& a : list) {
    auto name = a.labels().find("alertname");
    t.Add({indent + a.fingerprint(),
           a.incident_id() ? absl::StrCat("INC-", a.incident_id()) : "-",
           EnumLabel(a.status()),
           name == a.labels().end() ? "-" : OneLine(name->second, 60),
           a.unrouted() ? "unrouted: matched no component" : "-"});
  }
  t.Print(out_);
}

int Commands::Acknowledge(const std::string& incident) {
  v1::AcknowledgeIncidentRequest req;
  req.set_incident(incident);
  return CallAndPrint(&IncidentStub::AcknowledgeIncident, req,
                      [&](const v1::AcknowledgeIncidentResponse& resp) {
                        out_ << resp.incident().ref() << " acknowledged by "
                             << resp.incident().acknowledged_by() << ".\n";
                        return kExitOk;
                      });
}

int Commands::Watch(const std::string& incident, int count) {
  if (!stubs_.incidents) stubs_ = connect_(globals_.connect);
  grpc::ClientContext ctx;
  AddCredentials(ctx);
  v1::WatchRequest req;
  req.set_incident(incident);
  std::unique_ptr<grpc::ClientReaderInterface<v1::WatchEvent>> reader =
      stubs_.incidents->Watch(&ctx, req);
  v1::WatchEvent e;
  int seen = 0;
  while ((count <= 0 || seen < count) && reader->Read(&e)) {
    ++seen;
    if (json()) {
      PrintJsonLine(e, out_);
    } else if (e.kind() == "watching") {
      out_ << "Watching " << e.text() << " (Ctrl-C to stop). Times in UTC.\n";
    } else {
      out_ << absl::FormatTime("%H:%M:%S",
                               absl::FromUnixSeconds(e.at().seconds()),
                               absl::UTCTimeZone())
           << "  " << std::left << std::setw(8)
           << (e.incident_ref().empty() ? "-" : e.incident_ref()) << " "
           << std::setw(15) << e.kind() << " " << e.actor() << ": "
           << (e.message_ref().empty() ? "" : e.message_ref() + " ")
           << OneLine(e.text(), 200) << "\n";
    }
    out_.flush();
  }
  if (count > 0 && seen == count) {
    ctx.TryCancel();  // as many as asked for: done
    reader->Finish().IgnoreError();
    return kExitOk;
  }
  grpc::Status s = reader->Finish();
  const std::string msg = ErrorText(s);
  err_ << "herald watch: the stream ended: "
       << (s.ok() ? "server closed it"
                  : CodeName(s.error_code()) + ": " + OneLine(msg, 400))
       << "\n";
  return kExitError;
}

int Commands::Alerts(const std::string& incident, bool unrouted, int limit) {
  if (incident.empty() == !unrouted) {
    return UsageError("alerts", "give an INCIDENT or --unrouted");
  }
  v1::ListAlertsRequest req;
  req.set_incident(incident);
  req.set_unrouted_only(unrouted);
  v1::ListAlertsResponse all;
  if (int rc = CallEveryPage(req, all, &IncidentStub::ListAlerts, limit,
                             &v1::ListAlertsResponse::alerts)) {
    return rc;
  }
  if (json()) return PrintJson(all, out_), kExitOk;
  if (all.alerts().empty()) {
    out_ << (unrouted ? "No unrouted alerts.\n" : "No alerts.\n");
    return kExitOk;
  }
  PrintAlerts(all.alerts(), "");
  if (all.total_count() > all.alerts_size()) {
    out_ << "Showing " << all.alerts_size() << " of " << all.total_count()
         << " alerts (--limit).\n";
  }
  return kExitOk;
}

int Commands::ScheduleMaintenance(const std::vector<std::string>& components,
                                  const std::string& from,
                                  const std::string& to,
                                  const std::string& title,
                                  const std::string& text) {
  v1::ScheduleMaintenanceRequest req;
  for (const std::string& c : components) req.add_component_ids(c);
  absl::StatusOr<absl::Time> starts = ParseWhen(from, "--from", globals_.now);
  if (!starts.ok()) return UsageError(starts.status());
  absl::StatusOr<absl::Time> ends = ParseWhen(to, "--to", globals_.now);
  if (!ends.ok()) return UsageError(ends.status());
  req.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(*starts));
  req.mutable_ends_at()->set_seconds(absl::ToUnixSeconds(*ends));
  req.set_title(title);
  req.set_text(text);
  return CallAndPrint(
      &IncidentStub::ScheduleMaintenance, req,
      [&](const v1::ScheduleMaintenanceResponse& resp) {
        const v1::Incident& i = resp.incident();
        out_ << i.ref() << " scheduled: " << i.title() << ", "
             << When(i.maintenance().starts_at()) << " to "
             << When(i.maintenance().ends_at()) << " UTC.\n"
             << "The announcement " << resp.draft().ref()
             << " waits for approval; nothing is public until then (herald "
                "messages preview "
             << resp.draft().ref() << ").\n";
        if (resp.notices_size() > 0) {
          out_ << "Its approval also approves, each to go out at its moment "
                  "(edit them first if need be):\n";
          for (const v1::Message& n : resp.notices()) {
            out_ << "  " << n.ref() << "  " << n.maintenance_notice() << ": "
                 << n.title() << "\n";
          }
        }
        return kExitOk;
      });
}

int Commands::CancelMaintenance(const std::string& incident,
                                const std::string& reason) {
  v1::CancelMaintenanceRequest req;
  req.set_incident(incident);
  req.set_reason(reason);
  return CallAndPrint(
      &IncidentStub::CancelMaintenance, req,
      [&](const v1::CancelMaintenanceResponse& resp) {
        out_ << resp.incident().ref()
             << " is cancelled; its notices not yet sent are withdrawn.\n";
        if (resp.has_draft()) {
          out_ << "Customers were told of it: the cancellation notice "
               << resp.draft().ref()
               << " waits for approval (herald messages preview "
               << resp.draft().ref() << ").\n";
        }
        return kExitOk;
      });
}

int Commands::CompleteMaintenance(const std::string& incident) {
  v1::CompleteMaintenanceRequest req;
  req.set_incident(incident);
  return CallAndPrint(
      &IncidentStub::CompleteMaintenance, req,
      [&](const v1::CompleteMaintenanceResponse& resp) {
        out_ << resp.incident().ref()
             << " is complete; its components are back to their status before "
                "it. The approved \"completed\" notice went to "
             << resp.deliveries_enqueued() << " recipient(s).\n";
        return kExitOk;
      });
}

}  // namespace herald::cli
