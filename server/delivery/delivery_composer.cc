#include "server/delivery/delivery_composer.h"

#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "herald/enum_labels.h"
#include "herald/json_output.h"
#include "herald/v1/outbound.pb.h"
#include "server/base/text.h"
#include "server/core/subscribers/contacts.h"

namespace herald {

struct DeliveryComposer::Content {
  std::string reply_to;  // email: where a customer's reply reaches a person
  std::string subject;
  std::string text;
  std::string html;
  std::string short_text;
  v1::WebhookEvent event;
};

namespace {

std::string EventType(v1::MessageKind kind) {
  switch (kind) {
    case v1::MESSAGE_KIND_RESOLUTION:
      return "incident.resolved";
    case v1::MESSAGE_KIND_MAINTENANCE:
      return "maintenance.scheduled";
    case v1::MESSAGE_KIND_APOLOGY:
      return "incident.apology";
    case v1::MESSAGE_KIND_FOLLOW_UP:
      return "incident.follow_up";
    default:
      return "incident.updated";
  }
}

// `incident` is what its reader may know of it: a message's public snapshot
// for customers, the incident itself for staff.
void DescribeIncident(const v1::Incident& incident,
                      const std::string& public_url, v1::WebhookIncident* out) {
  out->set_ref(incident.ref());
  out->set_title(ScrubText(incident.title(), false));
  out->set_status(EnumLabel(incident.status()));
  out->set_impact(EnumLabel(incident.impact()));
  out->mutable_components()->CopyFrom(incident.component_ids());
  out->set_url(public_url);
  if (incident.has_opened_at())
    *out->mutable_started_at() = incident.opened_at();
  if (incident.has_resolved_at()) {
    *out->mutable_resolved_at() = incident.resolved_at();
  }
}

}  // namespace

DeliveryComposer::DeliveryComposer(const MessageDrafter& drafter,
                                   std::shared_ptr<const Organisation> org,
                                   ComposerOptions options)
    : drafter_(drafter), org_(std::move(org)), options_(std::move(options)) {}

absl::StatusOr<Recipient> DeliveryComposer::LoadRecipient(
    StoreReader& reader, const v1::Delivery& delivery) const {
  Recipient out;
  absl::string_view id = delivery.recipient();
  if (absl::ConsumePrefix(&id, "subscriber:")) {
    absl::StatusOr<v1::Subscriber> s = reader.GetSubscriber(std::string(id));
    if (!s.ok()) return s.status();
    out.wants_it = s->status() != v1::SUBSCRIBER_STATUS_UNSUBSCRIBED;
    out.contacts = EffectiveContacts(s->email(), s->contacts());
    out.subscriber = *std::move(s);
    return out;
  }
  if (absl::ConsumePrefix(&id, "person:")) {
    out.person = org_->FindPerson(std::string(id));
    if (out.person == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("person \"", id, "\" is no longer in the config"));
    }
    out.contacts =
        EffectiveContacts(out.person->email(), out.person->contacts());
    return out;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown recipient \"", delivery.recipient(), "\""));
}

absl::StatusOr<DeliveryComposer::Content> DeliveryComposer::SubscriberContent(
    StoreReader& reader, const v1::Delivery& delivery,
    const v1::Subscriber& who, v1::ChannelKind channel,
    const SubscriberLinks& links) const {
  absl::StatusOr<v1::Message> message =
      reader.GetMessage(delivery.message_id());
  if (!message.ok()) return message.status();
  v1::Incident incident = message->published_incident();
  if (!message->has_published_incident()) {
    // Published before herald kept the snapshot: the incident as it is now,
    // under the approved title, never its internal one.
    absl::StatusOr<v1::Incident> now =
        reader.GetIncident(message->incident_id());
    if (!now.ok()) return now.status();
    incident = *std::move(now);
    incident.set_title(message->title());
    incident.clear_description();
    if (message->kind() == v1::MESSAGE_KIND_STATUS_UPDATE ||
        message->kind() == v1::MESSAGE_KIND_RESOLUTION) {
      incident.set_status(message->incident_status());
    }
  }
  // Apologies and follow-ups speak of the customer's own amends, fixed
  // when the apology was approved.
  std::optional<v1::Amends> amends;
  if (message->kind() == v1::MESSAGE_KIND_APOLOGY ||
      message->kind() == v1::MESSAGE_KIND_FOLLOW_UP) {
    absl::StatusOr<v1::Amends> found =
        reader.FindAmends(message->incident_id(), who.id());
    if (!found.ok()) return found.status();
    amends = *std::move(found);
  }
  const v1::Amends* theirs = amends ? &*amends : nullptr;
  Content out;
  if (channel == v1::CHANNEL_KIND_EMAIL) {
    Personal personal{.unsubscribe_url = links.unsubscribe_url,
                      .manage_url = links.manage_url,
                      .amends = theirs};
    if (message->kind() == v1::MESSAGE_KIND_FOLLOW_UP &&
        options_.links != nullptr) {
      personal.values =
          FollowUpLinks(options_.public_url, *options_.links, amends->id());
    }
    absl::StatusOr<Email> email =
        drafter_.EmailFor(*message, incident, who, personal);
    if (!email.ok()) return email.status();
    out.subject = std::move(email->subject);
    out.text = std::move(email->text);
    out.html = std::move(email->html);
    out.reply_to = org_->VoiceFor(incident.rota_id()).reply_to;
    return out;
  }
  absl::StatusOr<std::string> short_text =
      drafter_.ShortTextFor(*message, incident, theirs, &who);
  if (!short_text.ok()) return short_text.status();
  out.short_text = *std::move(short_text);
  // The approved words in the reader's language, as the short text has
  // them, when they were translated.
  const v1::Translation* translation =
      TranslationFor(*message, drafter_.ReaderFor(who).locale);
  out.subject = ScrubText(
      translation != nullptr ? translation->title() : message->title(), false);
  out.event.set_type(EventType(message->kind()));
  DescribeIncident(incident, options_.public_url, out.event.mutable_incident());
  v1::WebhookMessage* m = out.event.mutable_message();
  m->set_ref(message->ref());
  m->set_kind(EnumLabel(message->kind()));
  m->set_title(out.subject);
  m->set_body(ScrubText(translation != nullptr ? translation->body()
                                               : message->body()));
  m->set_short_text(out.short_text);
  *m->mutable_published_at() = message->published_at();
  v1::WebhookRecipient* r = out.event.mutable_recipient();
  r->set_id(who.id());
  r->set_name(who.name());
  r->set_account(who.account());
  if (theirs != nullptr) {
    v1::WebhookAmends* a = out.event.mutable_amends();
    a->mutable_components()->CopyFrom(theirs->component_ids());
    *a->mutable_started_at() = theirs->started_at();
    *a->mutable_ended_at() = theirs->ended_at();
    a->set_credit_percent(theirs->credit().percent());
    a->set_credit_amount_cents(theirs->credit().amount_cents());
    a->set_currency(theirs->credit().currency());
    a->set_voucher_code(theirs->credit().voucher_code());
    a->set_voucher_value(theirs->credit().voucher_value());
    if (message->kind() == v1::MESSAGE_KIND_FOLLOW_UP &&
        options_.links != nullptr) {
      for (const auto& [name, url] :
           FollowUpLinks(options_.public_url, *options_.links, theirs->id())) {
        // "answer_still_broken_url" -> "still_broken"
        absl::string_view answer = name;
        absl::ConsumePrefix(&answer, "answer_");
        absl::ConsumeSuffix(&answer, "_url");
        (*a->mutable_answer_urls())[std::string(answer)] = url;
      }
    }
  }
  return out;
}

absl::StatusOr<DeliveryComposer::Content> DeliveryComposer::StoredContent(
    StoreReader& reader, const v1::Delivery& delivery,
    absl::string_view event_type, const std::string& recipient_id,
    const std::string& recipient_name) const {
  Content out;
  out.subject = delivery.subject();
  out.text = delivery.body();
  out.html = delivery.html_body();
  out.short_text = delivery.subject();
  out.event.set_type(std::string(event_type));
  if (delivery.incident_id() != 0) {
    if (absl::StatusOr<v1::Incident> incident =
            reader.GetIncident(delivery.incident_id());
        incident.ok()) {
      DescribeIncident(*incident, options_.public_url,
                       out.event.mutable_incident());
    }
  }
  out.event.mutable_message()->set_title(delivery.subject());
  out.event.mutable_message()->set_body(delivery.body());
  out.event.mutable_message()->set_short_text(delivery.subject());
  out.event.mutable_recipient()->set_id(recipient_id);
  out.event.mutable_recipient()->set_name(recipient_name);
  return out;
}

absl::StatusOr<DeliveryComposer::Content> DeliveryComposer::SubscriptionNotice(
    StoreReader& reader, const v1::Delivery& delivery,
    const v1::Subscriber& who) const {
  absl::StatusOr<Content> out = StoredContent(
      reader, delivery, "subscription.notice", who.id(), who.name());
  if (out.ok()) out->reply_to = org_->VoiceFor("").reply_to;
  return out;
}

absl::StatusOr<Outgoing> DeliveryComposer::Compose(StoreReader& reader,
                                                   const v1::Delivery& delivery,
                                                   const Recipient& recipient,
                                                   int contact) const {
  if (contact < 0 || contact >= static_cast<int>(recipient.contacts.size())) {
    return absl::OutOfRangeError(absl::StrCat("no contact #", contact));
  }
  const v1::Contact& c = recipient.contacts[contact];
  const v1::Subscriber& who = recipient.subscriber;
  SubscriberLinks links;
  if (recipient.person == nullptr && options_.links != nullptr) {
    links = LinksFor(options_.public_url, *options_.links, who.id());
  }
  absl::StatusOr<Content> content =
      recipient.person != nullptr
          ? StoredContent(reader, delivery, "staff.notification",
                          recipient.person->id(), recipient.person->name())
      : delivery.message_id() == 0
          ? SubscriptionNotice(reader, delivery, who)
          : SubscriberContent(reader, delivery, who, c.channel(), links);
  if (!content.ok()) return content.status();
  Outgoing out;
  out.channel = c.channel();
  out.address = c.address();
  out.idempotency_key = absl::StrCat(delivery.idempotency_key(), ".", contact);
  switch (c.channel()) {
    case v1::CHANNEL_KIND_EMAIL:
      out.subject = std::move(content->subject);
      out.text = std::move(content->text);
      out.html = std::move(content->html);
      out.unsubscribe_url = links.unsubscribe_url;
      out.reply_to = std::move(content->reply_to);
      break;
    case v1::CHANNEL_KIND_WEBHOOK:
      out.signing_secrets = {c.signing_secrets().begin(),
                             c.signing_secrets().end()};
      *content->event.mutable_timestamp() = delivery.created_at();
      out.json = ToReplyJson(content->event);
      break;
    case v1::CHANNEL_KIND_SLACK: {
      v1::SlackMessage slack;
      slack.set_text(absl::StrCat(
          "*", content->subject, "*\n", content->short_text,
          options_.public_url.empty()
              ? ""
              : absl::StrCat("\n<", options_.public_url, "|Status page>")));
      out.json = ToReplyJson(slack);
      break;
    }
    case v1::CHANNEL_KIND_SMS: {
      if (options_.sms_gateway_url.empty()) {
        return absl::FailedPreconditionError(
            "no delivery.sms_gateway is configured");
      }
      v1::SmsRequest sms;
      sms.set_to(c.address());
      sms.set_text(content->short_text);
      sms.set_idempotency_key(out.idempotency_key);
      out.address = options_.sms_gateway_url;
      out.signing_secrets = options_.sms_gateway_secrets;
      out.json = ToReplyJson(sms);
      break;
    }
    default:
      return absl::InvalidArgumentError("contact has no channel");
  }
  return out;
}

}  // namespace herald
