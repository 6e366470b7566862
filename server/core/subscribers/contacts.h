// How subscribers and people are reached: their contacts in order of
// preference, and the checks a contact must pass before it is stored.
// Stateless; thread-safe.
#ifndef HERALD_SERVER_CORE_SUBSCRIBERS_CONTACTS_H_
#define HERALD_SERVER_CORE_SUBSCRIBERS_CONTACTS_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "herald/v1/domain.pb.h"

namespace herald {

// `contacts` in order, or `email` alone when there are none.
std::vector<v1::Contact> EffectiveContacts(
    const std::string& email,
    const google::protobuf::RepeatedPtrField<v1::Contact>& contacts);

// InvalidArgument naming what is wrong ("address: ..."), for the caller to
// prefix with the field path. Webhook contacts need at least one signing
// secret.
absl::Status ValidateContact(const v1::Contact& contact);

// Bounds on what one subscriber record may hold.
inline constexpr size_t kMaxSubscriberNameBytes = 200;
inline constexpr size_t kMaxContactAddressBytes = 2048;  // a webhook URL
inline constexpr int kMaxContacts = 10;

// Checks a subscriber before it is stored: an id, at least one component
// (each known to `known_component`), at least one way to reach them, and
// valid contacts, each field within its bound. InvalidArgument names the
// field relative to the subscriber ("contacts[1].address: ...").
absl::Status ValidateSubscriber(
    const v1::Subscriber& subscriber,
    const std::function<bool(const std::string&)>& known_component);

// Enough of a contact's address for its owner to recognise it, and no more
// for anyone the link was forwarded to: an email address in full, an SMS
// number's last three digits ("…678"), a webhook's or Slack's host only
// (their URLs are secrets).
std::string ContactHint(const v1::Contact& contact);

// The key bytes of a Standard Webhooks secret: "whsec_" (optional) followed
// by non-empty base64; nullopt when `secret` is not one.
std::optional<std::string> WebhookSecretKey(absl::string_view secret);

}  // namespace herald

#endif  // HERALD_SERVER_CORE_SUBSCRIBERS_CONTACTS_H_
