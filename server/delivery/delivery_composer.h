// DeliveryComposer turns a queued delivery into what one contact receives.
// A subscriber's content is rendered at send time from the published
// message, which never changes, and the incident as it was at publication
// (Message.published_incident); only the recipient's own fields (name,
// account, their components) are read now. A staff notification carries its
// content from when it was queued, and so does a notice about a subscriber's
// own subscription (a confirmation request: message_id 0). Customer email
// carries Reply-To: the incident rota's reply address, or customer_comms'.
//   email    subject, text and HTML from the templates
//   webhook  a WebhookEvent as JSON (proto/herald/v1/outbound.proto)
//   slack    a SlackMessage: the title and the short text
//   sms      an SmsRequest to the configured SMS gateway
// Immutable; thread-safe.
#ifndef HERALD_SERVER_DELIVERY_DELIVERY_COMPOSER_H_
#define HERALD_SERVER_DELIVERY_DELIVERY_COMPOSER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "herald/v1/domain.pb.h"
#include "server/core/comms/message_drafter.h"
#include "server/core/org/organisation.h"
#include "server/core/subscribers/link_tokens.h"
#include "server/delivery/channel.h"
#include "server/store/store.h"

namespace herald {

struct ComposerOptions {
  std::string public_url;       // the status page, linked from every channel
  std::string sms_gateway_url;  // empty: SMS contacts cannot be reached
  std::vector<std::string> sms_gateway_secrets;
  // Signs the unsubscribe link (footer and List-Unsubscribe) and the
  // preferences link in every subscriber's email; null: no links.
  const LinkTokens* links = nullptr;
};

// Who a delivery is for, as the outbox needs it.
struct Recipient {
  std::vector<v1::Contact> contacts;  // in order of preference
  // False when a subscriber unsubscribed after the delivery was queued.
  bool wants_it = true;
  v1::Subscriber subscriber;                 // for "subscriber:<id>"
  const v1::PersonConfig* person = nullptr;  // for "person:<id>"
};

class DeliveryComposer {
 public:
  DeliveryComposer(const MessageDrafter& drafter,
                   std::shared_ptr<const Organisation> org,
                   ComposerOptions options);

  // NotFound when the recipient no longer exists (a person removed from
  // the config, say).
  absl::StatusOr<Recipient> LoadRecipient(StoreReader& reader,
                                          const v1::Delivery& delivery) const;

  // What `recipient.contacts[contact]` receives for `delivery`.
  absl::StatusOr<Outgoing> Compose(StoreReader& reader,
                                   const v1::Delivery& delivery,
                                   const Recipient& recipient,
                                   int contact) const;

 private:
  struct Content;
  absl::StatusOr<Content> SubscriberContent(StoreReader& reader,
                                            const v1::Delivery& delivery,
                                            const v1::Subscriber& who,
                                            v1::ChannelKind channel,
                                            const SubscriberLinks& links) const;
  // A notice about `who`'s own subscription: its content fixed when queued.
  absl::StatusOr<Content> SubscriptionNotice(StoreReader& reader,
                                             const v1::Delivery& delivery,
                                             const v1::Subscriber& who) const;
  // The content fixed when `delivery` was queued.
  absl::StatusOr<Content> StoredContent(
      StoreReader& reader, const v1::Delivery& delivery,
      absl::string_view event_type, const std::string& recipient_id,
      const std::string& recipient_name) const;

  const MessageDrafter& drafter_;
  std::shared_ptr<const Organisation> org_;
  const ComposerOptions options_;
};

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_DELIVERY_COMPOSER_H_
