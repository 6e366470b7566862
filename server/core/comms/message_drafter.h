// MessageDrafter renders herald's text from templates: customer-message
// drafts (from engineers' notes and the incident timeline), the email each
// recipient gets for a published message, and staff notifications.
// Immutable; thread-safe.
#ifndef HERALD_SERVER_CORE_COMMS_MESSAGE_DRAFTER_H_
#define HERALD_SERVER_CORE_COMMS_MESSAGE_DRAFTER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"
#include "server/core/org/organisation.h"
#include "server/core/renderer.h"

namespace herald {

struct Email {
  std::string subject;
  std::string text;
  std::string html;  // empty: a plain-text email
};

// The template prefix of a customer message's channels: its state for a
// status update ("investigating", "identified", "monitoring"), then
// "resolved", "maintenance", "apology". Templates are
// `<prefix>.title|body|email_subject|email_text|email.html|short_text`.
std::string TemplatePrefix(const v1::Message& message);

// The engineers' (or alerts') words `message`'s draft was made from that
// its current title or body, or a translation's, still holds exactly as
// written; empty once the point person has reworded them all.
std::vector<std::string> UneditedEngineerWords(const v1::Message& message);

// Which default text a translation was written against (Translation.
// source_digest): a short hash of `title` and `body`.
std::string TextDigest(absl::string_view title, absl::string_view body);

// The translation a reader in `locale` gets ("de-AT": "de-AT", else "de"),
// or null: they get the message's own title and body.
const v1::Translation* TranslationFor(const v1::Message& message,
                                      absl::string_view locale);
// The same among `translations` (a message's, kept apart from it).
const v1::Translation* TranslationFor(
    const google::protobuf::Map<std::string, v1::Translation>& translations,
    absl::string_view locale);

// The public status a component shows while an incident of `impact` is open.
v1::ComponentStatus ComponentStatusFor(v1::Impact impact);

// Whom a text is written for: the language (as Renderer::SpokenLocale
// gives it) and the time zone (an IANA name) of its words and times.
struct Reader {
  std::string locale;
  std::string time_zone;
};

// What only one recipient's copy of a customer message says.
struct Personal {
  std::string unsubscribe_url;  // linked from the footer when set
  std::string manage_url;       // their preferences page, when set
  // Apologies and follow-ups: the customer's facts, fixed at approval
  // (their components, impact window, credit or voucher).
  const v1::Amends* amends = nullptr;
  // Further values for the templates, e.g. a follow-up's answer links.
  std::map<std::string, std::string> values;
};

// The page that shows `incident` (its updates and postmortem), as the
// Statuspage JSON's shortlink has it.
std::string IncidentPageUrl(const std::string& public_url,
                            const v1::Incident& incident);

class MessageDrafter {
 public:
  MessageDrafter(const Renderer& renderer,
                 std::shared_ptr<const Organisation> org);

  // A status update for `incident` at `status`, from the engineer's
  // `update` (its text, ETA and next step). Returns the message with kind,
  // audience, status, title and body set.
  absl::StatusOr<v1::Message> DraftStatusUpdate(const v1::Incident& incident,
                                                v1::IncidentStatus status,
                                                const v1::Update& update) const;
  // "We are still working on this; next update by HH:MM": a status update at
  // the incident's current status, for when the update cadence has run out.
  absl::StatusOr<v1::Message> DraftHoldingStatement(
      const v1::Incident& incident, absl::Time next_update_by) const;
  // "The problem is back": an investigating status update (templates
  // reopened.title|body) for an incident customers were told is resolved,
  // whose alert fired again `since` after its resolution.
  absl::StatusOr<v1::Message> DraftReopened(const v1::Incident& incident,
                                            absl::Duration since) const;
  // The resolution notice; `incident.resolved_at` must be set.
  absl::StatusOr<v1::Message> DraftResolution(const v1::Incident& incident,
                                              absl::string_view note) const;
  // The announcement of `incident`'s maintenance window (which must be set),
  // with the engineer's `note`. Publishing it changes no component: the
  // window does that when it starts.
  absl::StatusOr<v1::Message> DraftMaintenance(const v1::Incident& incident,
                                               absl::string_view note) const;
  // One more notice in the life of `incident`'s maintenance (see
  // Message.maintenance_notice: "reminder", "started", "completed",
  // "extended" or "cancelled"), from templates maintenance_<notice>.title|
  // body, with `note` (why it was cancelled; an engineer's words) when not
  // empty.
  // Its channels' frame is the announcement's (maintenance.*), with the
  // flag notice_<notice> set.
  absl::StatusOr<v1::Message> DraftMaintenanceNotice(
      const v1::Incident& incident, absl::string_view notice,
      absl::string_view note) const;
  // The shared part of the personal apology; each customer's letter is
  // rendered around it by EmailFor().
  absl::StatusOr<v1::Message> DraftApology(const v1::Incident& incident,
                                           absl::string_view note) const;
  // The follow-up days after the apology: does everything work, did the
  // credit arrive (templates follow_up.*).
  absl::StatusOr<v1::Message> DraftFollowUp(const v1::Incident& incident) const;

  // The email `subscriber` receives for the published `message`: subject,
  // text and HTML parts, with what only their copy says, in their language
  // and time zone, greeting them by their preferred name.
  absl::StatusOr<Email> EmailFor(const v1::Message& message,
                                 const v1::Incident& incident,
                                 const v1::Subscriber& subscriber,
                                 const Personal& personal = {}) const;
  // The short text (SMS, chat) that says `message` in a line; with
  // `amends`, in the customer's own terms; with `subscriber`, in their
  // language and time zone and about their components.
  absl::StatusOr<std::string> ShortTextFor(
      const v1::Message& message, const v1::Incident& incident,
      const v1::Amends* amends = nullptr,
      const v1::Subscriber* subscriber = nullptr) const;

  // The organisation's default reader (customer_comms), who reads drafts and
  // the status page; and `subscriber` as their own fields, or those
  // defaults, make them.
  Reader OrganisationReader() const;
  Reader ReaderFor(const v1::Subscriber& subscriber) const;

  // A staff notification from templates `<kind>.email_subject|email_text`
  // (and `<kind>.email.html` if there is one);
  // with `message`, its ref, version, title and body are available too.
  // An email to a subscriber about their subscription (templates
  // `<kind>.email_*`): the page and their components, plus `values`
  // (confirm_url, unsubscribe_url, ...). Never their name: the form that
  // causes these is anonymous ("customer_name" is "there").
  absl::StatusOr<Email> SubscriberNotice(
      absl::string_view kind, const v1::Subscriber& subscriber,
      const std::map<std::string, std::string>& values) const;

  absl::StatusOr<Email> StaffEmail(
      absl::string_view kind, const v1::Incident& incident,
      const v1::PersonConfig& person, const v1::Message* message = nullptr,
      const std::map<std::string, std::string>& values = {}) const;

 private:
  TemplateContext IncidentContext(const v1::Incident& incident,
                                  v1::IncidentStatus status,
                                  const Reader& reader) const;
  TemplateContext MessageContext(const v1::Message& message,
                                 const v1::Incident& incident,
                                 const Reader& reader) const;
  // `text` (the approved words) with each moment `message`'s draft stated
  // (expected_fix_at, next_update_by), where it still reads as drafted in
  // the organisation's zone and language, in `reader`'s instead.
  std::string InReadersTime(const v1::Message& message, const Reader& reader,
                            absl::string_view text) const;
  // Adds `amends`' facts (components, window, credit) to `ctx`.
  void AddAmends(const v1::Amends& amends, const Reader& reader,
                 TemplateContext& ctx) const;
  // Narrows components_text to those `subscriber` follows, with the rest as
  // other_components_text.
  void AddTheirComponents(const v1::Incident& incident,
                          const v1::Subscriber& subscriber,
                          const Reader& reader, TemplateContext& ctx) const;
  absl::StatusOr<v1::Message> Draft(absl::string_view kind_name,
                                    v1::MessageKind kind, v1::Audience audience,
                                    v1::IncidentStatus status,
                                    const TemplateContext& ctx,
                                    const v1::Incident& incident) const;
  absl::StatusOr<Email> RenderEmail(absl::string_view kind,
                                    const TemplateContext& ctx) const;

  const Renderer& renderer_;
  std::shared_ptr<const Organisation> org_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_COMMS_MESSAGE_DRAFTER_H_
