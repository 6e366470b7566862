#include "cli/cli.h"

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
#include "cli/safe_output.h"
#include "cli/subscriber_csv.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "herald/enum_labels.h"
#include "server/base/private_files.h"
#include "server/base/text.h"

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

// RFC 3339, or a duration from now ("8h", "90m").
absl::StatusOr<absl::Time> ParseWhen(const std::string& text,
                                     absl::string_view flag) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return t;
  absl::Duration d;
  if (absl::ParseDuration(text, &d)) return absl::Now() + d;
  return absl::InvalidArgumentError(
      absl::StrCat(flag,
                   ": expected an RFC 3339 time (2026-11-24T03:00:00Z) or a "
                   "duration from now (8h), got \"",
                   text, "\""));
}

std::string Money(int64_t cents, const std::string& currency) {
  return absl::StrFormat("%s %d.%02d", currency, cents / 100, cents % 100);
}

// "1h35m" between two timestamps; "-" when either is unset.
std::string Duration(const google::protobuf::Timestamp& from,
                     const google::protobuf::Timestamp& to) {
  if (from.seconds() == 0 || to.seconds() == 0) return "-";
  return absl::FormatDuration(absl::Seconds(to.seconds() - from.seconds()));
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

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     absl::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read \"", path, "\""));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  if (absl::Status s =
          CheckText(absl::StrCat(flag, " (", path, ")"), buf.str());
      !s.ok()) {
    return s;
  }
  return buf.str();
}

// The text a message is edited as: the title, a blank line, the body.
std::string EditableText(const std::string& title, const std::string& body) {
  return absl::StrCat(title, "\n\n", body, "\n");
}

std::pair<std::string, std::string> ParseEditableText(const std::string& text) {
  const size_t end_of_title = text.find('\n');
  std::string title(absl::StripAsciiWhitespace(text.substr(0, end_of_title)));
  std::string body;
  if (end_of_title != std::string::npos) {
    body = std::string(absl::StripAsciiWhitespace(text.substr(end_of_title)));
  }
  return {std::move(title), std::move(body)};
}

// Opens `editor` (a shell command, like $EDITOR) on the message's text and
// returns the edited title and body.
absl::StatusOr<std::pair<std::string, std::string>> EditInEditor(
    const std::string& editor, const v1::Message& m) {
  if (editor.empty()) {
    return absl::FailedPreconditionError(
        "set $EDITOR, or pass --title and/or --body-file");
  }
  char path[] = "/tmp/herald-edit-XXXXXX.txt";
  const int fd = mkstemps(path, 4);
  if (fd < 0) return absl::InternalError("cannot create a temporary file");
  const std::string text = EditableText(m.title(), m.body());
  const bool written =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (!written) {
    unlink(path);
    return absl::InternalError("cannot write the temporary file");
  }
  // Through the shell, as git does, so that EDITOR="code --wait" works.
  const std::string script = absl::StrCat(editor, " \"$1\"");
  const char* argv[] = {"/bin/sh",       "-c", script.c_str(),
                        "herald-editor", path, nullptr};
  pid_t pid = 0;
  int status = 0;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr,
                  const_cast<char* const*>(argv), environ) != 0 ||
      waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    unlink(path);
    return absl::AbortedError(
        absl::StrCat("the editor (", editor, ") failed; nothing was changed"));
  }
  absl::StatusOr<std::string> edited = ReadFile(path, "the edited file");
  unlink(path);
  if (!edited.ok()) return edited.status();
  return ParseEditableText(*edited);
}

std::vector<std::string> Lines(const std::string& title,
                               const std::string& body) {
  std::vector<std::string> out =
      absl::StrSplit(EditableText(title, body), '\n');
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

// A unified diff of two versions, title first.
std::string UnifiedDiff(const std::string& title_a, const std::string& body_a,
                        const std::string& title_b, const std::string& body_b) {
  dtl::Diff<std::string, std::vector<std::string>> diff(Lines(title_a, body_a),
                                                        Lines(title_b, body_b));
  diff.compose();
  diff.composeUnifiedHunks();
  std::ostringstream out;
  diff.printUnifiedFormat(out);
  std::string text = out.str();
  return text.empty() ? "(no differences)\n" : text;
}

class Commands {
 public:
  Commands(const Globals& globals, const Connector& connect, std::ostream& out,
           std::ostream& err)
      : globals_(globals), connect_(connect), out_(out), err_(err) {}

  // Calls `rpc` on a fresh context carrying the token; prints errors.
  // The caller's token, as gRPC metadata.
  void AddCredentials(grpc::ClientContext& ctx) const {
    if (!globals_.connect.token.empty()) {
      ctx.AddMetadata("authorization",
                      absl::StrCat("Bearer ", globals_.connect.token));
    }
  }

  // A failed call's message; for an unreachable server, with where herald
  // looked and how (plain text or TLS).
  std::string ErrorText(const grpc::Status& s) const {
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE) {
      return s.error_message();
    }
    return absl::StrCat("cannot reach heraldd at ", globals_.connect.server,
                        " (--server or HERALD_SERVER)",
                        globals_.connect.ca_cert_file.empty()
                            ? "; if it serves TLS, pass --ca-cert"
                            : absl::StrCat(" over TLS with the CA in ",
                                           globals_.connect.ca_cert_file),
                        ": ", s.error_message());
  }

  template <typename Fn>
  int Call(Fn rpc) {
    if (!stubs_.incidents) stubs_ = connect_(globals_.connect);
    grpc::ClientContext ctx;
    AddCredentials(ctx);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    grpc::Status s = rpc(ctx, stubs_);
    if (s.ok()) return kExitOk;
    const std::string msg = ErrorText(s);
    err_ << "herald: " << CodeName(s.error_code()) << ": " << OneLine(msg, 400)
         << "\n";
    return kExitError;
  }

  // Calls a list RPC a page at a time, `rpc(ctx, stubs, request, page)`,
  // and gathers every page into `all`: repeated fields append, and `all`'s
  // next_page_token is left empty. With `limit` (0: all), stops once
  // `items(all)` holds that many, and leaves the token of what follows in
  // next_page_token.
  template <typename Request, typename Response, typename Rpc,
            typename Items = std::nullptr_t>
  int CallEveryPage(Request request, Response& all, Rpc rpc, int limit = 0,
                    Items items = nullptr) {
    constexpr int kMostPerPage = 1000;  // the server's largest page
    // How many more `limit` allows.
    auto left = [&] {
      if constexpr (std::is_same_v<Items, std::nullptr_t>) {
        return kMostPerPage;
      } else {
        const int have = items(all)->size();
        return limit > 0 ? limit - have : kMostPerPage;
      }
    };
    do {
      request.set_page_size(std::min(left(), kMostPerPage));
      Response page;
      if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
            return rpc(c, s, request, page);
          })) {
        return rc;
      }
      request.set_page_token(page.next_page_token());
      all.MergeFrom(page);
    } while (!request.page_token().empty() && left() > 0);
    all.set_next_page_token(request.page_token());
    return kExitOk;
  }

  bool json() const { return globals_.output == "json"; }
  std::ostream& out() { return out_; }

  int Incidents(bool all) {
    v1::ListIncidentsRequest req;
    req.set_include_resolved(all);
    v1::ListIncidentsResponse resp;
    if (int rc = CallEveryPage(
            req, resp, [](grpc::ClientContext& c, Stubs& s, auto& q, auto& r) {
              return s.incidents->ListIncidents(&c, q, &r);
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
      out_ << "  note:          every alert has resolved; run `herald resolve "
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
    if (resp.timeline_count() > resp.timeline_size()) {
      out_ << "  ... and " << resp.timeline_count() - resp.timeline_size()
           << " more events\n";
    }
    return kExitOk;
  }

  int Update(const std::string& incident, const std::string& text,
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
            "--eta: expected a duration from now such as 30m or 2h, got \"",
            eta, "\"")));
      }
      req.mutable_eta()->set_seconds(absl::ToInt64Seconds(d));
    }
    req.set_next_step(next);
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
    if (int rc = CallEveryPage(
            req, resp, [](grpc::ClientContext& c, Stubs& s, auto& q, auto& r) {
              return s.messages->ListMessages(&c, q, &r);
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

  // What waits for approval, with what a reviewer weighs first; the comms
  // console's inbox.
  int Inbox() {
    v1::GetInboxResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.messages->GetInbox(&c, v1::GetInboxRequest(), &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    if (resp.items().empty()) {
      out_ << "Nothing waits for approval.\n";
      return kExitOk;
    }
    Table t({"INCIDENT", "MESSAGE", "KIND", "AUTHOR", "CREATED", "AUDIENCE",
             "NEXT UPDATE DUE", "TITLE"});
    for (const v1::InboxItem& item : resp.items()) {
      const v1::Message& m = item.message();
      std::string due = "-";
      if (item.has_update_due_at()) {
        due = item.update_overdue()
                  ? absl::StrCat("OVERDUE since ", When(item.update_due_at()))
                  : When(item.update_due_at());
      }
      t.Add({item.incident_ref(), m.ref(), EnumLabel(m.kind()), m.author_id(),
             When(m.created_at()), absl::StrCat(item.audience_size()), due,
             OneLine(m.title(), 50)});
    }
    t.Print(out_);
    return kExitOk;
  }

  int Preview(const std::string& message) {
    absl::StatusOr<v1::GetMessageResponse> got = FetchMessage(message);
    if (!got.ok()) return kExitError;
    if (json()) return PrintJson(*got, out_), kExitOk;
    const v1::Message& m = got->message();
    out_ << m.ref() << "  " << EnumLabel(m.kind()) << ", "
         << EnumLabel(m.state()) << ", version " << m.version() << " by "
         << m.last_editor_id() << "\n";
    if (m.state() == v1::MESSAGE_STATE_REJECTED) {
      out_ << "rejected by " << m.rejected_by() << ": " << m.rejection_reason()
           << "\n";
    }
    if (!m.component_statuses().empty()) {
      std::vector<std::string> statuses;
      for (const auto& [c, st] : m.component_statuses()) {
        statuses.push_back(absl::StrCat(
            c, " ", EnumLabel(static_cast<v1::ComponentStatus>(st))));
      }
      std::sort(statuses.begin(), statuses.end());
      out_ << "publishing sets: " << absl::StrJoin(statuses, ", ") << "\n";
    }
    const auto print = [&](absl::string_view text) {
      out_ << text;
      if (text.empty() || text.back() != '\n') out_ << "\n";
    };
    bool has_email = false;
    for (const v1::ChannelPreview& p : got->previews()) {
      out_ << "\n== " << p.channel();
      if (!p.recipient().empty()) out_ << " to " << p.recipient();
      if (p.channel() == "short_text") {
        out_ << " (SMS, chat; " << p.body().size() << " characters)";
      }
      out_ << "\n";
      if (p.channel() == "email") {
        has_email = true;
        out_ << "Subject: " << p.subject() << "\n\n";
        print(p.body());
        if (!p.html().empty()) {
          out_ << "\n-- HTML part --\n";
          print(p.html());
        }
      } else if (p.channel() == "status_page") {
        out_ << p.subject() << "\n\n";
        print(p.body());
      } else {
        print(p.body());
      }
    }
    if (!has_email) {
      out_ << "\n(no subscriber of the affected components has an email "
              "address: no email goes out)\n";
    }
    return kExitOk;
  }

  int Edit(const std::string& message, const std::string& title,
           const std::string& body_file,
           const std::vector<std::string>& components,
           const std::string& editor) {
    v1::EditMessageRequest req;
    for (const std::string& c : components) {
      const size_t eq = c.find('=');
      v1::ComponentStatus status;
      if (eq == std::string::npos ||
          !v1::ComponentStatus_Parse(
              absl::StrCat("COMPONENT_STATUS_",
                           absl::AsciiStrToUpper(c.substr(eq + 1))),
              &status) ||
          status == v1::COMPONENT_STATUS_UNSPECIFIED) {
        return UsageError(absl::InvalidArgumentError(absl::StrCat(
            "--component: expected COMPONENT=STATUS with STATUS one of "
            "operational, degraded_performance, partial_outage, "
            "major_outage, under_maintenance; got \"",
            c, "\"")));
      }
      (*req.mutable_component_statuses())[c.substr(0, eq)] = status;
    }
    absl::StatusOr<v1::GetMessageResponse> got = FetchMessage(message);
    if (!got.ok()) return kExitError;
    const v1::Message& m = got->message();
    req.set_message(message);
    req.set_version(m.version());
    req.set_title(title);
    if (!body_file.empty()) {
      absl::StatusOr<std::string> body = ReadFile(body_file, "--body-file");
      if (!body.ok()) return UsageError(body.status());
      req.set_body(*std::move(body));
    }
    if (title.empty() && body_file.empty() && components.empty()) {
      absl::StatusOr<std::pair<std::string, std::string>> edited =
          EditInEditor(editor, m);
      if (!edited.ok()) {
        err_ << "herald messages edit: " << edited.status().message() << "\n";
        return kExitError;
      }
      if (edited->first == m.title() && edited->second == m.body()) {
        out_ << "No change; " << m.ref() << " stays at version " << m.version()
             << ".\n";
        return kExitOk;
      }
      req.set_title(edited->first);
      req.set_body(edited->second);
    }
    v1::EditMessageResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.messages->EditMessage(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    out_ << resp.message().ref() << " is now version "
         << resp.message().version() << ". Review it with `herald messages "
         << "preview " << resp.message().ref() << "`.\n";
    return kExitOk;
  }

  int Diff(const std::string& message, int from, int to) {
    absl::StatusOr<v1::GetMessageResponse> got = FetchMessage(message);
    if (!got.ok()) return kExitError;
    const int current = got->message().version();
    if (to == 0) to = current;
    if (from == 0) from = to - 1;
    const v1::MessageVersion* a = nullptr;
    const v1::MessageVersion* b = nullptr;
    for (const v1::MessageVersion& v : got->versions()) {
      if (v.version() == from) a = &v;
      if (v.version() == to) b = &v;
    }
    if (from < 1 || a == nullptr || b == nullptr) {
      if (current == 1 && from == 0) {
        out_ << got->message().ref()
             << " has only version 1 (herald's draft): nothing to compare.\n";
        return kExitOk;
      }
      return UsageError(absl::InvalidArgumentError(
          absl::StrCat(got->message().ref(), " has versions 1 to ", current,
                       "; cannot compare ", from, " with ", to)));
    }
    if (json()) {
      v1::GetMessageResponse pair;
      *pair.add_versions() = *a;
      *pair.add_versions() = *b;
      return PrintJson(pair, out_), kExitOk;
    }
    out_ << "--- " << got->message().ref() << " version " << a->version()
         << " (" << a->editor_id() << ", " << When(a->created_at())
         << " UTC)\n+++ " << got->message().ref() << " version " << b->version()
         << " (" << b->editor_id() << ", " << When(b->created_at())
         << " UTC)\n";
    out_ << UnifiedDiff(a->title(), a->body(), b->title(), b->body());
    return kExitOk;
  }

  int Reject(const std::string& message, int version,
             const std::string& reason) {
    v1::RejectMessageRequest req;
    req.set_message(message);
    req.set_version(version);
    req.set_reason(reason);
    v1::RejectMessageResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.messages->RejectMessage(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    out_ << resp.message().ref() << " rejected. The point person can rework "
         << "it with `herald messages edit " << resp.message().ref() << "`.\n";
    return kExitOk;
  }

  int AuditLog(const std::string& incident) {
    v1::ListAuditRequest req;
    req.set_incident(incident);
    v1::ListAuditResponse resp;
    if (int rc = CallEveryPage(
            req, resp, [](grpc::ClientContext& c, Stubs& s, auto& q, auto& r) {
              return s.messages->ListAudit(&c, q, &r);
            })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    if (resp.entries().empty()) {
      out_ << "No decisions recorded.\n";
      return kExitOk;
    }
    Table t({"AT (UTC)", "INCIDENT", "MESSAGE", "VERSION", "ACTOR", "ACTION",
             "DETAIL"});
    for (const v1::AuditEntry& e : resp.entries()) {
      t.Add({When(e.at()), absl::StrCat("INC-", e.incident_id()),
             e.message_ref(), absl::StrCat(e.message_version()), e.actor_id(),
             e.action(), e.detail().empty() ? "-" : OneLine(e.detail(), 60)});
    }
    t.Print(out_);
    return kExitOk;
  }

  // Each delivery of `message`, or with `failed` every delivery that gave
  // up, newest first; at most `limit` (0: all).
  int Deliveries(const std::string& message, bool failed, int limit) {
    if (failed == !message.empty()) {
      err_ << "herald deliveries: name a message (MSG-40) or pass --failed\n";
      return kExitUsage;
    }
    v1::ListDeliveriesRequest req;
    req.set_message(message);
    req.set_failed(failed);
    v1::ListDeliveriesResponse resp;
    if (int rc = CallEveryPage(
            req, resp,
            [](grpc::ClientContext& c, Stubs& s, auto& q, auto& r) {
              return s.messages->ListDeliveries(&c, q, &r);
            },
            limit, [](auto& r) { return r.mutable_deliveries(); })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    if (resp.deliveries().empty()) {
      out_ << (failed ? "No failed deliveries.\n" : "No deliveries.\n");
      return kExitOk;
    }
    std::map<std::string, int> by_state;
    Table t({"ID", "MESSAGE", "RECIPIENT", "CHANNEL", "ADDRESS", "STATE",
             "ATTEMPTS", "LAST ERROR"});
    for (const v1::Delivery& d : resp.deliveries()) {
      // Waiting for its channel to come back, not for the recipient.
      const std::string state =
          d.waiting_on() != v1::CHANNEL_KIND_UNSPECIFIED &&
                  d.state() == v1::DELIVERY_STATE_RETRYING
              ? "waiting"
              : EnumLabel(d.state());
      ++by_state[state];
      t.Add({absl::StrCat(d.id()),
             d.message_id() ? absl::StrCat("MSG-", d.message_id()) : "-",
             d.recipient(),
             d.channel() == v1::CHANNEL_KIND_UNSPECIFIED
                 ? "-"
                 : EnumLabel(d.channel()),
             d.address().empty() ? "-" : d.address(), state,
             absl::StrCat(d.attempts()),
             d.last_error().empty() ? "-" : OneLine(d.last_error(), 60)});
    }
    t.Print(out_);
    std::vector<std::string> counts;
    for (const auto& [state, n] : by_state) {
      counts.push_back(absl::StrCat(n, " ", state));
    }
    out_ << resp.deliveries_size()
         << " deliveries: " << absl::StrJoin(counts, ", ") << "\n";
    if (!resp.next_page_token().empty()) {
      out_ << "More follow; --limit 0 shows them all.\n";
    }
    return kExitOk;
  }

  // Queues failed deliveries again: `message`'s, or with `failed` every
  // failed one, optionally queued since `since` (RFC 3339, or a duration
  // ago) or last tried on `channel`.
  int RetryDeliveries(const std::string& message, bool failed,
                      const std::string& since, const std::string& channel) {
    if (failed == !message.empty()) {
      err_ << "herald deliveries retry: name a message (MSG-40) or pass "
              "--failed\n";
      return kExitUsage;
    }
    if (!failed && (!since.empty() || !channel.empty())) {
      err_ << "herald deliveries retry: --since and --channel go with "
              "--failed\n";
      return kExitUsage;
    }
    v1::RetryDeliveriesRequest req;
    req.set_message(message);
    req.set_failed(failed);
    if (!since.empty()) {
      absl::Time t;
      std::string err;
      absl::Duration ago;
      if (absl::ParseDuration(since, &ago) && ago >= absl::ZeroDuration()) {
        t = absl::Now() - ago;
      } else if (!absl::ParseTime(absl::RFC3339_full, since, &t, &err)) {
        err_ << "herald deliveries retry: --since: expected an RFC 3339 time "
                "(2026-11-24T03:00:00Z) or a duration ago (2h), got \""
             << since << "\"\n";
        return kExitUsage;
      }
      req.mutable_since()->set_seconds(absl::ToUnixSeconds(t));
    }
    if (!channel.empty()) {
      v1::ChannelKind kind;
      if (!ParseEnumLabel(absl::AsciiStrToLower(channel), &kind)) {
        err_ << "herald deliveries retry: --channel: expected email, webhook, "
                "slack or sms, got \""
             << channel << "\"\n";
        return kExitUsage;
      }
      req.set_channel(kind);
    }
    v1::RetryDeliveriesResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.messages->RetryDeliveries(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    out_ << resp.requeued() << " failed deliveries queued again"
         << (resp.requeued() > 0 ? "; each recipient gets it at most once more "
                                   "(same idempotency key).\n"
                                 : ".\n");
    return kExitOk;
  }

  int AddSubscriber(v1::Subscriber subscriber,
                    const std::vector<std::string>& contacts) {
    for (const std::string& text : contacts) {
      absl::StatusOr<v1::Contact> c = ParseContact(text);
      if (!c.ok()) {
        err_ << "herald subscribers add: " << c.status().message() << "\n";
        return kExitUsage;
      }
      *subscriber.add_contacts() = *std::move(c);
    }
    v1::AddSubscriberRequest req;
    *req.mutable_subscriber() = std::move(subscriber);
    v1::AddSubscriberResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.subscribers->AddSubscriber(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    const v1::Subscriber& added = resp.subscriber();
    out_ << "Subscriber " << added.id() << " added to "
         << absl::StrJoin(added.component_ids(), ", ") << ".\n";
    for (const v1::Contact& c : added.contacts()) {
      if (c.channel() != v1::CHANNEL_KIND_WEBHOOK) continue;
      out_ << "Webhook " << c.address() << " is signed with "
           << absl::StrJoin(c.signing_secrets(), " ")
           << "\nGive this secret to the receiver now; herald will not show "
              "it again.\n";
    }
    return kExitOk;
  }

  int ListSubscribers(const std::string& component, bool all) {
    v1::ListSubscribersRequest req;
    req.set_component(component);
    req.set_include_unsubscribed(all);
    v1::ListSubscribersResponse resp;
    if (int rc = CallEveryPage(
            req, resp, [](grpc::ClientContext& c, Stubs& s, auto& q, auto& r) {
              return s.subscribers->ListSubscribers(&c, q, &r);
            })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    if (resp.subscribers().empty()) {
      out_ << "No subscribers.\n";
      return kExitOk;
    }
    Table t(
        {"ID", "NAME", "ACCOUNT", "PLAN", "COMPONENTS", "CONTACTS", "STATUS"});
    for (const v1::Subscriber& sub : resp.subscribers()) {
      std::vector<std::string> contacts;
      for (const v1::Contact& c : sub.contacts()) {
        contacts.push_back(absl::StrCat(EnumLabel(c.channel()), ":",
                                        c.address(),
                                        c.disabled() ? " (disabled)" : ""));
      }
      if (contacts.empty() && !sub.email().empty()) {
        contacts.push_back(absl::StrCat("email:", sub.email()));
      }
      t.Add({sub.id(), sub.name().empty() ? "-" : sub.name(),
             sub.account().empty() ? "-" : sub.account(),
             sub.plan().empty() ? "-" : sub.plan(),
             absl::StrJoin(sub.component_ids(), ","),
             OneLine(absl::StrJoin(contacts, " "), 100),
             EnumLabel(sub.status() == v1::SUBSCRIBER_STATUS_UNSPECIFIED
                           ? v1::SUBSCRIBER_STATUS_ACTIVE
                           : sub.status())});
    }
    t.Print(out_);
    out_ << resp.subscribers_size() << " subscriber(s).\n";
    return kExitOk;
  }

  int ListAmends(const std::string& incident, v1::ListAmendsResponse& resp) {
    v1::ListAmendsRequest req;
    req.set_incident(incident);
    return CallEveryPage(
        req, resp, [](grpc::ClientContext& c, Stubs& s, auto& q, auto& r) {
          return s.aftercare->ListAmends(&c, q, &r);
        });
  }

  int ListAffected(const std::string& incident) {
    v1::ListAffectedCustomersRequest req;
    req.set_incident(incident);
    v1::ListAffectedCustomersResponse resp;
    if (int rc = CallEveryPage(
            req, resp, [](grpc::ClientContext& c, Stubs& s, auto& q, auto& r) {
              return s.subscribers->ListAffectedCustomers(&c, q, &r);
            })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    if (resp.customers().empty()) {
      out_ << "No customer is affected by " << incident << ".\n";
      return kExitOk;
    }
    Table t({"ID", "NAME", "ACCOUNT", "PLAN", "WHY"});
    for (const v1::AffectedCustomer& c : resp.customers()) {
      const v1::Subscriber& sub = c.subscriber();
      std::vector<std::string> why;
      if (!c.component_ids().empty()) {
        why.push_back(absl::StrCat("subscribes to ",
                                   absl::StrJoin(c.component_ids(), ",")));
      }
      if (!c.alert_labels().empty()) {
        why.push_back(
            absl::StrCat("alert label ", absl::StrJoin(c.alert_labels(), ",")));
      }
      t.Add({sub.id(), sub.name().empty() ? "-" : sub.name(),
             sub.account().empty() ? "-" : sub.account(),
             sub.plan().empty() ? "-" : sub.plan(),
             OneLine(absl::StrJoin(why, "; "), 100)});
    }
    t.Print(out_);
    out_ << resp.customers_size() << " affected customer(s).\n";
    return kExitOk;
  }

  int Credits(const std::string& incident) {
    v1::ListAmendsResponse resp;
    if (int rc = ListAmends(incident, resp)) return rc;
    if (json()) return PrintJson(resp, out_), kExitOk;
    if (resp.amends().empty()) {
      out_ << "No customer is affected by " << incident << ".\n";
      return kExitOk;
    }
    Table t({"CUSTOMER", "ACCOUNT", "PLAN", "DURATION", "CREDIT", "AMOUNT",
             "VOUCHER"});
    int offered = 0;
    for (const v1::Amends& a : resp.amends()) {
      const v1::Credit& c = a.credit();
      const bool voucher = !c.voucher_value().empty();
      offered += c.percent() > 0 || voucher;
      t.Add({a.subscriber_id(), a.account().empty() ? "-" : a.account(),
             a.plan().empty() ? "-" : a.plan(),
             Duration(a.started_at(), a.ended_at()),
             c.percent() > 0 ? absl::StrCat(c.percent(), "%") : "-",
             c.amount_cents() > 0 ? Money(c.amount_cents(), c.currency()) : "-",
             !voucher ? "-"
             : c.voucher_code().empty()
                 ? absl::StrCat(c.voucher_value(), " (code on approval)")
                 : absl::StrCat(c.voucher_value(), ": ", c.voucher_code())});
    }
    t.Print(out_);
    out_ << offered << " of " << resp.amends_size()
         << " customer(s) are offered a credit or voucher"
         << (resp.fixed() ? ", fixed when the apology was approved.\n"
                          : "; the apology is not approved yet, so these are "
                            "what approving it now would fix.\n");
    out_ << "The point person may offer up to " << resp.authority_percent()
         << "% of the monthly fee";
    if (!resp.approved_by().empty()) {
      out_ << "; " << resp.approved_by() << " (admin) approved up to "
           << resp.approved_percent() << "%";
    }
    out_ << ".\n";
    if (resp.needs_admin()) {
      out_ << "A credit exceeds that: an admin must run `herald credits "
              "approve "
           << incident << "` before the apology can be approved.\n";
    }
    return kExitOk;
  }

  int ApproveCredits(const std::string& incident) {
    v1::ApproveCreditsRequest req;
    req.set_incident(incident);
    v1::ApproveCreditsResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.aftercare->ApproveCredits(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    out_ << "Credits of " << resp.incident().ref() << " approved up to "
         << resp.approved_percent()
         << "% of the monthly fee; the apology can now be approved.\n";
    return kExitOk;
  }

  int FollowUps(const std::string& incident, bool problems_only) {
    v1::ListAmendsResponse resp;
    if (int rc = ListAmends(incident, resp)) return rc;
    if (problems_only) {
      google::protobuf::RepeatedPtrField<v1::Amends> kept;
      for (v1::Amends& a : *resp.mutable_amends()) {
        if (a.service_answer() == v1::FOLLOW_UP_ANSWER_STILL_BROKEN ||
            a.credit_answer() == v1::FOLLOW_UP_ANSWER_CREDIT_MISSING) {
          *kept.Add() = std::move(a);
        }
      }
      resp.mutable_amends()->Swap(&kept);
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    if (!resp.fixed()) {
      out_ << "The apology of " << incident
           << " is not approved yet; its follow-up comes after it.\n";
      return kExitOk;
    }
    auto answer = [](v1::FollowUpAnswer a) {
      return a == v1::FOLLOW_UP_ANSWER_UNSPECIFIED
                 ? std::string("-")
                 : absl::StrReplaceAll(EnumLabel(a), {{"_", " "}});
    };
    Table t({"CUSTOMER", "NAME", "ACCOUNT", "SERVICE", "CREDIT", "ANSWERED"});
    int problems = 0, answered = 0;
    for (const v1::Amends& a : resp.amends()) {
      const bool problem =
          a.service_answer() == v1::FOLLOW_UP_ANSWER_STILL_BROKEN ||
          a.credit_answer() == v1::FOLLOW_UP_ANSWER_CREDIT_MISSING;
      problems += problem;
      answered += a.has_answered_at();
      t.Add({absl::StrCat(problem ? "! " : "", a.subscriber_id()),
             a.customer_name().empty() ? "-" : a.customer_name(),
             a.account().empty() ? "-" : a.account(),
             answer(a.service_answer()), answer(a.credit_answer()),
             When(a.answered_at())});
    }
    if (resp.amends().empty()) {
      out_ << (problems_only ? "No customer reported a problem.\n"
                             : "No customer is affected.\n");
      return kExitOk;
    }
    t.Print(out_);
    if (!problems_only) {
      out_ << answered << " of " << resp.amends_size()
           << " customer(s) answered; ";
    }
    out_ << problems << " need(s) a person: still broken or credit missing"
         << (problems > 0 ? " (marked !)" : "") << ".\n";
    return kExitOk;
  }

  int Postmortem(const std::string& incident, const std::string& file) {
    absl::StatusOr<std::string> summary = ReadFile(file, "--file");
    if (!summary.ok()) return UsageError(summary.status());
    v1::AttachPostmortemRequest req;
    req.set_incident(incident);
    req.set_summary(*std::move(summary));
    v1::AttachPostmortemResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.aftercare->AttachPostmortem(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    out_ << "Postmortem of " << resp.incident().ref()
         << " published; the status page shows it and its status is now "
            "postmortem.\n";
    return kExitOk;
  }

  int Health() {
    using grpc::health::v1::HealthCheckResponse;
    HealthCheckResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.health->Check(&c, grpc::health::v1::HealthCheckRequest(),
                                 &resp);
        })) {
      return rc;
    }
    if (json()) {
      PrintJson(resp, out_);
    } else {
      out_ << HealthCheckResponse::ServingStatus_Name(resp.status()) << "\n";
    }
    return resp.status() == HealthCheckResponse::SERVING ? kExitOk : kExitError;
  }

  int Backup(const std::string& file) {
    if (std::filesystem::exists(file)) {
      return UsageError(absl::InvalidArgumentError(absl::StrCat(
          "FILE: ", file, " exists; remove it or choose another name")));
    }
    const std::string partial = file + ".partial";
    int64_t written = 0, total = -1;
    int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
      // The copy holds every secret the server has: owner-only (0600) from
      // its first byte, whatever the umask.
      std::error_code ignored;
      std::filesystem::remove(partial, ignored);  // a stale one; not followed
      if (absl::Status made = CreatePrivateFile(partial); !made.ok()) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            std::string(made.message()));
      }
      std::ofstream out(partial, std::ios::binary | std::ios::trunc);
      if (!out) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            absl::StrCat("cannot write ", partial));
      }
      auto reader = s.admin->Backup(&c, v1::BackupRequest());
      v1::BackupChunk chunk;
      while (reader->Read(&chunk)) {
        out.write(chunk.data().data(),
                  static_cast<std::streamsize>(chunk.data().size()));
        written += static_cast<int64_t>(chunk.data().size());
        total = chunk.total_bytes();
      }
      grpc::Status status = reader->Finish();
      out.close();
      if (status.ok() && (!out || written != total)) {
        status = grpc::Status(
            grpc::StatusCode::DATA_LOSS,
            absl::StrCat("received ", written, " of ", total, " bytes"));
      }
      return status;
    });
    if (rc != kExitOk) {
      std::filesystem::remove(partial);
      return rc;
    }
    std::filesystem::rename(partial, file);
    if (json()) {
      out_ << "{\"file\": \"" << absl::CEscape(file)
           << "\", \"bytes\": " << written << "}\n";
      return kExitOk;
    }
    out_ << "Backed up " << written << " bytes to " << file
         << ". To restore: stop heraldd, copy it to DATA_DIR/herald.db, "
            "start heraldd.\n";
    return kExitOk;
  }

  int RemoveSubscriber(const std::string& id) {
    v1::RemoveSubscriberRequest req;
    req.set_id(id);
    v1::RemoveSubscriberResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.subscribers->RemoveSubscriber(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    out_ << "Subscriber " << id
         << " unsubscribed; messages not yet sent to them are cancelled.\n";
    return kExitOk;
  }

  // Sends the file in chunks that fit a request; each chunk is all or
  // nothing, and an error names the file and line.
  int ImportSubscribers(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
      err_ << "herald subscribers import: cannot read \"" << path << "\"\n";
      return kExitUsage;
    }
    absl::StatusOr<CsvSubscribers> csv = ReadSubscriberCsv(path, in);
    if (!csv.ok()) {
      err_ << "herald subscribers import: " << csv.status().message() << "\n";
      return kExitUsage;
    }
    constexpr size_t kChunk = 2000;
    v1::ImportSubscribersResponse total;
    for (size_t from = 0; from < csv->subscribers.size(); from += kChunk) {
      const size_t to = std::min(from + kChunk, csv->subscribers.size());
      v1::ImportSubscribersRequest req;
      for (size_t i = from; i < to; ++i) {
        *req.add_subscribers() = csv->subscribers[i];
        req.add_sources(csv->sources[i]);
      }
      v1::ImportSubscribersResponse resp;
      if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
            return s.subscribers->ImportSubscribers(&c, req, &resp);
          })) {
        if (from > 0) {
          err_ << "herald subscribers import: rows before "
               << csv->sources[from] << " were imported\n";
        }
        return rc;
      }
      total.set_added(total.added() + resp.added());
      total.set_updated(total.updated() + resp.updated());
      total.set_skipped_unsubscribed(total.skipped_unsubscribed() +
                                     resp.skipped_unsubscribed());
    }
    if (json()) return PrintJson(total, out_), kExitOk;
    out_ << "Imported " << csv->subscribers.size()
         << " row(s): " << total.added() << " added, " << total.updated()
         << " updated, " << total.skipped_unsubscribed()
         << " skipped (they unsubscribed).\n";
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

  void PrintAlerts(const google::protobuf::RepeatedPtrField<v1::Alert>& list,
                   const std::string& indent) {
    Table t(
        {indent + "FINGERPRINT", "INCIDENT", "STATUS", "ALERTNAME", "NOTE"});
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

  int Acknowledge(const std::string& incident) {
    v1::AcknowledgeIncidentRequest req;
    req.set_incident(incident);
    v1::AcknowledgeIncidentResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.incidents->AcknowledgeIncident(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    out_ << resp.incident().ref() << " acknowledged by "
         << resp.incident().acknowledged_by() << ".\n";
    return kExitOk;
  }

  // Streams events until the server ends the stream or the process is
  // interrupted. One line per event (or one JSON object per line).
  // `count` > 0: stop after that many events (the first says what is
  // watched), for scripts.
  int Watch(const std::string& incident, int count) {
    if (!stubs_.incidents) stubs_ = connect_(globals_.connect);
    grpc::ClientContext ctx;
    AddCredentials(ctx);
    v1::WatchRequest req;
    req.set_incident(incident);
    std::unique_ptr<grpc::ClientReaderInterface<v1::WatchEvent>> reader =
        stubs_.incidents->Watch(&ctx, req);
    v1::WatchEvent e;
    google::protobuf::util::JsonPrintOptions compact;
    int seen = 0;
    while ((count <= 0 || seen < count) && reader->Read(&e)) {
      ++seen;
      if (json()) {
        std::string line;
        (void)google::protobuf::util::MessageToJsonString(e, &line, compact);
        out_ << line << "\n";
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
                    : CodeName(s.error_code()) + ": " + msg)
         << "\n";
    return kExitError;
  }

  // Every alert, a page per call, or the first `limit` (0: all). With -o
  // json, one ListAlertsResponse holding them all; its next_page_token is
  // set when `limit` stopped it early.
  int Alerts(const std::string& incident, bool unrouted, int limit) {
    if (incident.empty() == !unrouted) {
      err_ << "herald alerts: give an INCIDENT or --unrouted (see --help)\n";
      return kExitUsage;
    }
    v1::ListAlertsRequest req;
    req.set_incident(incident);
    req.set_unrouted_only(unrouted);
    v1::ListAlertsResponse all;
    if (int rc = CallEveryPage(
            req, all,
            [](grpc::ClientContext& c, Stubs& s, auto& q, auto& r) {
              return s.incidents->ListAlerts(&c, q, &r);
            },
            limit, [](auto& r) { return r.mutable_alerts(); })) {
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

  int AddOverride(const std::string& rota, const std::string& person,
                  const std::string& from, const std::string& until,
                  const std::string& reason) {
    v1::CreateOverrideRequest req;
    req.set_rota(rota);
    req.set_person(person);
    req.set_reason(reason);
    if (!from.empty()) {
      absl::StatusOr<absl::Time> t = ParseWhen(from, "--from");
      if (!t.ok()) return UsageError(t.status());
      req.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(*t));
    }
    absl::StatusOr<absl::Time> t = ParseWhen(until, "--until");
    if (!t.ok()) return UsageError(t.status());
    req.mutable_ends_at()->set_seconds(absl::ToUnixSeconds(*t));
    v1::CreateOverrideResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.oncall->CreateOverride(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    const v1::RotaOverride& o = resp.override();
    out_ << "Override " << o.id() << ": " << o.person_id() << " holds rota "
         << o.rota_id() << " from " << When(o.starts_at()) << " until "
         << When(o.ends_at()) << " UTC.\n";
    return kExitOk;
  }

  int ScheduleMaintenance(const std::vector<std::string>& components,
                          const std::string& from, const std::string& to,
                          const std::string& title, const std::string& text) {
    v1::ScheduleMaintenanceRequest req;
    for (const std::string& c : components) req.add_component_ids(c);
    absl::StatusOr<absl::Time> starts = ParseWhen(from, "--from");
    if (!starts.ok()) return UsageError(starts.status());
    absl::StatusOr<absl::Time> ends = ParseWhen(to, "--to");
    if (!ends.ok()) return UsageError(ends.status());
    req.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(*starts));
    req.mutable_ends_at()->set_seconds(absl::ToUnixSeconds(*ends));
    req.set_title(title);
    req.set_text(text);
    v1::ScheduleMaintenanceResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.incidents->ScheduleMaintenance(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    const v1::Incident& i = resp.incident();
    out_ << i.ref() << " scheduled: " << i.title() << ", "
         << When(i.maintenance().starts_at()) << " to "
         << When(i.maintenance().ends_at()) << " UTC.\n"
         << "The announcement " << resp.draft().ref()
         << " waits for approval; nothing is public until then (herald "
            "messages preview "
         << resp.draft().ref() << ").\n";
    return kExitOk;
  }

  int CancelMaintenance(const std::string& incident,
                        const std::string& reason) {
    v1::CancelMaintenanceRequest req;
    req.set_incident(incident);
    req.set_reason(reason);
    v1::CancelMaintenanceResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.incidents->CancelMaintenance(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    out_ << resp.incident().ref()
         << " ended; its components are back to their status before it.\n";
    return kExitOk;
  }

  int ListOverrides(const std::string& rota) {
    v1::ListOverridesRequest req;
    req.set_rota(rota);
    v1::ListOverridesResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.oncall->ListOverrides(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    if (resp.overrides().empty()) {
      out_ << "No overrides.\n";
      return kExitOk;
    }
    Table t(
        {"ID", "ROTA", "PERSON", "FROM (UTC)", "UNTIL (UTC)", "BY", "REASON"});
    for (const auto& o : resp.overrides()) {
      t.Add({absl::StrCat(o.id()), o.rota_id(), o.person_id(),
             When(o.starts_at()), When(o.ends_at()), o.created_by(),
             o.reason().empty() ? "-" : o.reason()});
    }
    t.Print(out_);
    return kExitOk;
  }

  int RemoveOverride(int64_t id) {
    v1::DeleteOverrideRequest req;
    req.set_id(id);
    v1::DeleteOverrideResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.oncall->DeleteOverride(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    out_ << "Override " << id << " removed.\n";
    return kExitOk;
  }

  int OnCall(const std::string& component, const std::string& at) {
    v1::GetOnCallRequest req;
    req.set_component(component);
    if (!at.empty()) {
      absl::StatusOr<absl::Time> t = ParseWhen(at, "--at");
      if (!t.ok()) return UsageError(t.status());
      req.mutable_at()->set_seconds(absl::ToUnixSeconds(*t));
    }
    v1::GetOnCallResponse resp;
    if (int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.oncall->GetOnCall(&c, req, &resp);
        })) {
      return rc;
    }
    if (json()) return PrintJson(resp, out_), kExitOk;
    Table t({"ROTA", "POINT PERSON", "ESCALATION", "SHIFT ENDS (UTC)",
             "MAY APPROVE ALONE", "MAX CREDIT", "COMPONENTS"});
    for (const auto& a : resp.assignments()) {
      std::vector<std::string> path;
      if (!a.backup_id().empty()) path.push_back(a.backup_id());
      for (const auto& p : a.escalation()) path.push_back(p);
      std::vector<std::string> kinds;
      for (int k : a.authority().approve_kinds()) {
        kinds.push_back(EnumLabel(static_cast<v1::MessageKind>(k)));
      }
      t.Add({a.rota_id(),
             absl::StrCat(a.point_person_name(), " (", a.point_person_id(), ")",
                          a.override_id() ? " [override]" : ""),
             path.empty() ? "-"
                          : absl::StrCat(absl::StrJoin(path, " > "), " after ",
                                         a.ack_timeout()),
             When(a.shift_end()),
             kinds.empty() ? "nothing" : absl::StrJoin(kinds, ", "),
             absl::StrCat(a.authority().max_credit_percent(), "%"),
             absl::StrJoin(a.component_ids(), ", ")});
    }
    t.Print(out_);
    return kExitOk;
  }

 private:
  int UsageError(const absl::Status& s) {
    err_ << "herald: " << s.message() << " (see --help)\n";
    return kExitUsage;
  }

  // GetMessage; errors are printed.
  absl::StatusOr<v1::GetMessageResponse> FetchMessage(
      const std::string& message) {
    v1::GetMessageRequest req;
    req.set_message(message);
    v1::GetMessageResponse resp;
    if (Call([&](grpc::ClientContext& c, Stubs& s) {
          return s.messages->GetMessage(&c, req, &resp);
        })) {
      return absl::UnknownError("reported");
    }
    return resp;
  }

  const Globals& globals_;
  const Connector& connect_;
  std::ostream& out_;
  std::ostream& err_;
  Stubs stubs_;
};

// What the user calls argument `i`: its flag ("--account" for
// "--account=x" or "--account x"), else its position.
std::string ArgumentName(const char* const* argv, int i) {
  const absl::string_view arg = argv[i];
  if (absl::StartsWith(arg, "--") && arg.find('=') != arg.npos) {
    return std::string(arg.substr(0, arg.find('=')));
  }
  if (i > 1 && absl::StartsWith(argv[i - 1], "-") && IsValidUtf8(argv[i - 1])) {
    return argv[i - 1];
  }
  return absl::StrCat("argument ", i);
}

}  // namespace

int Run(int argc, const char* const* argv, const Connector& connect,
        const std::function<std::string(const char*)>& env,
        std::ostream& raw_out, std::ostream& raw_err) {
  // Everything printed, tables, JSON, help and errors, is scrubbed of
  // terminal escapes (safe_output.h).
  ScrubbingStreambuf out_buf(raw_out), err_buf(raw_err);
  std::ostream out(&out_buf), err(&err_buf);
  // Every argument is text a person typed: it is checked here, before
  // anything is sent, and the error names the flag.
  for (int i = 1; i < argc; ++i) {
    if (absl::Status s = CheckText(ArgumentName(argv, i), argv[i]); !s.ok()) {
      err << "herald: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  Globals g;
  g.connect.server = env("HERALD_SERVER");
  if (g.connect.server.empty()) g.connect.server = kDefaultServer;
  g.connect.token = env("HERALD_TOKEN");
  g.connect.ca_cert_file = env("HERALD_CA_CERT");

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
  app.add_option("--ca-cert", g.connect.ca_cert_file,
                 "PEM file of the CA that signed heraldd's certificate; "
                 "connects with TLS (env HERALD_CA_CERT)")
      ->check(CLI::ExistingFile);
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

  std::string text, status, eta, next;
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
  update->add_option("--eta", eta,
                     "when you expect the fix, from now (e.g. 30m, 2h)");
  update->add_option("--next", next, "what the team does next");
  update->callback([&] { rc = cmd.Update(incident, text, status, eta, next); });

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
  messages->callback([&] {
    if (messages->get_subcommands().empty())
      rc = cmd.Messages(incident, states);
  });

  app.add_subcommand("inbox",
                     "Messages waiting for approval, newest incident first, "
                     "with their audience and when customers are due their "
                     "next update")
      ->callback([&] { rc = cmd.Inbox(); });

  std::string message;
  int version = 0;
  auto* preview = messages->add_subcommand(
      "preview", "Show exactly what each channel will send for a message");
  preview->add_option("MESSAGE", message, "message id, e.g. MSG-40")
      ->required();
  preview->callback([&] { rc = cmd.Preview(message); });

  std::string title, body_file;
  std::vector<std::string> edit_components;
  auto* edit = messages->add_subcommand(
      "edit",
      "Write a new version of a draft (comms, comms_lead): opens $EDITOR on "
      "the title, a blank line and the body, unless --title or --body-file "
      "is given");
  edit->add_option("MESSAGE", message, "message id, e.g. MSG-40")->required();
  edit->add_option("--title", title, "the new title");
  edit->add_option("--body-file", body_file,
                   "a file holding the new body ('-' is not supported)");
  edit->add_option("--component", edit_components,
                   "the public status publishing sets, e.g. "
                   "--component checkout=partial_outage (repeatable)");
  edit->callback([&] {
    rc = cmd.Edit(message, title, body_file, edit_components, env("EDITOR"));
  });

  int diff_from = 0, diff_to = 0;
  auto* diff = messages->add_subcommand(
      "diff",
      "Show how a message changed between versions (default: the "
      "last edit)");
  diff->add_option("MESSAGE", message, "message id, e.g. MSG-40")->required();
  diff->add_option("--from", diff_from,
                   "older version (default: the one before --to)");
  diff->add_option("--to", diff_to, "newer version (default: the current one)");
  diff->callback([&] { rc = cmd.Diff(message, diff_from, diff_to); });
  auto* approve = app.add_subcommand(
      "approve", "Approve and publish a message (comms_lead role)");
  approve->add_option("MESSAGE", message, "message id, e.g. MSG-40")
      ->required();
  approve->add_option(
      "--version", version,
      "refuse if the message is no longer at this version (what you reviewed)");
  approve->callback([&] { rc = cmd.Approve(message, version); });

  std::string reject_reason;
  auto* reject = app.add_subcommand(
      "reject",
      "Send a draft back to the point person with a reason (comms_lead)");
  reject->add_option("MESSAGE", message, "message id, e.g. MSG-40")->required();
  reject->add_option("--reason", reject_reason, "what must change")->required();
  reject->add_option(
      "--version", version,
      "refuse if the message is no longer at this version (what you reviewed)");
  reject->callback([&] { rc = cmd.Reject(message, version, reject_reason); });

  auto* audit = app.add_subcommand(
      "audit", "The audit log: every draft, edit, approval and rejection");
  audit->add_option("INCIDENT", incident, "only this incident");
  audit->callback([&] { rc = cmd.AuditLog(incident); });

  std::string component;
  std::string at;
  auto* oncall = app.add_subcommand(
      "oncall",
      "Show who is the communication point person, their escalation path and "
      "authority");
  oncall->add_option("COMPONENT", component,
                     "only the rota for this component");
  oncall->add_option("--at", at,
                     "at this time instead of now: RFC 3339 "
                     "(2026-11-24T03:00:00+01:00) or a duration from now (8h)");
  oncall->callback([&] {
    if (oncall->get_subcommands().empty()) rc = cmd.OnCall(component, at);
  });

  auto* override_cmd = oncall->add_subcommand(
      "override", "Temporary replacements of a rota's point person");
  override_cmd->require_subcommand(1);
  std::string rota, person, from, until, reason;
  auto* override_add =
      override_cmd->add_subcommand("add",
                                   "PERSON holds ROTA's point-person role "
                                   "until --until (comms_lead, admin)");
  override_add->add_option("ROTA", rota, "rota id, e.g. customer-comms")
      ->required();
  override_add->add_option("PERSON", person, "person id, e.g. erin")
      ->required();
  override_add->add_option(
      "--from", from, "start (default now): RFC 3339 or a duration from now");
  override_add
      ->add_option("--until", until,
                   "end: RFC 3339 or a duration from now (e.g. 12h)")
      ->required();
  override_add->add_option("--reason", reason, "why, for the record");
  override_add->callback(
      [&] { rc = cmd.AddOverride(rota, person, from, until, reason); });
  auto* override_list =
      override_cmd->add_subcommand("list", "Current and future overrides");
  override_list->add_option("ROTA", rota, "only this rota");
  override_list->callback([&] { rc = cmd.ListOverrides(rota); });
  int64_t override_id = 0;
  auto* override_remove = override_cmd->add_subcommand(
      "remove", "Remove an override (comms_lead, admin)");
  override_remove
      ->add_option("ID", override_id, "override id from `oncall override list`")
      ->required();
  override_remove->callback([&] { rc = cmd.RemoveOverride(override_id); });

  bool failed_only = false;
  auto* deliveries = app.add_subcommand(
      "deliveries",
      "Each recipient's delivery of a message, or every delivery that gave up "
      "(comms, comms_lead, admin)");
  deliveries->add_option("MESSAGE", message, "message id, e.g. MSG-40");
  deliveries->add_flag("--failed", failed_only,
                       "every delivery that exhausted its attempts, newest "
                       "first");
  int deliveries_limit = -1;
  deliveries
      ->add_option("--limit", deliveries_limit,
                   "show at most this many (0: all; default: 100 with "
                   "--failed, all for a message)")
      ->check(CLI::NonNegativeNumber);
  std::string retry_since, retry_channel;
  auto* retry = deliveries->add_subcommand(
      "retry",
      "Queue failed deliveries again: a message's, or every failed one "
      "(comms, comms_lead, admin)");
  retry->add_option("MESSAGE", message, "message id, e.g. MSG-40");
  retry->add_flag("--failed", failed_only, "every failed delivery");
  retry->add_option("--since", retry_since,
                    "with --failed: only those queued since then (RFC 3339, "
                    "or a duration ago: 2h)");
  retry->add_option("--channel", retry_channel,
                    "with --failed: only those that failed on this channel "
                    "(email, webhook, slack, sms)");
  retry->callback([&] {
    rc = cmd.RetryDeliveries(message, failed_only, retry_since, retry_channel);
  });
  deliveries->callback([&] {
    if (retry->parsed()) return;  // `deliveries retry` ran instead
    const int limit = deliveries_limit >= 0 ? deliveries_limit
                      : failed_only         ? 100
                                            : 0;
    rc = cmd.Deliveries(message, failed_only, limit);
  });

  auto* subscribers = app.add_subcommand(
      "subscribers",
      "Who receives status messages: add, list, remove, import (comms, "
      "comms_lead, admin)");
  subscribers->require_subcommand(1);
  v1::Subscriber new_subscriber;
  std::vector<std::string> sub_components, sub_contacts;
  auto* sub_add = subscribers->add_subcommand(
      "add", "Add a subscriber, active at once (you vouch for them)");
  sub_add
      ->add_option_function<std::string>(
          "ID", [&](const std::string& v) { new_subscriber.set_id(v); },
          "a stable id, e.g. the customer's account id")
      ->required();
  sub_add->add_option_function<std::string>(
      "--name", [&](const std::string& v) { new_subscriber.set_name(v); },
      "how messages address them");
  sub_add->add_option_function<std::string>(
      "--email", [&](const std::string& v) { new_subscriber.set_email(v); },
      "their email address; the only contact when no --contact is given");
  sub_add->add_option_function<std::string>(
      "--account", [&](const std::string& v) { new_subscriber.set_account(v); },
      "the customer account they belong to");
  sub_add->add_option_function<std::string>(
      "--plan", [&](const std::string& v) { new_subscriber.set_plan(v); },
      "their plan, for credit policies");
  sub_add->add_option_function<std::string>(
      "--locale", [&](const std::string& v) { new_subscriber.set_locale(v); },
      "e.g. de-DE");
  sub_add
      ->add_option("--component", sub_components,
                   "a component they hear about (repeat for more)")
      ->required();
  sub_add->add_option(
      "--contact", sub_contacts,
      "channel:address, tried in the order given (repeat): email:ann@x.com, "
      "sms:+4915112345678, slack:https://hooks..., webhook:https://... "
      "(webhooks get a new signing secret unless one follows a '|')");
  sub_add->callback([&] {
    for (const std::string& c : sub_components) {
      new_subscriber.add_component_ids(c);
    }
    rc = cmd.AddSubscriber(new_subscriber, sub_contacts);
  });
  std::string affected_incident;
  auto* affected = app.add_subcommand(
      "affected",
      "The customers an incident affected, each once, and why: they "
      "subscribe to an affected component, or an alert's customer label "
      "(intake.customer_labels) names their account (comms, comms_lead, "
      "admin)");
  affected
      ->add_option("INCIDENT", affected_incident, "incident id, e.g. INC-12")
      ->required();
  affected->callback([&] { rc = cmd.ListAffected(affected_incident); });
  auto* admin = app.add_subcommand("admin", "Operating herald (admin)");
  admin->require_subcommand(1);
  std::string backup_file;
  auto* backup = admin->add_subcommand(
      "backup",
      "Copy the whole database, consistently, while heraldd keeps serving; "
      "restore by stopping heraldd and putting the copy in place of "
      "DATA_DIR/herald.db");
  backup->add_option("FILE", backup_file, "where to write it (must not exist)")
      ->required();
  backup->callback([&] { rc = cmd.Backup(backup_file); });

  std::string credits_incident;
  auto* credits = app.add_subcommand(
      "credits",
      "Each affected customer's credit or voucher for an incident: before "
      "the apology is approved, what approving it would give; after, what "
      "was fixed, with voucher codes (comms, comms_lead, admin)");
  credits->add_option("INCIDENT", credits_incident, "incident id, e.g. INC-12");
  auto* credits_approve = credits->add_subcommand(
      "approve",
      "Let the incident's apology offer credits above the rota's authority "
      "(admin)");
  credits_approve
      ->add_option("INCIDENT", credits_incident, "incident id, e.g. INC-12")
      ->required();
  credits_approve->callback([&] { rc = cmd.ApproveCredits(credits_incident); });
  credits->callback([&] {
    if (!credits->get_subcommands().empty()) return;
    if (credits_incident.empty()) {
      throw CLI::RequiredError("INCIDENT");
    }
    rc = cmd.Credits(credits_incident);
  });

  std::string follow_ups_incident;
  bool problems_only = false;
  auto* follow_ups = app.add_subcommand(
      "follow-ups",
      "Customers' answers to an incident's follow-up; those still broken or "
      "missing a credit need a person (comms, comms_lead, admin)");
  follow_ups
      ->add_option("INCIDENT", follow_ups_incident, "incident id, e.g. INC-12")
      ->required();
  follow_ups->add_flag("--problems", problems_only,
                       "only customers who answered still broken or credit "
                       "missing");
  follow_ups->callback(
      [&] { rc = cmd.FollowUps(follow_ups_incident, problems_only); });

  std::string postmortem_incident, postmortem_file;
  auto* postmortem = app.add_subcommand(
      "postmortem",
      "Publish the public postmortem of a resolved incident (comms_lead, "
      "admin): the status page shows it, apologies and follow-ups link to it");
  postmortem
      ->add_option("INCIDENT", postmortem_incident, "incident id, e.g. INC-12")
      ->required();
  postmortem
      ->add_option("--file", postmortem_file,
                   "the summary, plain text; blank lines separate paragraphs")
      ->required();
  postmortem->callback(
      [&] { rc = cmd.Postmortem(postmortem_incident, postmortem_file); });

  std::string sub_component;
  bool sub_all = false;
  auto* sub_list = subscribers->add_subcommand("list", "List subscribers");
  sub_list->add_option("--component", sub_component, "only this component's");
  sub_list->add_flag("--all", sub_all, "include those who unsubscribed");
  sub_list->callback([&] { rc = cmd.ListSubscribers(sub_component, sub_all); });
  std::string sub_id;
  auto* sub_remove = subscribers->add_subcommand(
      "remove",
      "Unsubscribe someone; the record stays so nothing re-adds them");
  sub_remove->add_option("ID", sub_id, "subscriber id")->required();
  sub_remove->callback([&] { rc = cmd.RemoveSubscriber(sub_id); });
  std::string sub_file;
  auto* sub_import = subscribers->add_subcommand(
      "import",
      "Add or update subscribers from CSV with a header row: id, components "
      "(space or ';' separated) and optionally name, email, account, plan, "
      "locale, contacts (space separated channel:address)");
  sub_import->add_option("FILE", sub_file, "the CSV file")
      ->required()
      ->check(CLI::ExistingFile);
  sub_import->callback([&] { rc = cmd.ImportSubscribers(sub_file); });

  auto* maintenance = app.add_subcommand(
      "maintenance", "Announce planned maintenance ahead of time");
  maintenance->require_subcommand(1);
  std::vector<std::string> maintenance_components;
  std::string maintenance_to, maintenance_title, maintenance_text;
  auto* schedule = maintenance->add_subcommand(
      "schedule",
      "Schedule maintenance and draft its announcement for approval; the "
      "components go under_maintenance for the window (engineer, comms, "
      "comms_lead)");
  schedule
      ->add_option("--component", maintenance_components,
                   "affected component id; repeat for several")
      ->required();
  schedule
      ->add_option("--from", from,
                   "window start: RFC 3339 (2026-11-24T02:00:00Z) or a "
                   "duration from now (48h)")
      ->required();
  schedule
      ->add_option("--to", maintenance_to,
                   "window end: RFC 3339 or a duration from now")
      ->required();
  schedule->add_option(
      "--title", maintenance_title,
      "headline (default \"Scheduled maintenance: <components>\")");
  schedule
      ->add_option("TEXT", maintenance_text,
                   "what is done and what customers may notice")
      ->required();
  schedule->callback([&] {
    rc = cmd.ScheduleMaintenance(maintenance_components, from, maintenance_to,
                                 maintenance_title, maintenance_text);
  });
  auto* cancel = maintenance->add_subcommand(
      "cancel",
      "End a maintenance now; its components get their status back "
      "(engineer, comms, comms_lead)");
  cancel->add_option("INCIDENT", incident, "the maintenance, e.g. INC-7")
      ->required();
  cancel->add_option("--reason", reason, "why, for the record");
  cancel->callback([&] { rc = cmd.CancelMaintenance(incident, reason); });

  auto* ack = app.add_subcommand(
      "ack", "Acknowledge an incident as its point person; stops escalation");
  ack->add_option("INCIDENT", incident, "incident id, e.g. INC-12")->required();
  ack->callback([&] { rc = cmd.Acknowledge(incident); });

  bool unrouted = false;
  auto* alerts = app.add_subcommand(
      "alerts",
      "List an incident's alerts, or every alert that matched no component");
  alerts->add_option("INCIDENT", incident, "incident id, e.g. INC-12");
  alerts->add_flag("--unrouted", unrouted,
                   "alerts that matched no component's matchers (sent to the "
                   "default component)");
  int alerts_limit = 0;
  alerts
      ->add_option("--limit", alerts_limit,
                   "show at most this many (default: every one, fetched a "
                   "page at a time)")
      ->check(CLI::PositiveNumber);
  alerts->callback([&] { rc = cmd.Alerts(incident, unrouted, alerts_limit); });

  auto* health = app.add_subcommand(
      "health",
      "Ask heraldd whether it is serving (the standard gRPC health check; "
      "no token needed). Exit 0 when SERVING, 1 otherwise: a probe for "
      "containers and scripts");
  health->callback([&] { rc = cmd.Health(); });

  auto* watch = app.add_subcommand(
      "watch",
      "Stream what happens (alerts, updates, drafts, approvals, deliveries) "
      "until interrupted");
  int watch_count = 0;
  watch->add_option("INCIDENT", incident, "only this incident");
  watch
      ->add_option("--count", watch_count,
                   "stop after this many events (the first says what is "
                   "watched)")
      ->check(CLI::PositiveNumber);
  watch->callback([&] { rc = cmd.Watch(incident, watch_count); });

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
    std::shared_ptr<grpc::ChannelCredentials> credentials =
        grpc::InsecureChannelCredentials();
    if (!o.ca_cert_file.empty()) {
      // Checked to exist when parsed; an unreadable file leaves no roots,
      // and the handshake then fails with gRPC's own message.
      std::ifstream in(o.ca_cert_file, std::ios::binary);
      std::stringstream pem;
      pem << in.rdbuf();
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = pem.str();
      credentials = grpc::SslCredentials(ssl);
    }
    auto channel = grpc::CreateChannel(o.server, credentials);
    Stubs stubs;
    stubs.incidents = v1::IncidentService::NewStub(channel);
    stubs.messages = v1::MessageService::NewStub(channel);
    stubs.oncall = v1::OnCallService::NewStub(channel);
    stubs.subscribers = v1::SubscriberService::NewStub(channel);
    stubs.aftercare = v1::AftercareService::NewStub(channel);
    stubs.admin = v1::AdminService::NewStub(channel);
    stubs.health = grpc::health::v1::Health::NewStub(channel);
    return stubs;
  };
}

}  // namespace herald::cli
