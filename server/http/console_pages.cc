#include "server/http/console_pages.h"

#include <algorithm>
#include <cstdint>
#include <dtl/dtl.hpp>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "herald/enum_labels.h"
#include "herald/v1/herald.pb.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"
#include "server/core/comms/message_drafter.h"

namespace herald {
namespace {

// Console pages may run their own script, fetch from and frame this site.
constexpr char kConsoleCsp[] =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";
// An email's HTML part: no script, no fetches, framed by the console only.
constexpr char kEmailFrameCsp[] =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'none'; frame-ancestors 'self'; base-uri 'none'";

constexpr char kEventsPath[] = "/console/events";

std::string When(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", t, absl::UTCTimeZone());
}

std::string When(const google::protobuf::Timestamp& t) {
  return When(FromProtoTime(t));
}

std::string Ago(const ConsoleView& view, const google::protobuf::Timestamp& t) {
  const absl::Duration age =
      view.deps.sessions.clock().Now() - FromProtoTime(t);
  return absl::StrCat(HumanDuration(std::max(age, absl::ZeroDuration())),
                      " ago");
}

// The context every console page starts from: who is signed in, the
// sign-out form, and where the live updates come from.
TemplateContext PageContext(const ConsoleView& view, std::string heading,
                            std::string live_events) {
  TemplateContext ctx;
  ctx.values["heading"] = std::move(heading);
  ctx.values["page_name"] = view.deps.page_name;
  ctx.values["person_id"] = view.session.caller.person_id;
  std::vector<std::string> roles;
  for (v1::Role r : view.session.caller.roles) roles.push_back(EnumLabel(r));
  ctx.values["roles"] = absl::StrJoin(roles, ", ");
  ctx.values["csrf_token"] = view.session.csrf_token;
  ctx.values["expires"] = When(view.session.expires);
  ctx.values["live_events"] = std::move(live_events);
  return ctx;
}

HttpReply Render(const ConsoleView& view, int status, absl::string_view name,
                 const TemplateContext& ctx) {
  return HtmlPage(status, view.deps.renderer.Render(name, ctx),
                  absl::StrCat("console page ", name), "same-origin",
                  kConsoleCsp);
}

// A page saying why something could not be shown.
HttpReply Problem(const ConsoleView& view, const grpc::Status& status) {
  TemplateContext ctx = PageContext(view, "Cannot show this", "");
  ctx.values["error"] = status.error_message();
  return Render(view, HttpStatusForGrpc(status.error_code()),
                "console_problem.html", ctx);
}

template <typename Request, typename Response>
grpc::Status Call(const ConsoleView& view, absl::string_view method,
                  const Request& request, Response& response) {
  return view.deps.api->Invoke(absl::StrCat("herald.v1.", method), request,
                               response, view.secret);
}

grpc::Status GetMessage(const ConsoleView& view, absl::string_view ref,
                        v1::GetMessageResponse& out) {
  v1::GetMessageRequest request;
  request.set_message(std::string(ref));
  return Call(view, "MessageService/GetMessage", request, out);
}

grpc::Status GetIncident(const ConsoleView& view, absl::string_view ref,
                         bool include_reach, v1::GetIncidentResponse& out,
                         absl::string_view page_token = "") {
  v1::GetIncidentRequest request;
  request.set_incident(std::string(ref));
  request.set_include_reach(include_reach);
  request.set_page_token(std::string(page_token));
  return Call(view, "IncidentService/GetIncident", request, out);
}

bool Waiting(const v1::Message& m) {
  return m.state() == v1::MESSAGE_STATE_DRAFT ||
         m.state() == v1::MESSAGE_STATE_PENDING_APPROVAL;
}

// An enum's label for people: "status update", "partial outage".
template <typename E>
std::string Label(E value) {
  return absl::StrReplaceAll(EnumLabel(value), {{"_", " "}});
}

std::string IncidentRefOf(int64_t incident_id) {
  return absl::StrCat("INC-", incident_id);
}

// ---- the inbox ----

TemplateContext InboxItemContext(const ConsoleView& view,
                                 const v1::InboxItem& item) {
  const v1::Message& m = item.message();
  TemplateContext ctx;
  ctx.values["incident_ref"] = item.incident_ref();
  ctx.values["incident_title"] = item.incident_title();
  ctx.values["impact"] = Label(item.incident_impact());
  ctx.values["message_ref"] = m.ref();
  ctx.values["kind"] = Label(m.kind());
  ctx.values["state"] = Label(m.state());
  ctx.values["title"] = m.title();
  ctx.values["author"] = m.author_id();
  ctx.values["version"] = absl::StrCat(m.version());
  ctx.values["age"] = Ago(view, m.created_at());
  ctx.values["created"] = When(m.created_at());
  ctx.values["audience"] = absl::StrCat(item.audience_size());
  ctx.values["audience_noun"] =
      m.audience() == v1::AUDIENCE_AFFECTED_CUSTOMERS
          ? (item.audience_size() == 1 ? "affected customer"
                                       : "affected customers")
          : (item.audience_size() == 1 ? "subscriber" : "subscribers");
  ctx.flags["overdue"] = item.update_overdue();
  if (item.has_update_due_at()) {
    ctx.values["update_due"] = When(item.update_due_at());
  }
  return ctx;
}

}  // namespace

HttpReply InboxPage(const ConsoleView& view) {
  v1::GetInboxResponse inbox;
  if (grpc::Status s =
          Call(view, "MessageService/GetInbox", v1::GetInboxRequest(), inbox);
      !s.ok()) {
    return Problem(view, s);
  }
  v1::ListIncidentsResponse open;
  if (grpc::Status s = Call(view, "IncidentService/ListIncidents",
                            v1::ListIncidentsRequest(), open);
      !s.ok()) {
    return Problem(view, s);
  }
  TemplateContext ctx = PageContext(view, "Inbox", kEventsPath);
  int overdue = 0;
  for (const v1::InboxItem& item : inbox.items()) {
    ctx.lists["items"].push_back(InboxItemContext(view, item));
    overdue += item.update_overdue() ? 1 : 0;
  }
  ctx.flags["has_items"] = inbox.items_size() > 0;
  ctx.values["waiting"] = absl::StrCat(inbox.items_size());
  if (overdue > 0) ctx.values["overdue_count"] = absl::StrCat(overdue);
  for (const v1::Incident& i : open.incidents()) {
    TemplateContext row;
    row.values["ref"] = i.ref();
    row.values["title"] = i.title();
    row.values["impact"] = Label(i.impact());
    row.values["status"] = Label(i.status());
    row.values["point_person"] = i.point_person_id();
    row.values["opened"] = Ago(view, i.opened_at());
    ctx.lists["incidents"].push_back(std::move(row));
  }
  ctx.flags["has_incidents"] = open.incidents_size() > 0;
  return Render(view, 200, "console_inbox.html", ctx);
}

// ---- review ----

namespace {

// Words and the white space between them, so that a diff of prose reads as
// prose.
std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    const bool space = absl::ascii_isspace(static_cast<unsigned char>(text[i]));
    size_t j = i;
    while (j < text.size() &&
           absl::ascii_isspace(static_cast<unsigned char>(text[j])) == space) {
      ++j;
    }
    out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

// A word diff of `before` and `after` as runs marked ins, del or same. A
// changed stretch reads as all that was removed, then all that replaced
// it: white space they share inside the stretch belongs to both.
std::vector<TemplateContext> WordDiff(const std::string& before,
                                      const std::string& after) {
  dtl::Diff<std::string, std::vector<std::string>> diff(Words(before),
                                                        Words(after));
  diff.compose();
  std::vector<TemplateContext> runs;
  auto emit = [&runs](const char* kind, const std::string& text) {
    if (text.empty()) return;
    if (runs.empty() || !runs.back().flags[kind]) {
      TemplateContext run;
      run.flags[kind] = true;
      runs.push_back(std::move(run));
    }
    runs.back().values["text"] += text;
  };
  std::string removed, added, shared_space;
  auto flush = [&] {
    emit("del", removed);
    emit("ins", added);
    emit("same", shared_space);
    removed.clear();
    added.clear();
    shared_space.clear();
  };
  for (const auto& [word, info] : diff.getSes().getSequence()) {
    const bool space = absl::ascii_isspace(static_cast<unsigned char>(word[0]));
    if (info.type == dtl::SES_COMMON) {
      if (space && (!removed.empty() || !added.empty())) {
        shared_space += word;
        continue;
      }
      flush();
      emit("same", word);
      continue;
    }
    if (!shared_space.empty()) {
      removed += shared_space;
      added += shared_space;
      shared_space.clear();
    }
    (info.type == dtl::SES_ADD ? added : removed) += word;
  }
  flush();
  return runs;
}

std::string ChannelLabel(const std::string& channel) {
  if (channel == "status_page") return "Status page";
  if (channel == "email") return "Email";
  if (channel == "short_text") return "Short text (SMS, Slack)";
  return channel;
}

struct Typed {  // what the person typed into a form that failed
  std::string title;
  std::string body;
  std::string reason;
  std::map<std::string, v1::Translation> translations;  // by language tag
};

// The edit form's translation fields: "translation_title.de" and
// "translation_body.de" for each language it shows.
constexpr absl::string_view kTranslationTitle = "translation_title.";
constexpr absl::string_view kTranslationBody = "translation_body.";

std::map<std::string, v1::Translation> TypedTranslations(
    const FormFields& form) {
  std::map<std::string, v1::Translation> out;
  for (const auto& [name, value] : form) {
    if (absl::StartsWith(name, kTranslationTitle)) {
      out[name.substr(kTranslationTitle.size())].set_title(value);
    } else if (absl::StartsWith(name, kTranslationBody)) {
      out[name.substr(kTranslationBody.size())].set_body(value);
    }
  }
  return out;
}

HttpReply ReviewPage(const ConsoleView& view, absl::string_view ref,
                     absl::string_view done, int status, std::string error,
                     const Typed* typed) {
  v1::GetMessageResponse got;
  if (grpc::Status s = GetMessage(view, ref, got); !s.ok()) {
    return Problem(view, s);
  }
  const v1::Message& m = got.message();
  const std::string incident_ref = IncidentRefOf(m.incident_id());
  v1::GetIncidentResponse incident;
  if (grpc::Status s = GetIncident(view, incident_ref, false, incident);
      !s.ok()) {
    return Problem(view, s);
  }

  TemplateContext ctx =
      PageContext(view, absl::StrCat("Review ", m.ref()),
                  absl::StrCat(kEventsPath, "?incident=", incident_ref));
  ctx.values["message_ref"] = m.ref();
  ctx.values["kind"] = Label(m.kind());
  ctx.values["state"] = Label(m.state());
  ctx.values["version"] = absl::StrCat(m.version());
  ctx.values["next_version"] = absl::StrCat(m.version() + 1);
  ctx.values["author"] = m.author_id();
  ctx.values["last_editor"] = m.last_editor_id();
  ctx.values["created"] = When(m.created_at());
  ctx.values["title"] = m.title();
  ctx.values["incident_ref"] = incident_ref;
  ctx.values["incident_title"] = incident.incident().title();
  ctx.values["error"] = std::move(error);
  if (m.state() == v1::MESSAGE_STATE_REJECTED) {
    ctx.flags["rejected"] = true;
    ctx.values["rejected_by"] = m.rejected_by();
    ctx.values["rejection_reason"] = m.rejection_reason();
  }
  if (m.state() == v1::MESSAGE_STATE_PUBLISHED) {
    ctx.flags["published"] = true;
    ctx.values["approver"] = m.approver_id();
    ctx.values["published"] = When(m.published_at());
  }
  if (!done.empty()) {
    ctx.values["notice"] =
        done == "edited" ? absl::StrCat("Saved as version ", m.version(),
                                        ". It now waits for approval.")
        : done == "approved" && m.state() == v1::MESSAGE_STATE_APPROVED
            ? "Approved. This notice goes out at its moment."
        : done == "approved" && m.state() == v1::MESSAGE_STATE_SUPERSEDED
            ? "Withdrawn: its moment passed before it was approved."
        : done == "approved" ? "Approved and published. Deliveries are on "
                               "their way; the incident page shows how far "
                               "they have got."
        : done == "rejected" ? "Rejected. The author sees your reason."
                             : "";
  }

  // Actions, as the roles allow; the services decide in the end.
  const Caller& caller = view.session.caller;
  const bool editable = Waiting(m) || m.state() == v1::MESSAGE_STATE_REJECTED;
  ctx.flags["may_edit"] =
      editable && Authorizer::Authorize(caller, Permission::kEditMessage).ok();
  ctx.flags["may_decide"] =
      Waiting(m) &&
      Authorizer::Authorize(caller, Permission::kApproveMessage).ok();
  ctx.flags["read_only"] = editable && !ctx.flags["may_edit"];
  // Crafting is visible: what still reads exactly as an engineer wrote it.
  for (const std::string& words : got.unedited_engineer_words()) {
    TemplateContext item;
    item.values["text"] = words;
    ctx.lists["engineer_words"].push_back(std::move(item));
  }
  ctx.lists.try_emplace("engineer_words");
  ctx.flags["has_engineer_words"] =
      Waiting(m) && !ctx.lists["engineer_words"].empty();
  // What the person typed survives a refusal; an empty field means "keep"
  // to EditMessage, so it shows the current text.
  ctx.values["edit_title"] =
      typed != nullptr && !typed->title.empty() ? typed->title : m.title();
  ctx.values["edit_body"] =
      typed != nullptr && !typed->body.empty() ? typed->body : m.body();
  ctx.values["reject_reason"] = typed != nullptr ? typed->reason : "";

  // A maintenance announcement: the notices its approval covers, each
  // with its words and a link to edit it.
  for (const v1::Message& n : got.covered()) {
    TemplateContext item;
    item.values["ref"] = n.ref();
    item.values["notice"] = n.maintenance_notice();
    item.values["state"] = Label(n.state());
    item.values["version"] = absl::StrCat(n.version());
    item.values["title"] = n.title();
    item.values["body"] = n.body();
    ctx.lists["covered"].push_back(std::move(item));
  }
  ctx.lists.try_emplace("covered");
  ctx.flags["has_covered"] = got.covered_size() > 0;

  // Every language the message goes out in: the comms lead sees which
  // readers get a translation, which get the default text inside their
  // language's frame, and which translation predates the current text.
  bool missing = false;
  for (const v1::LanguageCoverage& c : got.languages()) {
    TemplateContext item;
    item.values["locale"] = c.locale();
    item.values["readers"] = absl::StrCat(c.readers());
    item.flags["is_default"] = c.is_default();
    item.flags["translated"] = c.translated() && !c.outdated();
    item.flags["outdated"] = c.outdated();
    item.flags["missing"] = !c.is_default() && !c.translated();
    missing |= !c.is_default() && !c.translated() && c.readers() > 0;
    ctx.lists["languages"].push_back(item);
    if (c.is_default()) continue;
    // The edit form's fields for this language: what was typed into a
    // failed edit, else the stored translation.
    const v1::Translation* typed_one = nullptr;
    if (typed != nullptr) {
      auto it = typed->translations.find(c.locale());
      if (it != typed->translations.end()) typed_one = &it->second;
    }
    auto stored = m.translations().find(c.locale());
    const v1::Translation* shown = typed_one != nullptr ? typed_one
                                   : stored != m.translations().end()
                                       ? &stored->second
                                       : nullptr;
    item.values["edit_title"] = shown != nullptr ? shown->title() : "";
    item.values["edit_body"] = shown != nullptr ? shown->body() : "";
    ctx.lists["translations"].push_back(std::move(item));
  }
  ctx.lists.try_emplace("languages");
  ctx.lists.try_emplace("translations");
  ctx.flags["has_languages"] = !ctx.lists["translations"].empty();
  ctx.flags["missing_translations"] = Waiting(m) && missing;

  int email_index = 0;
  for (const v1::ChannelPreview& p : got.previews()) {
    TemplateContext preview;
    preview.values["channel"] = ChannelLabel(p.channel());
    preview.values["recipient"] = p.recipient();
    preview.values["subject"] = p.subject();
    preview.values["body"] = p.body();
    preview.flags[p.channel()] = true;
    if (p.channel() == "short_text") {
      preview.values["length"] = absl::StrCat(p.body().size());
    }
    if (p.channel() == "email" && !p.html().empty()) {
      preview.values["frame_url"] =
          absl::StrCat("/console/messages/", m.ref(), "/email/", email_index);
    }
    if (p.channel() == "email") ++email_index;
    ctx.lists["previews"].push_back(std::move(preview));
  }

  for (const v1::Update& u : incident.updates()) {
    TemplateContext note;
    note.values["author"] = u.author_id();
    note.values["at"] = When(u.created_at());
    note.values["text"] = u.text();
    note.values["next_step"] = u.next_step();
    if (u.has_eta()) note.values["eta"] = When(u.eta());
    note.flags["source"] = u.id() == m.source_update_id();
    ctx.lists["notes"].push_back(std::move(note));
  }
  ctx.flags["has_notes"] = incident.updates_size() > 0;

  const int n = got.versions_size();
  if (n >= 2) {
    const v1::MessageVersion& before = got.versions(n - 2);
    const v1::MessageVersion& after = got.versions(n - 1);
    ctx.flags["has_diff"] = true;
    ctx.values["diff_from"] = absl::StrCat(before.version());
    ctx.values["diff_to"] = absl::StrCat(after.version());
    ctx.values["diff_by"] = after.editor_id();
    ctx.lists["diff_title"] = WordDiff(before.title(), after.title());
    ctx.lists["diff_body"] = WordDiff(before.body(), after.body());
  }
  for (const v1::AuditEntry& e : got.audit()) {
    TemplateContext entry;
    entry.values["at"] = When(e.at());
    entry.values["actor"] = e.actor_id();
    entry.values["action"] = e.action();
    entry.values["version"] = absl::StrCat(e.message_version());
    entry.values["detail"] = e.detail();
    ctx.lists["audit"].push_back(std::move(entry));
  }
  return Render(view, status, "console_message.html", ctx);
}

}  // namespace

HttpReply MessagePage(const ConsoleView& view, absl::string_view ref,
                      absl::string_view done) {
  return ReviewPage(view, ref, done, 200, "", nullptr);
}

HttpReply MessageAction(const ConsoleView& view, absl::string_view ref,
                        absl::string_view action, const FormFields& form) {
  int version = 0;
  if (!absl::SimpleAtoi(FormField(form, "version"), &version) || version <= 0) {
    return ReviewPage(view, ref, "", 400,
                      "The form did not say which version you reviewed. "
                      "Reload the page and try again.",
                      nullptr);
  }
  const Typed typed{FormField(form, "title"), FormField(form, "body"),
                    FormField(form, "reason"), TypedTranslations(form)};
  grpc::Status s;
  if (action == "edit") {
    v1::EditMessageRequest req;
    req.set_message(std::string(ref));
    req.set_version(version);
    req.set_title(typed.title);
    req.set_body(typed.body);
    for (const auto& [language, t] : typed.translations) {
      (*req.mutable_translations())[language] = t;
    }
    v1::EditMessageResponse resp;
    s = Call(view, "MessageService/EditMessage", req, resp);
  } else if (action == "approve") {
    v1::ApproveMessageRequest req;
    req.set_message(std::string(ref));
    req.set_version(version);
    req.set_publish_as_written(FormField(form, "as_written") == "yes");
    // The covered notices' versions as the page showed them
    // ("covered.MSG-41" = 2).
    for (const auto& [name, value] : form) {
      absl::string_view covered = name;
      int32_t seen = 0;
      if (absl::ConsumePrefix(&covered, "covered.") &&
          absl::SimpleAtoi(value, &seen)) {
        (*req.mutable_covered_versions())[std::string(covered)] = seen;
      }
    }
    v1::ApproveMessageResponse resp;
    s = Call(view, "MessageService/ApproveMessage", req, resp);
  } else if (action == "reject") {
    v1::RejectMessageRequest req;
    req.set_message(std::string(ref));
    req.set_version(version);
    req.set_reason(typed.reason);
    v1::RejectMessageResponse resp;
    s = Call(view, "MessageService/RejectMessage", req, resp);
  } else {
    return Problem(view, grpc::Status(grpc::StatusCode::NOT_FOUND,
                                      "No such action on a message."));
  }
  if (s.ok()) {
    return SeeOther(absl::StrCat("/console/messages/", ref, "?done=",
                                 action == "edit"      ? "edited"
                                 : action == "approve" ? "approved"
                                                       : "rejected"));
  }
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) return Problem(view, s);
  return ReviewPage(view, ref, "", HttpStatusForGrpc(s.error_code()),
                    s.error_message(), &typed);
}

HttpReply EmailPreviewFrame(const ConsoleView& view, absl::string_view ref,
                            absl::string_view index) {
  size_t wanted = 0;
  if (!absl::SimpleAtoi(index, &wanted)) {
    return Problem(view,
                   grpc::Status(grpc::StatusCode::NOT_FOUND, "No such email."));
  }
  v1::GetMessageResponse got;
  if (grpc::Status s = GetMessage(view, ref, got); !s.ok()) {
    return Problem(view, s);
  }
  size_t seen = 0;
  for (const v1::ChannelPreview& p : got.previews()) {
    if (p.channel() != "email") continue;
    if (seen++ != wanted) continue;
    return HtmlPage(200, p.html(), "email preview", "no-referrer",
                    kEmailFrameCsp);
  }
  return Problem(view,
                 grpc::Status(grpc::StatusCode::NOT_FOUND, "No such email."));
}

// ---- the incident ----

HttpReply IncidentPage(const ConsoleView& view, absl::string_view ref,
                       absl::string_view page_token) {
  v1::GetIncidentResponse got;
  if (grpc::Status s = GetIncident(view, ref, true, got, page_token); !s.ok()) {
    return Problem(view, s);
  }
  const v1::Incident& i = got.incident();
  TemplateContext ctx =
      PageContext(view, absl::StrCat(i.ref(), ": ", i.title()),
                  absl::StrCat(kEventsPath, "?incident=", i.ref()));
  ctx.values["ref"] = i.ref();
  ctx.values["status"] = Label(i.status());
  ctx.values["impact"] = Label(i.impact());
  ctx.values["components"] = absl::StrJoin(i.component_ids(), ", ");
  ctx.values["point_person"] = i.point_person_id();
  ctx.values["acknowledged_by"] = i.acknowledged_by();
  ctx.values["opened"] = When(i.opened_at());
  if (i.has_resolved_at()) ctx.values["resolved"] = When(i.resolved_at());
  // A page of the alerts and of the timeline; a link to the next.
  ctx.values["alert_count"] = absl::StrCat(got.alert_count());
  ctx.values["alerts_shown"] = absl::StrCat(got.alerts_size());
  ctx.values["timeline_count"] = absl::StrCat(got.timeline_count());
  ctx.values["timeline_shown"] = absl::StrCat(got.timeline_size());
  if (!page_token.empty()) ctx.values["later_page"] = "true";
  if (!got.next_page_token().empty()) {
    ctx.values["next_page"] = got.next_page_token();
  }
  if (i.alerts_over_limit() > 0) {
    ctx.values["alerts_over_limit"] = absl::StrCat(i.alerts_over_limit());
  }
  for (const v1::TimelineEvent& e : got.timeline()) {
    TemplateContext row;
    row.values["at"] = When(e.at());
    row.values["kind"] = e.kind();
    row.values["actor"] = e.actor();
    row.values["text"] = e.text();
    ctx.lists["timeline"].push_back(std::move(row));
  }
  for (const v1::Message& m : got.messages()) {
    TemplateContext row;
    row.values["ref"] = m.ref();
    row.values["kind"] = Label(m.kind());
    row.values["state"] = Label(m.state());
    row.values["title"] = m.title();
    row.values["version"] = absl::StrCat(m.version());
    int64_t delivered = 0, total = 0;
    for (const v1::MessageReach& r : got.reach()) {
      if (r.message_id() != m.id()) continue;
      TemplateContext channel;
      channel.values["channel"] = r.channel() == v1::CHANNEL_KIND_UNSPECIFIED
                                      ? "not yet tried"
                                      : Label(r.channel());
      channel.values["delivered"] = absl::StrCat(r.delivered());
      channel.values["pending"] = absl::StrCat(r.pending());
      channel.values["failed"] = absl::StrCat(r.failed());
      if (r.cancelled() > 0) {
        channel.values["cancelled"] = absl::StrCat(r.cancelled());
      }
      if (r.superseded() > 0) {
        channel.values["superseded"] = absl::StrCat(r.superseded());
      }
      if (r.waiting() > 0) {
        channel.values["waiting"] = absl::StrCat(r.waiting());
        channel.values["outage"] = r.outage();
      }
      row.lists["reach"].push_back(std::move(channel));
      delivered += r.delivered();
      total += r.delivered() + r.pending() + r.failed() + r.cancelled() +
               r.superseded();
    }
    if (total > 0) {
      row.values["reached"] =
          absl::StrCat(delivered, " of ", total, " recipients reached");
    }
    ctx.lists["messages"].push_back(std::move(row));
  }
  for (const v1::Alert& a : got.alerts()) {
    TemplateContext row;
    auto name = a.labels().find("alertname");
    row.values["name"] =
        name == a.labels().end() ? a.fingerprint() : name->second;
    row.values["status"] = Label(a.status());
    row.values["started"] = When(a.starts_at());
    auto summary = a.annotations().find("summary");
    if (summary != a.annotations().end()) {
      row.values["summary"] = summary->second;
    }
    ctx.lists["alerts"].push_back(std::move(row));
  }
  return Render(view, 200, "console_incident.html", ctx);
}

HttpReply ConsoleScript(const ConsoleDeps& deps) {
  absl::StatusOr<std::string> script =
      deps.renderer.Render("console.js", TemplateContext());
  HttpReply reply;
  if (!script.ok()) {
    LogError("console script failed to render",
             {{"error", script.status().ToString()}});
    reply.status = 500;
    reply.content_type = "text/plain; charset=utf-8";
    reply.body = "internal error\n";
    return reply;
  }
  reply.content_type = "text/javascript; charset=utf-8";
  reply.body = *std::move(script);
  reply.headers = {{"Cache-Control", "no-cache"},
                   {"X-Content-Type-Options", "nosniff"}};
  return reply;
}

}  // namespace herald
