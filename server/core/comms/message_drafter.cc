#include "server/core/comms/message_drafter.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "herald/enum_labels.h"
#include "server/base/locale_text.h"
#include "server/base/proto_time.h"
#include "server/base/secret_token.h"
#include "server/base/text.h"
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

// Template values a reader sees about a set of components: their names as
// the reader's language lists them, and whether there is one (for "it is"
// against "they are").
void AddComponents(const Organisation& org, const std::vector<std::string>& ids,
                   absl::string_view locale, absl::string_view prefix,
                   TemplateContext& ctx) {
  std::vector<std::string> names;
  for (const std::string& id : ids) {
    const v1::ComponentConfig* c = org.FindComponent(id);
    names.push_back(c != nullptr && !c->name().empty() ? c->name() : id);
  }
  ctx.values[absl::StrCat(prefix, "_text")] = FormatList(names, locale);
  ctx.flags[absl::StrCat(prefix, "_one")] = names.size() == 1;
  ctx.flags[absl::StrCat(prefix, "_many")] = names.size() > 1;
}

// `draft` marked with the engineers' `words` it was made from (the empty
// ones skipped), so that approving them unedited is a choice.
absl::StatusOr<v1::Message> WithEngineerWords(
    absl::StatusOr<v1::Message> draft, const std::vector<std::string>& words) {
  if (!draft.ok()) return draft;
  for (const std::string& w : words) {
    if (!w.empty()) draft->add_engineer_words(w);
  }
  return draft;
}

}  // namespace

std::vector<std::string> UneditedEngineerWords(const v1::Message& message) {
  const auto holds = [&](const std::string& w) {
    if (absl::StrContains(message.title(), w) ||
        absl::StrContains(message.body(), w)) {
      return true;
    }
    for (const auto& [locale, t] : message.translations()) {
      if (absl::StrContains(t.title(), w) || absl::StrContains(t.body(), w)) {
        return true;
      }
    }
    return false;
  };
  std::vector<std::string> out;
  for (const std::string& w : message.engineer_words()) {
    if (holds(w)) out.push_back(w);
  }
  return out;
}

std::string TextDigest(absl::string_view title, absl::string_view body) {
  // The title's length first, so that no split of the same bytes between
  // title and body collides.
  return Sha256Hex(absl::StrCat(title.size(), ":", title, body)).substr(0, 16);
}

const v1::Translation* TranslationFor(const v1::Message& message,
                                      absl::string_view locale) {
  return TranslationFor(message.translations(), locale);
}

const v1::Translation* TranslationFor(
    const google::protobuf::Map<std::string, v1::Translation>& translations,
    absl::string_view locale) {
  if (translations.empty()) return nullptr;
  for (const std::string& tag : LocaleFallbacks(locale)) {
    auto it = translations.find(tag);
    if (it != translations.end()) return &it->second;
  }
  return nullptr;
}

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

Reader MessageDrafter::OrganisationReader() const {
  return Reader{renderer_.SpokenLocale(org_->default_locale()),
                org_->default_time_zone()};
}

Reader MessageDrafter::ReaderFor(const v1::Subscriber& subscriber) const {
  return Reader{renderer_.SpokenLocale(subscriber.locale().empty()
                                           ? org_->default_locale()
                                           : subscriber.locale()),
                // A zone this machine no longer knows (tzdata renames
                // zones) reads as the organisation's, not as UTC.
                subscriber.time_zone().empty() ||
                        !ValidateTimeZoneName(subscriber.time_zone()).ok()
                    ? org_->default_time_zone()
                    : subscriber.time_zone()};
}

TemplateContext MessageDrafter::IncidentContext(const v1::Incident& incident,
                                                v1::IncidentStatus status,
                                                const Reader& reader) const {
  TemplateContext ctx;
  ctx.locale = reader.locale;
  const auto when = [&](absl::Time t) {
    return FormatDateTime(t, reader.locale, reader.time_zone);
  };
  ctx.values["incident_ref"] = incident.ref();
  ctx.values["incident_title"] = incident.title();
  const v1::PersonConfig* point_person =
      org_->FindPerson(incident.point_person_id());
  ctx.values["point_person_name"] =
      point_person ? point_person->name() : incident.point_person_id();
  AddComponents(
      *org_, {incident.component_ids().begin(), incident.component_ids().end()},
      reader.locale, "components", ctx);
  ctx.values["impact_text"] = EnumLabel(incident.impact());
  ctx.values["status_text"] = EnumLabel(status);
  ctx.values["page_name"] = org_->config().server().page_name();
  ctx.values["public_url"] = org_->config().server().public_url();
  ctx.flags[EnumLabel(status)] = true;
  const absl::Time opened = FromProtoTime(incident.opened_at());
  ctx.values["started_at"] = when(opened);
  if (incident.has_resolved_at()) {
    const absl::Time resolved = FromProtoTime(incident.resolved_at());
    ctx.values["ended_at"] = when(resolved);
    ctx.values["duration_text"] =
        FormatDuration(resolved - opened, reader.locale);
  }
  ctx.values["incident_url"] =
      IncidentPageUrl(org_->config().server().public_url(), incident);
  if (incident.has_postmortem()) {
    ctx.values["postmortem_url"] = ctx.values["incident_url"];
  }
  if (incident.has_maintenance()) {
    const absl::Time from = FromProtoTime(incident.maintenance().starts_at());
    const absl::Time to = FromProtoTime(incident.maintenance().ends_at());
    ctx.values["window_start"] = when(from);
    ctx.values["window_end"] = when(to);
    ctx.values["window_duration"] = FormatDuration(to - from, reader.locale);
  }
  // Who signs, and whether a reply reaches a person.
  const LetterVoice voice = org_->VoiceFor(incident.rota_id());
  if (!voice.signer_name.empty()) {
    ctx.values["signer_name"] = voice.signer_name;
    ctx.values["signer_title"] = voice.signer_title;
    ctx.flags["signed"] = true;
  }
  ctx.flags["reply_to"] = !voice.reply_to.empty();
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
  const Reader reader = OrganisationReader();
  TemplateContext ctx = IncidentContext(incident, status, reader);
  ctx.values["note"] = AsSentence(update.text());
  if (update.has_eta()) {
    ctx.values["eta"] = FormatTimeOfDay(FromProtoTime(update.eta()),
                                        reader.locale, reader.time_zone);
  }
  ctx.values["next_step"] = AsSentence(update.next_step());
  const std::vector<std::string> words = {ctx.values["note"],
                                          ctx.values["next_step"]};
  if (status != v1::INCIDENT_STATUS_INVESTIGATING &&
      status != v1::INCIDENT_STATUS_IDENTIFIED &&
      status != v1::INCIDENT_STATUS_MONITORING) {
    return absl::InvalidArgumentError(
        absl::StrCat("a status update cannot say \"", EnumLabel(status),
                     "\"; it says investigating, identified or monitoring"));
  }
  absl::StatusOr<v1::Message> m = WithEngineerWords(
      Draft(EnumLabel(status), v1::MESSAGE_KIND_STATUS_UPDATE,
            v1::AUDIENCE_COMPONENT_SUBSCRIBERS, status, ctx, incident),
      words);
  if (m.ok() && update.has_eta()) *m->mutable_expected_fix_at() = update.eta();
  return m;
}

absl::StatusOr<v1::Message> MessageDrafter::DraftHoldingStatement(
    const v1::Incident& incident, absl::Time next_update_by) const {
  const Reader reader = OrganisationReader();
  TemplateContext ctx = IncidentContext(incident, incident.status(), reader);
  ctx.values["next_update_by"] =
      FormatTimeOfDay(next_update_by, reader.locale, reader.time_zone);
  absl::StatusOr<v1::Message> m = Draft(
      "holding", v1::MESSAGE_KIND_STATUS_UPDATE,
      v1::AUDIENCE_COMPONENT_SUBSCRIBERS, incident.status(), ctx, incident);
  if (m.ok()) *m->mutable_next_update_by() = ToProtoTime(next_update_by);
  return m;
}

absl::StatusOr<v1::Message> MessageDrafter::DraftReopened(
    const v1::Incident& incident, absl::Duration since) const {
  const Reader reader = OrganisationReader();
  TemplateContext ctx =
      IncidentContext(incident, v1::INCIDENT_STATUS_INVESTIGATING, reader);
  ctx.values["since_text"] = FormatDuration(since, reader.locale);
  return Draft("reopened", v1::MESSAGE_KIND_STATUS_UPDATE,
               v1::AUDIENCE_COMPONENT_SUBSCRIBERS,
               v1::INCIDENT_STATUS_INVESTIGATING, ctx, incident);
}

absl::StatusOr<v1::Message> MessageDrafter::DraftResolution(
    const v1::Incident& incident, absl::string_view note) const {
  TemplateContext ctx = IncidentContext(incident, v1::INCIDENT_STATUS_RESOLVED,
                                        OrganisationReader());
  ctx.values["note"] = AsSentence(note);
  return WithEngineerWords(Draft("resolved", v1::MESSAGE_KIND_RESOLUTION,
                                 v1::AUDIENCE_COMPONENT_SUBSCRIBERS,
                                 v1::INCIDENT_STATUS_RESOLVED, ctx, incident),
                           {ctx.values["note"]});
}

absl::StatusOr<v1::Message> MessageDrafter::DraftMaintenance(
    const v1::Incident& incident, absl::string_view note) const {
  TemplateContext ctx =
      IncidentContext(incident, incident.status(), OrganisationReader());
  ctx.values["note"] = AsSentence(note);
  absl::StatusOr<v1::Message> m =
      WithEngineerWords(Draft("maintenance", v1::MESSAGE_KIND_MAINTENANCE,
                              v1::AUDIENCE_COMPONENT_SUBSCRIBERS,
                              v1::INCIDENT_STATUS_SCHEDULED, ctx, incident),
                        {ctx.values["note"]});
  if (m.ok()) m->set_maintenance_notice("announcement");
  return m;
}

absl::StatusOr<v1::Message> MessageDrafter::DraftMaintenanceNotice(
    const v1::Incident& incident, absl::string_view notice,
    absl::string_view note) const {
  // What the maintenance is, once the notice is out.
  const v1::IncidentStatus status =
      notice == "reminder" ? v1::INCIDENT_STATUS_SCHEDULED
      : notice == "started" || notice == "extended"
          ? v1::INCIDENT_STATUS_IN_PROGRESS
          : v1::INCIDENT_STATUS_COMPLETED;
  TemplateContext ctx = IncidentContext(incident, status, OrganisationReader());
  if (!note.empty()) ctx.values["note"] = AsSentence(note);
  absl::StatusOr<v1::Message> m =
      Draft(absl::StrCat("maintenance_", notice), v1::MESSAGE_KIND_MAINTENANCE,
            v1::AUDIENCE_COMPONENT_SUBSCRIBERS, status, ctx, incident);
  if (!note.empty()) m = WithEngineerWords(std::move(m), {ctx.values["note"]});
  if (!m.ok()) return m.status();
  m->set_maintenance_notice(std::string(notice));
  return m;
}

absl::StatusOr<v1::Message> MessageDrafter::DraftApology(
    const v1::Incident& incident, absl::string_view note) const {
  TemplateContext ctx = IncidentContext(incident, v1::INCIDENT_STATUS_RESOLVED,
                                        OrganisationReader());
  ctx.values["note"] = AsSentence(note);
  return WithEngineerWords(Draft("apology", v1::MESSAGE_KIND_APOLOGY,
                                 v1::AUDIENCE_AFFECTED_CUSTOMERS,
                                 v1::INCIDENT_STATUS_RESOLVED, ctx, incident),
                           {ctx.values["note"]});
}

absl::StatusOr<v1::Message> MessageDrafter::DraftFollowUp(
    const v1::Incident& incident) const {
  return Draft("follow_up", v1::MESSAGE_KIND_FOLLOW_UP,
               v1::AUDIENCE_AFFECTED_CUSTOMERS, v1::INCIDENT_STATUS_RESOLVED,
               IncidentContext(incident, v1::INCIDENT_STATUS_RESOLVED,
                               OrganisationReader()),
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
  // Templates write a paragraph on one line; the text part breaks it
  // between words, as a person writing plain-text mail would.
  return Email{*std::move(subject), WrapParagraphs(*text, 72) + "\n",
               html.ok() ? *std::move(html) : std::string()};
}

std::string MessageDrafter::InReadersTime(const v1::Message& message,
                                          const Reader& reader,
                                          absl::string_view text) const {
  const Reader drafted = OrganisationReader();
  std::vector<std::pair<std::string, std::string>> moments;
  for (const google::protobuf::Timestamp* at :
       {&message.expected_fix_at(), &message.next_update_by()}) {
    if (at->seconds() == 0 && at->nanos() == 0) continue;
    const absl::Time t = FromProtoTime(*at);
    std::string as_drafted =
        FormatTimeOfDay(t, drafted.locale, drafted.time_zone);
    std::string theirs = FormatTimeOfDay(t, reader.locale, reader.time_zone);
    if (as_drafted != theirs) {
      moments.emplace_back(std::move(as_drafted), std::move(theirs));
    }
  }
  return moments.empty() ? std::string(text)
                         : absl::StrReplaceAll(text, moments);
}

TemplateContext MessageDrafter::MessageContext(const v1::Message& message,
                                               const v1::Incident& incident,
                                               const Reader& reader) const {
  TemplateContext ctx =
      IncidentContext(incident, message.incident_status(), reader);
  // A status message makes its incident public. An apology or follow-up
  // may be about one resolved quietly, which has no page: those letters
  // link to the status page instead.
  if (!incident.customer_visible() &&
      (message.kind() == v1::MESSAGE_KIND_APOLOGY ||
       message.kind() == v1::MESSAGE_KIND_FOLLOW_UP)) {
    ctx.values["incident_url"] = org_->config().server().public_url();
  }
  // The approved words in the reader's language when they were translated;
  // else the message's own, inside the reader's language's frame; with the
  // moments the draft stated in the reader's own zone.
  const v1::Translation* translation = TranslationFor(message, reader.locale);
  const std::string body = InReadersTime(
      message, reader,
      translation != nullptr ? translation->body() : message.body());
  ctx.values["title"] = InReadersTime(
      message, reader,
      translation != nullptr ? translation->title() : message.title());
  ctx.values["body"] = body;
  ctx.flags["translated"] = translation != nullptr;
  if (!message.maintenance_notice().empty()) {
    ctx.flags[absl::StrCat("notice_", message.maintenance_notice())] = true;
  }
  // For HTML, where line breaks collapse: one entry per paragraph.
  for (absl::string_view p :
       absl::StrSplit(body, "\n\n", absl::SkipWhitespace())) {
    TemplateContext paragraph;
    paragraph.values["text"] = std::string(absl::StripAsciiWhitespace(p));
    ctx.lists["body_paragraphs"].push_back(std::move(paragraph));
  }
  ctx.lists.try_emplace("body_paragraphs");
  return ctx;
}

void MessageDrafter::AddAmends(const v1::Amends& amends, const Reader& reader,
                               TemplateContext& ctx) const {
  if (!amends.customer_name().empty() &&
      !ctx.values.contains("customer_name")) {
    ctx.values["customer_name"] = amends.customer_name();
  }
  AddComponents(*org_,
                {amends.component_ids().begin(), amends.component_ids().end()},
                reader.locale, "components", ctx);
  // A letter is about what broke for them, nothing else.
  ctx.flags["other_components"] = false;
  const absl::Time start = FromProtoTime(amends.started_at());
  const absl::Time end = FromProtoTime(amends.ended_at());
  ctx.values["started_at"] =
      FormatDateTime(start, reader.locale, reader.time_zone);
  ctx.values["ended_at"] = FormatDateTime(end, reader.locale, reader.time_zone);
  ctx.values["duration_text"] = FormatDuration(end - start, reader.locale);
  const v1::Credit& credit = amends.credit();
  ctx.values["credit_text"] = DescribeCredit(credit);
  ctx.values["voucher_code"] = credit.voucher_code();
  ctx.flags["credit"] = OffersSomething(credit);
  // The parts, for languages that word the offer their own way.
  ctx.flags["credit_percent"] = credit.percent() > 0;
  ctx.values["credit_percent_text"] =
      FormatPercent(credit.percent(), reader.locale);
  ctx.flags["credit_amount"] = credit.amount_cents() > 0;
  ctx.values["credit_amount_text"] =
      FormatMoney(credit.amount_cents(), credit.currency(), reader.locale);
  ctx.flags["voucher"] = !credit.voucher_value().empty();
  ctx.values["voucher_value"] = credit.voucher_value();
}

// The incident's components split for one reader: those they follow, and
// the rest, which their copy may sum up in one sentence.
void MessageDrafter::AddTheirComponents(const v1::Incident& incident,
                                        const v1::Subscriber& subscriber,
                                        const Reader& reader,
                                        TemplateContext& ctx) const {
  std::vector<std::string> theirs, others;
  for (const auto& c : incident.component_ids()) {
    const bool follows = std::find(subscriber.component_ids().begin(),
                                   subscriber.component_ids().end(),
                                   c) != subscriber.component_ids().end();
    (follows ? theirs : others).push_back(c);
  }
  if (theirs.empty()) return;  // told for another reason: name them all
  AddComponents(*org_, theirs, reader.locale, "components", ctx);
  AddComponents(*org_, others, reader.locale, "other_components", ctx);
  ctx.flags["other_components"] = !others.empty();
}

absl::StatusOr<std::string> MessageDrafter::ShortTextFor(
    const v1::Message& message, const v1::Incident& incident,
    const v1::Amends* amends, const v1::Subscriber* subscriber) const {
  const Reader reader =
      subscriber != nullptr ? ReaderFor(*subscriber) : OrganisationReader();
  TemplateContext ctx = MessageContext(message, incident, reader);
  if (subscriber != nullptr)
    AddTheirComponents(incident, *subscriber, reader, ctx);
  if (amends != nullptr) AddAmends(*amends, reader, ctx);
  return renderer_.Render(absl::StrCat(TemplatePrefix(message), ".short_text"),
                          ctx);
}

absl::StatusOr<Email> MessageDrafter::EmailFor(const v1::Message& message,
                                               const v1::Incident& incident,
                                               const v1::Subscriber& subscriber,
                                               const Personal& personal) const {
  const Reader reader = ReaderFor(subscriber);
  TemplateContext ctx = MessageContext(message, incident, reader);
  if (!personal.unsubscribe_url.empty()) {
    ctx.values["unsubscribe_url"] = personal.unsubscribe_url;
  }
  if (!personal.manage_url.empty()) {
    ctx.values["manage_url"] = personal.manage_url;
  }
  // A letter greets them as they like to be called; else by the name they
  // had when their apology was approved; else by their name.
  const std::string& greeting_name =
      !subscriber.preferred_name().empty() ? subscriber.preferred_name()
      : personal.amends != nullptr && !personal.amends->customer_name().empty()
          ? personal.amends->customer_name()
          : subscriber.name();
  if (!greeting_name.empty()) ctx.values["customer_name"] = greeting_name;
  ctx.flags["named"] = !greeting_name.empty();
  ctx.values["customer_full_name"] = subscriber.name();
  ctx.values["customer_account"] = subscriber.account();
  ctx.values["customer_plan"] = subscriber.plan();
  AddTheirComponents(incident, subscriber, reader, ctx);
  if (personal.amends != nullptr) AddAmends(*personal.amends, reader, ctx);
  for (const auto& [k, v] : personal.values) ctx.values[k] = v;
  return RenderEmail(TemplatePrefix(message), ctx);
}

absl::StatusOr<Email> MessageDrafter::SubscriberNotice(
    absl::string_view kind, const v1::Subscriber& subscriber,
    const std::map<std::string, std::string>& values) const {
  const Reader reader = ReaderFor(subscriber);
  TemplateContext ctx;
  ctx.locale = reader.locale;
  ctx.values["page_name"] = org_->config().server().page_name();
  ctx.values["public_url"] = org_->config().server().public_url();
  // Anyone can make herald send these to any address: they carry nothing
  // the requester typed but the address, and not the name in particular.
  ctx.flags["named"] = false;
  AddComponents(
      *org_,
      {subscriber.component_ids().begin(), subscriber.component_ids().end()},
      reader.locale, "components", ctx);
  for (const auto& [k, v] : values) ctx.values[k] = v;
  return RenderEmail(kind, ctx);
}

absl::StatusOr<Email> MessageDrafter::StaffEmail(
    absl::string_view kind, const v1::Incident& incident,
    const v1::PersonConfig& person, const v1::Message* message,
    const std::map<std::string, std::string>& values) const {
  // Staff read herald in English and in UTC, as the console does.
  TemplateContext ctx =
      IncidentContext(incident, incident.status(), Reader{"en", "UTC"});
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
