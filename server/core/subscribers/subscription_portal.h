// SubscriptionPortal is self-service for customers, behind the status page:
// subscribing with double opt-in, confirming, and unsubscribing through the
// signed links herald emails. Nobody signs in: the link tokens (LinkTokens)
// are the proof.
//
//   Subscribe    stores a pending subscriber and queues a confirmation
//                email; an address that is already subscribed gets a note
//                saying so instead. The answer is the same either way, so
//                the form does not tell who subscribes. The notices carry
//                nothing the anonymous requester typed but the address (not
//                their name), so the form cannot make herald send someone
//                else's text. Limits: each client (by network) makes at most
//                max_requests_per_minute requests a minute; one address gets
//                at most one email per resend interval (durable) and a few
//                a day; the tables behind them are bounded.
//   Confirm      makes a pending subscriber active (idempotent).
//   Unsubscribe  stops every later delivery (idempotent); the record stays,
//                so operators and imports cannot re-add them.
//   Preferences  what an active subscriber changes through the link in
//                every email: components, the order of their channels,
//                language and time zone; each change is audited.
//   PurgeUnconfirmed  removes pending subscribers whose last confirmation
//                link has expired (confirmation_ttl), run periodically.
//
// Thread-safe.
#ifndef HERALD_SERVER_CORE_SUBSCRIBERS_SUBSCRIPTION_PORTAL_H_
#define HERALD_SERVER_CORE_SUBSCRIBERS_SUBSCRIPTION_PORTAL_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"
#include "server/base/keyed_rate_limiter.h"
#include "server/core/comms/message_drafter.h"
#include "server/core/core_deps.h"
#include "server/core/subscribers/link_tokens.h"
#include "server/core/subscribers/stored_rate_limit.h"

namespace herald {

struct SubscribeRequest {
  std::string email;
  std::string name;                        // optional
  std::vector<std::string> component_ids;  // empty: every component
  // The requester's network address as text (the HTTP peer), for the
  // per-client rate limit; empty: unknown (all unknowns share one limit).
  std::string client;
  std::string locale;     // a language tag; "": the organisation's
  std::string time_zone;  // an IANA zone; "": the organisation's
};

// What a subscriber may change on their preferences page.
struct Preferences {
  std::vector<std::string> component_ids;  // at least one
  // Their contacts' positions as stored, first preferred: each once, none
  // left out. Empty: the order stays.
  std::vector<int> channel_order;
  // ChannelsFingerprint of the contacts the page showed, so that an order
  // is never applied to contacts changed since.
  std::string channels_fingerprint;
  std::string locale;     // a language tag; "": the organisation's
  std::string time_zone;  // an IANA zone; "": the organisation's
};

// Bounds on the anonymous form that are not in the config.
struct SubscriptionLimits {
  // Notices (confirmation or "already subscribed") one address receives per
  // day, on top of the durable one per resend interval.
  int notices_per_address_per_day = 3;
  // Clients whose counts each heraldd keeps in memory (the first check,
  // which spares the store a flood); beyond, the oldest go.
  size_t max_tracked_clients = 10000;
};

class SubscriptionPortal {
 public:
  // `wake_senders` is called after a confirmation email is queued.
  SubscriptionPortal(const CoreDeps& deps, const MessageDrafter& drafter,
                     const LinkTokens& links,
                     std::function<void()> wake_senders = {},
                     SubscriptionLimits limits = {});

  // InvalidArgument names the field ("email: ...", "name: ...");
  // ResourceExhausted when this client is over its rate (counted in the
  // store, across every heraldd on it); FailedPrecondition
  // when self-service is off. An address over its own limit is answered OK
  // and sent nothing, like one within its resend interval.
  absl::Status Subscribe(const SubscribeRequest& request);
  absl::StatusOr<v1::Subscriber> Confirm(absl::string_view token) const;
  absl::StatusOr<v1::Subscriber> Unsubscribe(absl::string_view token) const;

  // The subscriber a preferences link is for, to fill their page in.
  // InvalidArgument for a bad link; NotFound when the subscription is
  // gone; FailedPrecondition when they unsubscribed or never confirmed.
  absl::StatusOr<v1::Subscriber> Subscription(absl::string_view token) const;
  // Stores `preferences` for the subscriber the link is for (errors as
  // Subscription, and InvalidArgument naming the field: "component: ",
  // "channels: ", "locale: ", "time_zone: "), and records what changed
  // in the audit log, as "subscriber:<id>". Saving what is already stored
  // changes nothing and records nothing.
  absl::StatusOr<v1::Subscriber> SavePreferences(
      absl::string_view token, const Preferences& preferences) const;
  // A keyed digest of `subscriber`'s contacts, for the preferences page to
  // send back with a new order; it reveals nothing of the addresses.
  std::string ChannelsFingerprint(const v1::Subscriber& subscriber) const;

  // Checks a link without acting on it, for the page that asks the reader
  // to press the button (mail scanners follow links, so a GET never acts):
  // the subscriber it is for, as stored (for their language).
  absl::StatusOr<v1::Subscriber> CheckConfirmLink(
      absl::string_view token) const;
  absl::StatusOr<v1::Subscriber> CheckUnsubscribeLink(
      absl::string_view token) const;

  // Removes pending subscribers whose last confirmation link expired
  // (confirmation_sent_at + confirmation_ttl before now) and whom the form
  // created and nobody ever confirmed. One who was subscribed before
  // (confirmed, or added by an operator), unsubscribed and asked again goes
  // back to unsubscribed instead, so that the record stays. Returns how
  // many it purged.
  absl::StatusOr<int> PurgeUnconfirmed() const;

  // How many clients the rate limit tracks now (bounded), for tests.
  size_t tracked_clients() const { return clients_.tracked_keys(); }

  bool enabled() const;

 private:
  // Applies `change` to subscriber `id` in one transaction; `change`
  // returns whether it changed anything, which is then stored. Returns the
  // subscriber as stored and whether it changed.
  absl::StatusOr<std::pair<v1::Subscriber, bool>> UpdateSubscriber(
      const std::string& id,
      absl::FunctionRef<absl::StatusOr<bool>(v1::Subscriber&)> change) const;
  // Queues `kind` (subscribe_confirm or subscribe_existing) to `subscriber`.
  absl::Status QueueNotice(StoreTxn& txn, const v1::Subscriber& subscriber,
                           absl::string_view kind, absl::Time now) const;

  const CoreDeps& deps_;
  const MessageDrafter& drafter_;
  const LinkTokens& links_;
  const std::function<void()> wake_senders_;

  // Subscriber `id` as stored; NotFound in the reader's words when gone.
  absl::StatusOr<v1::Subscriber> Stored(const std::string& id) const;

  // Requests per client network a minute: this heraldd's count first, in
  // memory, then the count every heraldd shares, in the store.
  KeyedRateLimiter clients_;
  const StoredRateLimit shared_clients_;
  // Notices per address a day, in the store.
  const StoredRateLimit addresses_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_SUBSCRIBERS_SUBSCRIPTION_PORTAL_H_
