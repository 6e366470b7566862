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
namespace {

// A message's kind as the lists show it: a maintenance notice says which,
// and one covered by an announcement's approval says whose.
std::string KindText(const v1::Message& m) {
  std::string out = EnumLabel(m.kind());
  if (!m.maintenance_notice().empty()) {
    absl::StrAppend(&out, ": ", m.maintenance_notice());
  }
  if (m.covered_by() != 0) absl::StrAppend(&out, ", with MSG-", m.covered_by());
  return out;
}

}  // namespace

int Commands::Messages(const std::string& incident,
                       const std::vector<std::string>& states) {
  v1::ListMessagesRequest req;
  req.set_incident(incident);
  for (const std::string& s : states) {
    v1::MessageState state;
    if (!v1::MessageState_Parse(
            absl::StrCat("MESSAGE_STATE_", absl::AsciiStrToUpper(s)), &state)) {
      return UsageError("messages",
                        absl::StrCat("--state: expected draft, "
                                     "pending_approval, approved, published, "
                                     "rejected or superseded, got \"",
                                     s, "\""));
    }
    req.add_states(state);
  }
  return ListAndPrint(&MessageStub::ListMessages, req,
                      &v1::ListMessagesResponse::messages,
                      {.header = {"ID", "INCIDENT", "KIND", "STATE", "VERSION",
                                  "AUTHOR", "TITLE"},
                       .empty = "No messages."},
                      [](const auto& m) -> std::vector<std::string> {
                        return {m.ref(),
                                absl::StrCat("INC-", m.incident_id()),
                                KindText(m),
                                EnumLabel(m.state()),
                                absl::StrCat(m.version()),
                                m.author_id(),
                                OneLine(m.title(), 60)};
                      });
}

int Commands::Inbox() {
  v1::GetInboxResponse resp;
  if (int rc =
          CallMethod(&MessageStub::GetInbox, v1::GetInboxRequest(), resp)) {
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
    t.Add({item.incident_ref(), m.ref(), KindText(m), m.author_id(),
           When(m.created_at()), absl::StrCat(item.audience_size()), due,
           OneLine(m.title(), 50)});
  }
  t.Print(out_);
  return kExitOk;
}

int Commands::Preview(const std::string& message) {
  absl::StatusOr<v1::GetMessageResponse> got = FetchMessage(message);
  if (!got.ok()) return kExitError;
  if (json()) return PrintJson(*got, out_), kExitOk;
  const v1::Message& m = got->message();
  out_ << m.ref() << "  " << EnumLabel(m.kind()) << ", " << EnumLabel(m.state())
       << ", version " << m.version() << " by " << m.last_editor_id() << "\n";
  if (m.state() == v1::MESSAGE_STATE_REJECTED) {
    out_ << "rejected by " << m.rejected_by() << ": " << m.rejection_reason()
         << "\n";
  }
  // Crafting is visible: what still reads exactly as an engineer wrote it.
  const auto& as_written = got->unedited_engineer_words();
  if (!as_written.empty() &&
      (m.state() == v1::MESSAGE_STATE_DRAFT ||
       m.state() == v1::MESSAGE_STATE_PENDING_APPROVAL)) {
    out_ << "still in an engineer's words, as written (reword them, or "
            "approve with --as-written):\n";
    for (const std::string& w : as_written) {
      out_ << "  >> " << ScrubText(w, /*keep_newlines=*/false) << " <<\n";
    }
  }
  // A maintenance announcement's approval covers its notices.
  if (got->covered_size() > 0) {
    out_ << "approving it also approves, each held until its moment:\n";
    for (const v1::Message& n : got->covered()) {
      out_ << "  " << n.ref() << "  " << n.maintenance_notice() << " ("
           << EnumLabel(n.state()) << "): " << n.title() << "\n";
    }
  }
  // Every language it goes out in, and whether it is translated.
  const bool several_languages =
      got->languages_size() > 1 || !m.translations().empty();
  for (const v1::LanguageCoverage& c : got->languages()) {
    if (!several_languages) break;
    out_ << "in " << c.locale() << " (" << c.readers() << " reader(s) among "
         << "the first looked at): "
         << (c.is_default()   ? "the message's own text"
             : c.outdated()   ? "translated before the last change to the "
                                "default text: check it"
             : c.translated() ? "translated"
                              : "NOT TRANSLATED: these readers get the default "
                                "text inside their language's frame (herald "
                                "messages edit --language)")
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

int Commands::Edit(const std::string& message, const TextEdit& edit,
                   const std::string& editor) {
  v1::EditMessageRequest req;
  for (const std::string& c : edit.components) {
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
  if (edit.remove_translation &&
      (edit.language.empty() || !edit.title.empty() ||
       !edit.body_file.empty())) {
    return UsageError(absl::InvalidArgumentError(
        "--remove-translation: needs --language, and no --title or "
        "--body-file"));
  }
  absl::StatusOr<v1::GetMessageResponse> got = FetchMessage(message);
  if (!got.ok()) return kExitError;
  const v1::Message& m = got->message();
  req.set_message(message);
  req.set_version(m.version());
  // What the edit starts from: the message's text, or the translation's
  // (the default text when there is none yet, to translate from).
  v1::Message current = m;
  // The translation's language as stored ("de_AT" and "DE-at" are "de-AT"
  // to the server); the server checks the tag itself.
  std::string language = absl::StrReplaceAll(edit.language, {{"_", "-"}});
  bool translated = false;
  for (const auto& [tag, t] : m.translations()) {
    if (!language.empty() && absl::EqualsIgnoreCase(tag, language)) {
      language = tag;
      translated = true;
      current.set_title(t.title());
      current.set_body(t.body());
    }
  }
  std::string title = edit.title;
  std::string body;
  if (!edit.body_file.empty()) {
    absl::StatusOr<std::string> read = ReadFile(edit.body_file, "--body-file");
    if (!read.ok()) return UsageError(read.status());
    body = *std::move(read);
  }
  if (!language.empty() && !edit.remove_translation &&
      (title.empty() != body.empty())) {
    // A translation is set whole: keep the side not given, which only an
    // existing translation has (the default text is not a translation).
    if (!translated) {
      return UsageError(absl::InvalidArgumentError(absl::StrCat(
          "--language ", language,
          ": a new translation needs both --title and --body-file")));
    }
    if (title.empty()) title = current.title();
    if (body.empty()) body = current.body();
  }
  if (title.empty() && body.empty() && edit.components.empty() &&
      !edit.remove_translation) {
    absl::StatusOr<std::pair<std::string, std::string>> edited =
        EditInEditor(editor, current);
    if (!edited.ok()) {
      err_ << "herald messages edit: " << edited.status().message() << "\n";
      return kExitError;
    }
    if (edited->first == current.title() && edited->second == current.body()) {
      out_ << "No change; " << m.ref() << " stays at version " << m.version()
           << ".\n";
      return kExitOk;
    }
    title = edited->first;
    body = edited->second;
  }
  if (language.empty()) {
    req.set_title(title);
    req.set_body(body);
  } else {
    v1::Translation& t = (*req.mutable_translations())[language];
    t.set_title(title);  // both empty with --remove-translation
    t.set_body(body);
  }
  return CallAndPrint(
      &MessageStub::EditMessage, req, [&](const v1::EditMessageResponse& resp) {
        out_ << resp.message().ref() << " is now version "
             << resp.message().version() << ". Review it with `herald messages "
             << "preview " << resp.message().ref() << "`.\n";
        return kExitOk;
      });
}

int Commands::Diff(const std::string& message, int from, int to) {
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
  out_ << "--- " << got->message().ref() << " version " << a->version() << " ("
       << a->editor_id() << ", " << When(a->created_at()) << " UTC)\n+++ "
       << got->message().ref() << " version " << b->version() << " ("
       << b->editor_id() << ", " << When(b->created_at()) << " UTC)\n";
  out_ << UnifiedDiff(a->title(), a->body(), b->title(), b->body());
  return kExitOk;
}

int Commands::Reject(const std::string& message, int version,
                     const std::string& reason) {
  v1::RejectMessageRequest req;
  req.set_message(message);
  req.set_version(version);
  req.set_reason(reason);
  return CallAndPrint(&MessageStub::RejectMessage, req,
                      [&](const v1::RejectMessageResponse& resp) {
                        out_ << resp.message().ref()
                             << " rejected. The point person can rework "
                             << "it with `herald messages edit "
                             << resp.message().ref() << "`.\n";
                        return kExitOk;
                      });
}

int Commands::Deliveries(const std::string& message, bool failed, int limit) {
  if (failed == !message.empty()) {
    return UsageError("deliveries", "name a message (MSG-40) or pass --failed");
  }
  v1::ListDeliveriesRequest req;
  req.set_message(message);
  req.set_failed(failed);
  std::map<std::string, int> by_state;
  return ListAndPrint(
      &MessageStub::ListDeliveries, req,
      &v1::ListDeliveriesResponse::deliveries,
      {.header = {"ID", "MESSAGE", "RECIPIENT", "CHANNEL", "ADDRESS", "STATE",
                  "ATTEMPTS", "LAST ERROR"},
       .empty = (failed ? "No failed deliveries." : "No deliveries."),
       .limit = limit},
      [&](const v1::Delivery& d) -> std::vector<std::string> {
        // Waiting for its channel to come back, not for the recipient.
        const std::string state =
            d.waiting_on() != v1::CHANNEL_KIND_UNSPECIFIED &&
                    d.state() == v1::DELIVERY_STATE_RETRYING
                ? "waiting"
                : EnumLabel(d.state());
        ++by_state[state];
        return {absl::StrCat(d.id()),
                d.message_id() ? absl::StrCat("MSG-", d.message_id()) : "-",
                d.recipient(),
                d.channel() == v1::CHANNEL_KIND_UNSPECIFIED
                    ? "-"
                    : EnumLabel(d.channel()),
                d.address().empty() ? "-" : d.address(),
                state,
                absl::StrCat(d.attempts()),
                d.last_error().empty() ? "-" : OneLine(d.last_error(), 60)};
      },
      [&](const v1::ListDeliveriesResponse& resp) {
        std::vector<std::string> counts;
        for (const auto& [state, n] : by_state) {
          counts.push_back(absl::StrCat(n, " ", state));
        }
        out_ << resp.deliveries_size()
             << " deliveries: " << absl::StrJoin(counts, ", ") << "\n";
        if (!resp.next_page_token().empty()) {
          out_ << "More follow; --limit 0 shows them all.\n";
        }
      });
}

int Commands::RetryDeliveries(const std::string& message, bool failed,
                              const std::string& since,
                              const std::string& channel) {
  if (failed == !message.empty()) {
    return UsageError("deliveries retry",
                      "name a message (MSG-40) or pass --failed");
  }
  if (!failed && (!since.empty() || !channel.empty())) {
    return UsageError("deliveries retry",
                      "--since and --channel go with --failed");
  }
  v1::RetryDeliveriesRequest req;
  req.set_message(message);
  req.set_failed(failed);
  if (!since.empty()) {
    absl::Time t;
    std::string err;
    absl::Duration ago;
    if (absl::ParseDuration(since, &ago) && ago >= absl::ZeroDuration()) {
      t = globals_.now - ago;
    } else if (!absl::ParseTime(absl::RFC3339_full, since, &t, &err)) {
      return UsageError(
          "deliveries retry",
          absl::StrCat("--since: expected an RFC 3339 time "
                       "(2026-11-24T03:00:00Z) or a duration ago (2h), got \"",
                       since, "\""));
    }
    req.mutable_since()->set_seconds(absl::ToUnixSeconds(t));
  }
  if (!channel.empty()) {
    v1::ChannelKind kind;
    if (!ParseEnumLabel(absl::AsciiStrToLower(channel), &kind)) {
      return UsageError("deliveries retry",
                        absl::StrCat("--channel: expected email, webhook, "
                                     "slack or sms, got \"",
                                     channel, "\""));
    }
    req.set_channel(kind);
  }
  return CallAndPrint(
      &MessageStub::RetryDeliveries, req,
      [&](const v1::RetryDeliveriesResponse& resp) {
        out_ << resp.requeued() << " failed deliveries queued again"
             << (resp.requeued() > 0
                     ? "; each recipient gets it at most once more "
                       "(same idempotency key).\n"
                     : ".\n");
        return kExitOk;
      });
}

int Commands::Approve(const std::string& message, int version,
                      bool as_written) {
  v1::ApproveMessageRequest req;
  req.set_message(message);
  req.set_version(version);
  req.set_publish_as_written(as_written);
  return CallAndPrint(&MessageStub::ApproveMessage, req,
                      [&](const v1::ApproveMessageResponse& resp) {
                        const v1::Message& m = resp.message();
                        if (m.state() == v1::MESSAGE_STATE_APPROVED) {
                          out_ << m.ref() << " approved; this "
                               << m.maintenance_notice()
                               << " notice goes out at its moment.\n";
                        } else if (m.state() == v1::MESSAGE_STATE_SUPERSEDED) {
                          out_ << m.ref() << " is withdrawn: its moment "
                               << "passed before it was approved.\n";
                        } else {
                          out_ << m.ref() << " approved and published; "
                               << resp.deliveries_enqueued()
                               << " recipient(s) queued.\n";
                        }
                        return kExitOk;
                      });
}

absl::StatusOr<v1::GetMessageResponse> Commands::FetchMessage(
    const std::string& message) {
  v1::GetMessageRequest req;
  req.set_message(message);
  v1::GetMessageResponse resp;
  if (CallMethod(&MessageStub::GetMessage, req, resp)) {
    return absl::UnknownError("reported");
  }
  return resp;
}

}  // namespace herald::cli
