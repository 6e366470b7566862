#include "server/core/subscribers/contacts.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/base/locale_text.h"
#include "server/base/text.h"

namespace herald {
namespace {

bool HasSpaceOrAngle(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '<' ||
           c == '>';
  });
}

}  // namespace

std::vector<v1::Contact> EffectiveContacts(
    const std::string& email,
    const google::protobuf::RepeatedPtrField<v1::Contact>& contacts) {
  if (!contacts.empty()) return {contacts.begin(), contacts.end()};
  if (email.empty()) return {};
  v1::Contact c;
  c.set_channel(v1::CHANNEL_KIND_EMAIL);
  c.set_address(email);
  return {c};
}

std::optional<std::string> WebhookSecretKey(absl::string_view secret) {
  absl::ConsumePrefix(&secret, "whsec_");
  std::string key;
  if (!absl::Base64Unescape(secret, &key) || key.empty()) return std::nullopt;
  return key;
}

absl::Status ValidateContact(const v1::Contact& contact) {
  const std::string& a = contact.address();
  if (absl::Status s = CheckLength("address", a, kMaxContactAddressBytes);
      !s.ok()) {
    return s;
  }
  switch (contact.channel()) {
    case v1::CHANNEL_KIND_EMAIL:
      // Printable ASCII only: the address goes into an SMTP command and a
      // To: header as it is (no SMTPUTF8), where a control byte would
      // truncate or break them.
      if (HasSpaceOrAngle(a) || std::count(a.begin(), a.end(), '@') != 1 ||
          a.front() == '@' || a.back() == '@' ||
          std::any_of(a.begin(), a.end(),
                      [](char c) { return c < 0x21 || c > 0x7e; })) {
        return absl::InvalidArgumentError(
            absl::StrCat("address: \"", a, "\" is not an email address"));
      }
      break;
    case v1::CHANNEL_KIND_WEBHOOK:
    case v1::CHANNEL_KIND_SLACK:
      if (HasSpaceOrAngle(a) || !(absl::StartsWith(a, "https://") ||
                                  absl::StartsWith(a, "http://"))) {
        return absl::InvalidArgumentError(
            "address: must be an http:// or https:// URL");
      }
      break;
    case v1::CHANNEL_KIND_SMS: {
      const bool digits = a.size() >= 9 && a.size() <= 16 && a[0] == '+' &&
                          std::all_of(a.begin() + 1, a.end(), [](char c) {
                            return absl::ascii_isdigit(c);
                          });
      if (!digits) {
        return absl::InvalidArgumentError(absl::StrCat(
            "address: \"", a,
            "\" is not an E.164 phone number (\"+\" and 8 to 15 digits)"));
      }
      break;
    }
    default:
      return absl::InvalidArgumentError(
          "channel: must be email, webhook, slack or sms");
  }
  if (contact.channel() == v1::CHANNEL_KIND_WEBHOOK &&
      contact.signing_secrets().empty()) {
    return absl::InvalidArgumentError(
        "signing_secrets: a webhook needs at least one (\"whsec_\" + base64)");
  }
  for (int i = 0; i < contact.signing_secrets_size(); ++i) {
    if (!WebhookSecretKey(contact.signing_secrets(i))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "signing_secrets[", i, "]: not \"whsec_\" followed by base64"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSubscriber(
    const v1::Subscriber& subscriber,
    const std::function<bool(const std::string&)>& known_component) {
  const std::string& id = subscriber.id();
  const bool id_ok = !id.empty() && id.size() <= 128 &&
                     std::all_of(id.begin(), id.end(), [](char c) {
                       return absl::ascii_isalnum(c) || c == '-' || c == '_' ||
                              c == '.' || c == '@' || c == '+';
                     });
  if (!id_ok) {
    return absl::InvalidArgumentError(
        "id: expected up to 128 letters, digits, '-', '_', '.', '@' or '+'");
  }
  if (!subscriber.email().empty()) {
    v1::Contact email;
    email.set_channel(v1::CHANNEL_KIND_EMAIL);
    email.set_address(subscriber.email());
    if (!ValidateContact(email).ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "email: \"", subscriber.email(), "\" is not an email address"));
    }
  }
  for (const auto& [field, text, max] :
       {std::tuple<const char*, const std::string&, size_t>{
            "name", subscriber.name(), kMaxSubscriberNameBytes},
        {"email", subscriber.email(), 254},  // RFC 5321's limit on a path
        {"account", subscriber.account(), 128},
        {"plan", subscriber.plan(), 128},
        {"preferred_name", subscriber.preferred_name(),
         kMaxSubscriberNameBytes},
        {"locale", subscriber.locale(), kMaxLocaleTagBytes},
        {"time_zone", subscriber.time_zone(), 64}}) {
    if (absl::Status s = CheckLength(field, text, max); !s.ok()) return s;
  }
  if (!subscriber.locale().empty()) {
    if (absl::StatusOr<std::string> tag =
            CanonicalLocaleTag(subscriber.locale());
        !tag.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "locale: \"", subscriber.locale(), "\": ", tag.status().message()));
    }
  }
  if (!subscriber.time_zone().empty()) {
    if (absl::Status s = ValidateTimeZoneName(subscriber.time_zone());
        !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "time_zone: \"", subscriber.time_zone(), "\": ", s.message()));
    }
  }
  if (subscriber.contacts_size() > kMaxContacts) {
    return absl::InvalidArgumentError(
        absl::StrCat("contacts: at most ", kMaxContacts, " per subscriber"));
  }
  if (subscriber.email().empty() && subscriber.contacts().empty()) {
    return absl::InvalidArgumentError(
        "contacts: give an email address or at least one contact");
  }
  for (int i = 0; i < subscriber.contacts_size(); ++i) {
    if (absl::Status s = ValidateContact(subscriber.contacts(i)); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("contacts[", i, "].", s.message()));
    }
  }
  if (subscriber.component_ids().empty()) {
    return absl::InvalidArgumentError(
        "component_ids: subscribe to at least one component");
  }
  for (int i = 0; i < subscriber.component_ids_size(); ++i) {
    if (!known_component(subscriber.component_ids(i))) {
      return absl::InvalidArgumentError(
          absl::StrCat("component_ids[", i, "]: unknown component \"",
                       subscriber.component_ids(i), "\""));
    }
  }
  return absl::OkStatus();
}

std::string ContactHint(const v1::Contact& contact) {
  const std::string& address = contact.address();
  switch (contact.channel()) {
    case v1::CHANNEL_KIND_EMAIL:
      return address;
    case v1::CHANNEL_KIND_SMS:
      return address.size() > 3
                 ? absl::StrCat("\u2026", address.substr(address.size() - 3))
                 : "\u2026";
    default: {
      // "https://hooks.slack.com/services/..." -> "hooks.slack.com"
      absl::string_view rest = address;
      const size_t scheme = rest.find("://");
      if (scheme != absl::string_view::npos) rest.remove_prefix(scheme + 3);
      rest = rest.substr(0, rest.find_first_of("/?#"));
      const size_t at = rest.rfind('@');  // never show credentials
      if (at != absl::string_view::npos) rest.remove_prefix(at + 1);
      return std::string(rest);
    }
  }
}

}  // namespace herald
