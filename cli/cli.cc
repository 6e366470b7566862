#include "cli/cli.h"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "herald/enum_labels.h"

namespace herald::cli {
namespace {

constexpr char kDefaultServer[] = "127.0.0.1:7601";

struct Globals {
  ConnectOptions connect;
  std::string output = "table";
};

std::string When(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(ts.seconds()),
                          absl::UTCTimeZone());
}

std::string OneLine(const std::string& s, size_t max) {
  std::string flat = absl::StrReplaceAll(s, {{"\n", " "}, {"\r", " "}});
  if (flat.size() > max) flat = flat.substr(0, max - 3) + "...";
  return flat;
}

// A plain aligned table.
class Table {
 public:
  explicit Table(std::vector<std::string> header) {
    rows_.push_back(std::move(header));
  }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const {
    std::vector<size_t> width(rows_[0].size(), 0);
    for (const auto& r : rows_) {
      for (size_t i = 0; i < r.size(); ++i)
        width[i] = std::max(width[i], r[i].size());
    }
    for (const auto& r : rows_) {
      std::string line;
      for (size_t i = 0; i < r.size(); ++i) {
        line += r[i];
        if (i + 1 < r.size())
          line += std::string(width[i] - r[i].size() + 2, ' ');
      }
      out << line << "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

void PrintJson(const google::protobuf::Message& m, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(m, &json, options);
  out << json;
  if (json.empty() || json.back() != '\n') out << "\n";
}

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "invalid argument";
    case grpc::StatusCode::NOT_FOUND:
      return "not found";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "already exists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "permission denied";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "unauthenticated";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "failed precondition";
    case grpc::StatusCode::ABORTED:
      return "aborted";
    case grpc::StatusCode::UNAVAILABLE:
      return "unavailable";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline exceeded";
    default:
      return absl::StrCat("error ", static_cast<int>(code));
  }
}

class Commands {
 public:
  Commands(const Globals& globals, const Connector& connect, std::ostream& out,
           std::ostream& err)
      : globals_(globals), connect_(connect), out_(out), err_(err) {}

  // Calls `rpc` on a fresh context carrying the token; prints errors.
  template <typename Fn>
  int Call(Fn rpc) {
    if (!stubs_.incidents) stubs_ = connect_(globals_.connect);
    grpc::ClientContext ctx;
    if (!globals_.connect.token.empty()) {
      ctx.AddMetadata("authorization",
                      absl::StrCat("Bearer ", globals_.connect.token));
    }
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    grpc::Status s = rpc(ctx, stubs_);
    if (s.ok()) return kExitOk;
    std::string msg = s.error_message();
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
      msg = absl::StrCat("cannot reach heraldd at ", globals_.connect.server,
                         " (--server or HERALD_SERVER): ", msg);
    }
    err_ << "herald: " << CodeName(s.error_code()) << ": " << OneLine(msg, 400)
         << "\n";
    return kExitError;
  }

  bool json() const { return globals_.output == "json"; }
  std::ostream& out() { return out_; }

  int Incidents(bool all) {
    v1::ListIncidentsRequest req;
    req.set_include_resolved(all);
    v1::ListIncidentsResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.incidents->ListIncidents(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    if (resp.incidents().empty()) {
      out_ << (all ? "No incidents.\n" : "No open incidents.\n");
      return kExitOk;
    }
    Table t(
        {"ID", "STATUS", "IMPACT", "OPENED", "POINT PERSON", "FLAGS", "TITLE"});
    for (const auto& i : resp.incidents()) {
      std::vector<std::string> flags;
      if (i.has_resolved_at()) flags.push_back("resolved");
      if (i.ready_to_resolve() && !i.has_resolved_at())
        flags.push_back("ready-to-resolve");
      if (!i.customer_visible()) flags.push_back("internal");
      t.Add({i.ref(), EnumLabel(i.status()), EnumLabel(i.impact()),
             When(i.opened_at()),
             i.point_person_id().empty() ? "-" : i.point_person_id(),
             flags.empty() ? "-" : absl::StrJoin(flags, ","),
             OneLine(i.title(), 60)});
    }
    t.Print(out_);
    return kExitOk;
  }

  int Show(const std::string& incident) {
    v1::GetIncidentRequest req;
    req.set_incident(incident);
    v1::GetIncidentResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.incidents->GetIncident(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    const v1::Incident& i = resp.incident();
    out_ << i.ref() << "  " << i.title() << "\n";
    out_ << "  status:        " << EnumLabel(i.status())
         << (i.customer_visible() ? "" : " (internal: nothing published yet)")
         << "\n";
    out_ << "  impact:        " << EnumLabel(i.impact()) << "\n";
    out_ << "  components:    " << absl::StrJoin(i.component_ids(), ", ")
         << "\n";
    out_ << "  point person:  "
         << (i.point_person_id().empty() ? "-" : i.point_person_id()) << "\n";
    out_ << "  opened:        " << When(i.opened_at()) << " UTC\n";
    if (i.has_resolved_at())
      out_ << "  resolved:      " << When(i.resolved_at()) << " UTC\n";
    if (i.ready_to_resolve() && !i.has_resolved_at()) {
      out_ << "  note:          every alert has resolved; run `herald resolve "
           << i.ref() << "`\n";
    }
    if (i.truncated_alerts() > 0) {
      out_ << "  truncated:     " << i.truncated_alerts()
           << " alert(s) left out by Alertmanager\n";
    }
    out_ << "\nAlerts\n";
    Table alerts({"  FINGERPRINT", "STATUS", "ALERTNAME"});
    for (const auto& a : resp.alerts()) {
      auto name = a.labels().find("alertname");
      alerts.Add({"  " + a.fingerprint(),
                  a.status() == v1::ALERT_STATUS_FIRING ? "firing" : "resolved",
                  name == a.labels().end() ? "-" : name->second});
    }
    alerts.Print(out_);
    out_ << "\nMessages\n";
    Table messages({"  ID", "KIND", "STATE", "VERSION", "TITLE"});
    for (const auto& m : resp.messages()) {
      messages.Add({"  " + m.ref(), EnumLabel(m.kind()), EnumLabel(m.state()),
                    absl::StrCat(m.version()), OneLine(m.title(), 60)});
    }
    messages.Print(out_);
    out_ << "\nTimeline (UTC)\n";
    for (const auto& e : resp.timeline()) {
      out_ << "  " << When(e.at()) << "  " << std::left << std::setw(17)
           << e.kind() << " " << e.actor() << ": " << OneLine(e.text(), 100)
           << "\n";
    }
    return kExitOk;
  }

  int Update(const std::string& incident, const std::string& text,
             const std::string& status) {
    v1::PostUpdateRequest req;
    req.set_incident(incident);
    req.set_text(text);
    if (status == "identified") req.set_status(v1::INCIDENT_STATUS_IDENTIFIED);
    if (status == "monitoring") req.set_status(v1::INCIDENT_STATUS_MONITORING);
    v1::PostUpdateResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.incidents->PostUpdate(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    out_ << "Update stored on " << incident << ". Draft " << resp.draft().ref()
         << " is waiting for approval:\n\n  " << resp.draft().title() << "\n  "
         << OneLine(resp.draft().body(), 400) << "\n";
    return kExitOk;
  }

  int Resolve(const std::string& incident, const std::string& note) {
    v1::ResolveIncidentRequest req;
    req.set_incident(incident);
    req.set_note(note);
    v1::ResolveIncidentResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.incidents->ResolveIncident(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    out_ << resp.incident().ref()
         << " resolved. Drafts waiting for approval:\n";
    for (const auto& m : resp.drafts()) {
      out_ << "  " << m.ref() << "  " << EnumLabel(m.kind()) << "  "
           << m.title() << "\n";
    }
    return kExitOk;
  }

  int Messages(const std::string& incident,
               const std::vector<std::string>& states) {
    v1::ListMessagesRequest req;
    req.set_incident(incident);
    for (const std::string& s : states) {
      v1::MessageState state;
      if (!v1::MessageState_Parse(
              absl::StrCat("MESSAGE_STATE_", absl::AsciiStrToUpper(s)),
              &state)) {
        err_ << "herald: --state: expected draft, pending_approval, approved, "
                "published, "
                "rejected or superseded, got \""
             << s << "\"\n";
        return kExitUsage;
      }
      req.add_states(state);
    }
    v1::ListMessagesResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.messages->ListMessages(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    if (resp.messages().empty()) {
      out_ << "No messages.\n";
      return kExitOk;
    }
    Table t({"ID", "INCIDENT", "KIND", "STATE", "VERSION", "AUTHOR", "TITLE"});
    for (const auto& m : resp.messages()) {
      t.Add({m.ref(), absl::StrCat("INC-", m.incident_id()),
             EnumLabel(m.kind()), EnumLabel(m.state()),
             absl::StrCat(m.version()), m.author_id(), OneLine(m.title(), 60)});
    }
    t.Print(out_);
    return kExitOk;
  }

  int Approve(const std::string& message, int version) {
    v1::ApproveMessageRequest req;
    req.set_message(message);
    req.set_version(version);
    v1::ApproveMessageResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.messages->ApproveMessage(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    out_ << resp.message().ref() << " approved and published; "
         << resp.deliveries_enqueued() << " recipient(s) queued.\n";
    return kExitOk;
  }

  int OnCall(const std::string& component) {
    v1::GetOnCallRequest req;
    req.set_component(component);
    v1::GetOnCallResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.oncall->GetOnCall(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    Table t(
        {"ROTA", "POINT PERSON", "BACKUP", "SHIFT ENDS (UTC)", "COMPONENTS"});
    for (const auto& a : resp.assignments()) {
      t.Add(
          {a.rota_id(),
           absl::StrCat(a.point_person_name(), " (", a.point_person_id(), ")"),
           a.backup_id().empty() ? "-" : a.backup_id(), When(a.shift_end()),
           absl::StrJoin(a.component_ids(), ", ")});
    }
    t.Print(out_);
    return kExitOk;
  }

 private:
  const Globals& globals_;
  const Connector& connect_;
  std::ostream& out_;
  std::ostream& err_;
  Stubs stubs_;
};

}  // namespace

int Run(int argc, const char* const* argv, const Connector& connect,
        const std::function<std::string(const char*)>& env, std::ostream& out,
        std::ostream& err) {
  Globals g;
  g.connect.server = env("HERALD_SERVER");
  if (g.connect.server.empty()) g.connect.server = kDefaultServer;
  g.connect.token = env("HERALD_TOKEN");

  CLI::App app{
      "herald: incident communication from the command line.\n"
      "Engineers post short updates; comms leads approve what customers read."};
  app.name("herald");
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  app.add_option("--server", g.connect.server,
                 "heraldd gRPC address (env HERALD_SERVER)")
      ->capture_default_str();
  app.add_option("--token", g.connect.token,
                 "your API token (env HERALD_TOKEN)");
  app.add_option("-o,--output", g.output, "output format: table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  Commands cmd(g, connect, out, err);
  int rc = kExitOk;

  bool all = false;
  auto* incidents = app.add_subcommand(
      "incidents", "List open incidents (--all: resolved too)");
  incidents->add_flag("-a,--all", all, "include resolved incidents");
  incidents->callback([&] { rc = cmd.Incidents(all); });

  std::string incident;
  auto* show = app.add_subcommand(
      "show", "Show an incident: alerts, messages and timeline");
  show->add_option("INCIDENT", incident, "incident id, e.g. INC-12")
      ->required();
  show->callback([&] { rc = cmd.Show(incident); });

  std::string text, status;
  auto* update = app.add_subcommand("update",
                                    "Post a short engineer update (engineer "
                                    "role); drafts a customer message");
  update->add_option("INCIDENT", incident, "incident id, e.g. INC-12")
      ->required();
  update
      ->add_option("TEXT", text,
                   "what changed, in a sentence or two (max 500 characters)")
      ->required();
  update
      ->add_option("--status", status,
                   "move the incident to identified or monitoring")
      ->check(CLI::IsMember({"identified", "monitoring"}));
  update->callback([&] { rc = cmd.Update(incident, text, status); });

  std::string note;
  auto* resolve = app.add_subcommand(
      "resolve",
      "Resolve an incident; drafts the resolution notice and the apologies");
  resolve->add_option("INCIDENT", incident, "incident id, e.g. INC-12")
      ->required();
  resolve->add_option("--note", note,
                      "what happened and what was done, for customers");
  resolve->callback([&] { rc = cmd.Resolve(incident, note); });

  std::vector<std::string> states;
  auto* messages = app.add_subcommand(
      "messages", "List messages (default: drafts awaiting approval)");
  messages->add_option("--incident", incident, "only this incident");
  messages
      ->add_option("--state", states, "states to list, e.g. --state published")
      ->delimiter(',');
  messages->callback([&] { rc = cmd.Messages(incident, states); });

  std::string message;
  int version = 0;
  auto* approve = app.add_subcommand(
      "approve", "Approve and publish a message (comms_lead role)");
  approve->add_option("MESSAGE", message, "message id, e.g. MSG-40")
      ->required();
  approve->add_option(
      "--version", version,
      "refuse if the message is no longer at this version (what you reviewed)");
  approve->callback([&] { rc = cmd.Approve(message, version); });

  std::string component;
  auto* oncall = app.add_subcommand(
      "oncall", "Show who is the communication point person now");
  oncall->add_option("COMPONENT", component,
                     "only the rota for this component");
  oncall->callback([&] { rc = cmd.OnCall(component); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (!app.get_subcommands().empty() && e.get_exit_code() != 0) {
      err << "herald " << app.get_subcommands().front()->get_name() << ": "
          << what << " (see --help)\n";
    } else {
      err << "herald: " << what << " (see --help)\n";
    }
    return e.get_exit_code() == 0 ? kExitOk : kExitUsage;
  }
  return rc;
}

Connector GrpcConnector() {
  return [](const ConnectOptions& o) {
    auto channel =
        grpc::CreateChannel(o.server, grpc::InsecureChannelCredentials());
    Stubs stubs;
    stubs.incidents = v1::IncidentService::NewStub(channel);
    stubs.messages = v1::MessageService::NewStub(channel);
    stubs.oncall = v1::OnCallService::NewStub(channel);
    return stubs;
  };
}

}  // namespace herald::cli
