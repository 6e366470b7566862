#include "server/core/comms/message_drafter.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "herald/enum_labels.h"
#include "server/base/proto_time.h"
#include "server/core/aftercare/credit_policy.h"
#include "server/core/incidents/public_incident.h"

namespace herald {
namespace {

// Engineers write notes ("rolled back, errors falling"); customers read
// sentences ("Rolled back, errors falling."). Empty stays empty.
std::string AsSentence(absl::string_view note) {
  std::string s(absl::StripAsciiWhitespace(note));
  if (s.empty()) return s;
  s[0] = absl::ascii_toupper(static_cast<unsigned char>(s[0]));
  if (!absl::ascii_ispunct(static_cast<unsigned char>(s.back()))) s += '.';
  return s;
}

std::string UtcMinutes(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", t, absl::UTCTimeZone());
}

}  // namespace

std::string IncidentPageUrl(const std::string& public_url,
                            const v1::Incident& incident) {
  return absl::StrCat(absl::StripSuffix(public_url, "/"),
                      IncidentPagePath(incident.ref()));
}

std::string TemplatePrefix(const v1::Message& message) {
  switch (message.kind()) {
    case v1::MESSAGE_KIND_RESOLUTION:
      return "resolved";
    case v1::MESSAGE_KIND_MAINTENANCE:
      return "maintenance";
    case v1::MESSAGE_KIND_APOLOGY:
      return "apology";
    case v1::MESSAGE_KIND_FOLLOW_UP:
      return "follow_up";
    default:
      return EnumLabel(message.incident_status());
  }
}

v1::ComponentStatus ComponentStatusFor(v1::Impact impact) {
  switch (impact) {
    case v1::IMPACT_CRITICAL:
      return v1::COMPONENT_STATUS_MAJOR_OUTAGE;
    case v1::IMPACT_MAJOR:
      return v1::COMPONENT_STATUS_PARTIAL_OUTAGE;
    default:
      return v1::COMPONENT_STATUS_DEGRADED_PERFORMANCE;
  }
}

MessageDrafter::MessageDrafter(const Renderer& renderer,
                               std::shared_ptr<const Organisation> org)
    : renderer_(renderer), org_(std::move(org)) {}

TemplateContext MessageDrafter::IncidentContext(
    const v1::Incident& incident, v1::IncidentStatus status) const {
  TemplateContext ctx;
  const std::vector<std::string> components(incident.component_ids().begin(),
                                            incident.component_ids().end());
  ctx.values["incident_ref"] = incident.ref();
  ctx.values["incident_title"] = incident.title();
  const v1::PersonConfig* point_person =
      org_->FindPerson(incident.point_person_id());
  ctx.values["point_person_name"] =
      point_person ? point_person->name() : incident.point_person_id();
  ctx.values["components_text"] = org_->ComponentNames(components);
  ctx.values["impact_text"] = EnumLabel(incident.impact());
  ctx.values["status_text"] = EnumLabel(status);
  ctx.values["page_name"] = org_->config().server().page_name();
  ctx.values["public_url"] = org_->config().server().public_url();
  ctx.flags[EnumLabel(status)] = true;
  const absl::Time opened = FromProtoTime(incident.opened_at());
  ctx.values["started_at"] = UtcMinutes(opened);
  if (incident.has_resolved_at()) {
    const absl::Time resolved = FromProtoTime(incident.resolved_at());
    ctx.values["ended_at"] = UtcMinutes(resolved);
    ctx.values["duration_text"] = HumanDuration(resolved - opened);
  }
  ctx.values["incident_url"] =
      IncidentPageUrl(org_->config().server().public_url(), incident);
  if (incident.has_postmortem()) {
    ctx.values["postmortem_url"] = ctx.values["incident_url"];
  }
  if (incident.has_maintenance()) {
    const absl::Time from = FromProtoTime(incident.maintenance().starts_at());
    const absl::Time to = FromProtoTime(incident.maintenance().ends_at());
    ctx.values["window_start"] = UtcMinutes(from);
    ctx.values["window_end"] = UtcMinutes(to);
    ctx.values["window_duration"] = HumanDuration(to - from);
  }
  return ctx;
}

absl::StatusOr<v1::Message> MessageDrafter::Draft(
    absl::string_view kind_name, v1::MessageKind kind, v1::Audience audience,
    v1::IncidentStatus status, const TemplateContext& ctx,
    const v1::Incident& incident) const {
  absl::StatusOr<std::string> title =
      renderer_.Render(absl::StrCat(kind_name, ".title"), ctx);
  if (!title.ok()) return title.status();
  absl::StatusOr<std::string> body =
      renderer_.Render(absl::StrCat(kind_name, ".body"), ctx);
  if (!body.ok()) return body.status();
  v1::Message m;
  m.set_incident_id(incident.id());
  m.set_kind(kind);
  m.set_state(v1::MESSAGE_STATE_DRAFT);
  m.set_audience(audience);
  m.set_incident_status(status);
  m.set_title(*std::move(title));
  m.set_body(*std::move(body));
  m.set_version(1);
  if (kind == v1::MESSAGE_KIND_STATUS_UPDATE ||
      kind == v1::MESSAGE_KIND_RESOLUTION) {
    const v1::ComponentStatus proposed =
        status == v1::INCIDENT_STATUS_RESOLVED
            ? v1::COMPONENT_STATUS_OPERATIONAL
            : ComponentStatusFor(incident.impact());
    for (const std::string& c : incident.component_ids()) {
      (*m.mutable_component_statuses())[c] = proposed;
    }
  }
  return m;
}

absl::StatusOr<v1::Message> MessageDrafter::DraftStatusUpdate(
    const v1::Incident& incident, v1::IncidentStatus status,
    const v1::Update& update) const {
  TemplateContext ctx = IncidentContext(incident, status);
  ctx.values["note"] = AsSentence(update.text());
  if (update.has_eta()) {
    ctx.values["eta"] = absl::FormatTime(
        "%H:%M UTC", FromProtoTime(update.eta()), absl::UTCTimeZone());
  }
  ctx.values["next_step"] = AsSentence(update.next_step());
  if (status != v1::INCIDENT_STATUS_INVESTIGATING &&
      status != v1::INCIDENT_STATUS_IDENTIFIED &&
      status != v1::INCIDENT_STATUS_MONITORING) {
    return absl::InvalidArgumentError(
        absl::StrCat("a status update cannot say \"", EnumLabel(status),
                     "\"; it says investigating, identified or monitoring"));
  }
  return Draft(EnumLabel(status), v1::MESSAGE_KIND_STATUS_UPDATE,
               v1::AUDIENCE_COMPONENT_SUBSCRIBERS, status, ctx, incident);
}

absl::StatusOr<v1::Message> MessageDrafter::DraftHoldingStatement(
    const v1::Incident& incident, absl::Time next_update_by) const {
  TemplateContext ctx = IncidentContext(incident, incident.status());
  ctx.values["next_update_by"] =
      absl::FormatTime("%H:%M UTC", next_update_by, absl::UTCTimeZone());
  return Draft("holding", v1::MESSAGE_KIND_STATUS_UPDATE,
               v1::AUDIENCE_COMPONENT_SUBSCRIBERS, incident.status(), ctx,
               incident);
}

absl::StatusOr<v1::Message> MessageDrafter::DraftReopened(
    const v1::Incident& incident, absl::Duration since) const {
  TemplateContext ctx =
      IncidentContext(incident, v1::INCIDENT_STATUS_INVESTIGATING);
  ctx.values["since_text"] = HumanDuration(since);
  return Draft("reopened", v1::MESSAGE_KIND_STATUS_UPDATE,
               v1::AUDIENCE_COMPONENT_SUBSCRIBERS,
               v1::INCIDENT_STATUS_INVESTIGATING, ctx, incident);
}

absl::StatusOr<v1::Message> MessageDrafter::DraftResolution(
    const v1::Incident& incident, absl::string_view note) const {
  TemplateContext ctx = IncidentContext(incident, v1::INCIDENT_STATUS_RESOLVED);
  ctx.values["note"] = AsSentence(note);
  return Draft("resolved", v1::MESSAGE_KIND_RESOLUTION,
               v1::AUDIENCE_COMPONENT_SUBSCRIBERS, v1::INCIDENT_STATUS_RESOLVED,
               ctx, incident);
}

absl::StatusOr<v1::Message> MessageDrafter::DraftMaintenance(
    const v1::Incident& incident, absl::string_view note) const {
  TemplateContext ctx = IncidentContext(incident, incident.status());
  ctx.values["note"] = AsSentence(note);
  return Draft("maintenance", v1::MESSAGE_KIND_MAINTENANCE,
               v1::AUDIENCE_COMPONENT_SUBSCRIBERS,
               v1::INCIDENT_STATUS_SCHEDULED, ctx, incident);
}

absl::StatusOr<v1::Message> MessageDrafter::DraftApology(
    const v1::Incident& incident, absl::string_view note) const {
  TemplateContext ctx = IncidentContext(incident, v1::INCIDENT_STATUS_RESOLVED);
  ctx.values["note"] = AsSentence(note);
  return Draft("apology", v1::MESSAGE_KIND_APOLOGY,
               v1::AUDIENCE_AFFECTED_CUSTOMERS, v1::INCIDENT_STATUS_RESOLVED,
               ctx, incident);
}

absl::StatusOr<v1::Message> MessageDrafter::DraftFollowUp(
    const v1::Incident& incident) const {
  return Draft("follow_up", v1::MESSAGE_KIND_FOLLOW_UP,
               v1::AUDIENCE_AFFECTED_CUSTOMERS, v1::INCIDENT_STATUS_RESOLVED,
               IncidentContext(incident, v1::INCIDENT_STATUS_RESOLVED),
               incident);
}

absl::StatusOr<Email> MessageDrafter::RenderEmail(
    absl::string_view kind, const TemplateContext& ctx) const {
  absl::StatusOr<std::string> subject =
      renderer_.Render(absl::StrCat(kind, ".email_subject"), ctx);
  if (!subject.ok()) return subject.status();
  absl::StatusOr<std::string> text =
      renderer_.Render(absl::StrCat(kind, ".email_text"), ctx);
  if (!text.ok()) return text.status();
  // The HTML part is optional: staff notifications are plain text.
  absl::StatusOr<std::string> html =
      renderer_.Render(absl::StrCat(kind, ".email.html"), ctx);
  if (!html.ok() && !absl::IsNotFound(html.status())) return html.status();
  return Email{*std::move(subject), *std::move(text) + "\n",
               html.ok() ? *std::move(html) : std::string()};
}

TemplateContext MessageDrafter::MessageContext(
    const v1::Message& message, const v1::Incident& incident) const {
  TemplateContext ctx = IncidentContext(incident, message.incident_status());
  // A status message makes its incident public. An apology or follow-up
  // may be about one resolved quietly, which has no page: those letters
  // link to the status page instead.
  if (!incident.customer_visible() &&
      (message.kind() == v1::MESSAGE_KIND_APOLOGY ||
       message.kind() == v1::MESSAGE_KIND_FOLLOW_UP)) {
    ctx.values["incident_url"] = org_->config().server().public_url();
  }
  ctx.values["title"] = message.title();
  ctx.values["body"] = message.body();
  // For HTML, where line breaks collapse: one entry per paragraph.
  for (absl::string_view p :
       absl::StrSplit(message.body(), "\n\n", absl::SkipWhitespace())) {
    TemplateContext paragraph;
    paragraph.values["text"] = std::string(absl::StripAsciiWhitespace(p));
    ctx.lists["body_paragraphs"].push_back(std::move(paragraph));
  }
  ctx.lists.try_emplace("body_paragraphs");
  return ctx;
}

void MessageDrafter::AddAmends(const v1::Amends& amends,
                               TemplateContext& ctx) const {
  if (!amends.customer_name().empty()) {
    ctx.values["customer_name"] = amends.customer_name();
  }
  ctx.values["components_text"] = org_->ComponentNames(
      {amends.component_ids().begin(), amends.component_ids().end()});
  const absl::Time start = FromProtoTime(amends.started_at());
  const absl::Time end = FromProtoTime(amends.ended_at());
  ctx.values["started_at"] = UtcMinutes(start);
  ctx.values["ended_at"] = UtcMinutes(end);
  ctx.values["duration_text"] = HumanDuration(end - start);
  ctx.values["credit_text"] = DescribeCredit(amends.credit());
  ctx.values["voucher_code"] = amends.credit().voucher_code();
  ctx.flags["credit"] = OffersSomething(amends.credit());
}

absl::StatusOr<std::string> MessageDrafter::ShortTextFor(
    const v1::Message& message, const v1::Incident& incident,
    const v1::Amends* amends) const {
  TemplateContext ctx = MessageContext(message, incident);
  if (amends != nullptr) AddAmends(*amends, ctx);
  return renderer_.Render(absl::StrCat(TemplatePrefix(message), ".short_text"),
                          ctx);
}

absl::StatusOr<Email> MessageDrafter::EmailFor(const v1::Message& message,
                                               const v1::Incident& incident,
                                               const v1::Subscriber& subscriber,
                                               const Personal& personal) const {
  TemplateContext ctx = MessageContext(message, incident);
  if (!personal.unsubscribe_url.empty()) {
    ctx.values["unsubscribe_url"] = personal.unsubscribe_url;
  }
  ctx.values["customer_name"] =
      subscriber.name().empty() ? "customer" : subscriber.name();
  ctx.values["customer_account"] = subscriber.account();
  ctx.values["customer_plan"] = subscriber.plan();
  // A customer hears about the affected components they actually use.
  std::vector<std::string> theirs;
  for (const auto& c : incident.component_ids()) {
    for (const auto& s : subscriber.component_ids()) {
      if (c == s) theirs.push_back(c);
    }
  }
  if (!theirs.empty())
    ctx.values["components_text"] = org_->ComponentNames(theirs);
  if (personal.amends != nullptr) AddAmends(*personal.amends, ctx);
  for (const auto& [k, v] : personal.values) ctx.values[k] = v;
  return RenderEmail(TemplatePrefix(message), ctx);
}

absl::StatusOr<Email> MessageDrafter::SubscriberNotice(
    absl::string_view kind, const v1::Subscriber& subscriber,
    const std::map<std::string, std::string>& values) const {
  TemplateContext ctx;
  ctx.values["page_name"] = org_->config().server().page_name();
  ctx.values["public_url"] = org_->config().server().public_url();
  // Anyone can make herald send these to any address: they carry nothing
  // the requester typed but the address, and not the name in particular.
  ctx.values["customer_name"] = "there";
  ctx.values["components_text"] = org_->ComponentNames(
      {subscriber.component_ids().begin(), subscriber.component_ids().end()});
  for (const auto& [k, v] : values) ctx.values[k] = v;
  return RenderEmail(kind, ctx);
}

absl::StatusOr<Email> MessageDrafter::StaffEmail(
    absl::string_view kind, const v1::Incident& incident,
    const v1::PersonConfig& person, const v1::Message* message,
    const std::map<std::string, std::string>& values) const {
  TemplateContext ctx = IncidentContext(incident, incident.status());
  ctx.values["person_name"] = person.name();
  if (message != nullptr) {
    ctx.values["message_ref"] = message->ref();
    ctx.values["message_version"] = absl::StrCat(message->version());
    ctx.values["message_kind"] = EnumLabel(message->kind());
    ctx.values["message_title"] = message->title();
    ctx.values["message_body"] = message->body();
  }
  for (const auto& [k, v] : values) ctx.values[k] = v;
  return RenderEmail(kind, ctx);
}

}  // namespace herald
