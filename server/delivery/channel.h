// Channel sends one rendered delivery to one contact over one medium: email
// (SMTP), an outbound webhook, a Slack-compatible incoming webhook, or an
// SMS gateway. The outbox decides when to retry and when to fall back to the
// recipient's next contact; a channel only reports what happened.
// Implementations must be thread-safe: every outbox worker shares them.
#ifndef HERALD_SERVER_DELIVERY_CHANNEL_H_
#define HERALD_SERVER_DELIVERY_CHANNEL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"

namespace herald {

// One send: the contact and the content rendered for it.
struct Outgoing {
  v1::ChannelKind channel = v1::CHANNEL_KIND_UNSPECIFIED;
  std::string address;  // email address, URL or phone number
  std::vector<std::string> signing_secrets;  // webhook: "whsec_..." keys
  // Unique per (delivery, contact), and the same on every retry: receivers
  // drop a resend (Standard Webhooks `webhook-id`, email `Message-ID`).
  std::string idempotency_key;
  std::string subject;  // email
  std::string text;     // email text part; SMS text
  std::string html;     // email HTML part; empty: plain text only
  std::string json;     // webhook and Slack bodies
  // email: the RFC 8058 one-click unsubscribe URL; empty for staff.
  std::string unsubscribe_url;
  // email: where the reader's reply goes (Reply-To); empty: none.
  std::string reply_to;
};

// What a receiver made of one send. kChannelDown says nothing about the
// recipient: the channel itself failed (the SMTP relay is unreachable, the
// SMS gateway every recipient shares answered 5xx), and the send is not counted
// against them (ChannelHealth).
struct SendResult {
  enum class Outcome {
    kDelivered,    // accepted
    kRetry,        // this contact may accept later: its endpoint's 5xx, 429
    kRejected,     // will never pass on this contact: other 4xx, SMTP 5xx
    kGone,         // HTTP 410: the endpoint is gone; disable the contact
    kChannelDown,  // the channel, not the recipient, failed
  };
  Outcome outcome = Outcome::kDelivered;
  std::string error;  // what went wrong, never with secrets
  // The receiver's Retry-After; zero when it sent none.
  absl::Duration retry_after = absl::ZeroDuration();

  static SendResult Delivered() { return {}; }
  static SendResult Retry(std::string error,
                          absl::Duration retry_after = absl::ZeroDuration()) {
    return {Outcome::kRetry, std::move(error), retry_after};
  }
  static SendResult Rejected(std::string error) {
    return {Outcome::kRejected, std::move(error), absl::ZeroDuration()};
  }
  static SendResult Gone(std::string error) {
    return {Outcome::kGone, std::move(error), absl::ZeroDuration()};
  }
  static SendResult ChannelDown(std::string error) {
    return {Outcome::kChannelDown, std::move(error), absl::ZeroDuration()};
  }
  bool delivered() const { return outcome == Outcome::kDelivered; }
};

class Channel {
 public:
  virtual ~Channel() = default;
  virtual SendResult Send(const Outgoing& outgoing) = 0;
};

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_CHANNEL_H_
