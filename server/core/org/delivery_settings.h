// DeliverySettings is the outbox's tuning from `delivery` in the config:
// how many senders work at once, each channel's retry schedule and how many
// sends one destination may hold, how long a recipient waits on one contact
// before the next is tried. Defaults are applied and the deprecated
// exponential-backoff fields are turned into the schedule they meant.
// Immutable values; thread-safe to read.
#ifndef HERALD_SERVER_CORE_ORG_DELIVERY_SETTINGS_H_
#define HERALD_SERVER_CORE_ORG_DELIVERY_SETTINGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "herald/v1/config.pb.h"
#include "herald/v1/domain.pb.h"

namespace herald {

// When one contact is tried again. The first attempt goes at once; after
// the n-th fails, the next waits the n-th entry; after the last entry the
// contact has had its chance.
class RetrySchedule {
 public:
  // After Standard Webhooks: 5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h, 24h, so
  // ten attempts over about three days.
  static RetrySchedule StandardWebhooks();

  explicit RetrySchedule(std::vector<absl::Duration> waits)
      : waits_(std::move(waits)) {}

  // The wait after the contact's `attempts`-th failed attempt (counting
  // from 1); empty when that was its last.
  std::optional<absl::Duration> WaitAfter(int attempts) const;

  const std::vector<absl::Duration>& waits() const { return waits_; }

 private:
  std::vector<absl::Duration> waits_;
};

struct ChannelDeliverySettings {
  RetrySchedule retry_schedule = RetrySchedule::StandardWebhooks();
  // Sends in flight at once to one destination (a webhook or Slack
  // endpoint, the SMTP relay, the SMS gateway).
  int max_in_flight = 2;
};

struct DeliverySettings {
  int workers = 16;
  absl::Duration http_timeout = absl::Seconds(10);
  // How long a delivery waits for a channel that is down before it moves
  // on to the recipient's next contact on another channel.
  absl::Duration channel_patience = absl::Minutes(10);
  // A down channel's first probe goes this long after it went down; later
  // ones at doubling intervals up to the cap.
  absl::Duration channel_probe_base = absl::Seconds(5);
  absl::Duration channel_probe_cap = absl::Minutes(5);
  // A contact with another after it is retried only while its next attempt
  // would come within this long of its first.
  absl::Duration fallback_after = absl::Minutes(10);
  // How long a claim on a delivery holds (delivery.claim_lease).
  absl::Duration claim_lease = absl::Minutes(30);
  // What the config sets per channel; For() fills in the rest.
  std::map<v1::ChannelKind, ChannelDeliverySettings> channels;
  // Deprecated settings the config still uses, each with what to write
  // instead; logged at start-up.
  std::vector<std::string> deprecations;

  // The settings for `channel`: what the config says, else the defaults:
  // 2 sends at once per webhook or Slack endpoint, three quarters of the
  // workers for the SMTP relay and for the SMS gateway.
  ChannelDeliverySettings For(v1::ChannelKind channel) const;
};

// The longest a send may take (delivery.http_timeout_seconds,
// smtp.timeout_seconds): 5 minutes.
inline constexpr int kMaxSendTimeoutSeconds = 300;

// Validates `config`; errors name the field ("delivery.retry_schedule[2]:
// ...").
absl::StatusOr<DeliverySettings> ParseDeliverySettings(
    const v1::DeliveryConfig& config);

}  // namespace herald

#endif  // HERALD_SERVER_CORE_ORG_DELIVERY_SETTINGS_H_
