// DeliveryOutbox works through the durable outbox. A pass claims the due
// deliveries (queued or retrying -> sending, committed before any send),
// renders each for the recipient's current contact, sends it, and commits
// the outcome before the next send:
//   delivered   the receiver accepted it
//   retrying    the contact may accept later: exponential backoff with full
//               jitter, or the receiver's Retry-After when that is longer
//   queued      on the recipient's next contact, once this one has had
//               `max_attempts_per_contact`, refused for good, or answered 410
//               (which also disables it for every later delivery)
//   failed      no contact is left
//   cancelled   the subscriber unsubscribed before it went out
//   superseded  not sent: a newer update, resolution or maintenance notice
//               of the incident is queued for the same recipient, and says
//               what is true now (apologies and follow-ups never are)
// A channel that is down (SendResult::kChannelDown: the SMTP relay is
// unreachable, a shared gateway answers 5xx) uses up no recipient's
// attempts: its deliveries are `retrying` with `waiting_on` set, one at a
// time probes it (ChannelHealth), and all are due again the moment it
// answers. Past the channel's patience (counted from when that delivery
// began to wait) a waiting delivery moves on to the recipient's next contact
// on another channel; one who has none waits on.
// A crash leaves claimed deliveries in `sending`; RecoverInterrupted() puts
// them back in the queue. A clean stop (StopSending) leaves none there: each
// pass finishes the send under way and puts the rest of its claim back. Only a
// send whose outcome was not yet committed can be repeated, and it carries the
// same idempotency key. Thread-safe: several workers may run passes at once; a
// delivery is claimed by exactly one.
#ifndef HERALD_SERVER_DELIVERY_DELIVERY_OUTBOX_H_
#define HERALD_SERVER_DELIVERY_DELIVERY_OUTBOX_H_

#include <atomic>
#include <functional>
#include <map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/core/clock.h"
#include "server/core/event_hub.h"
#include "server/core/metrics.h"
#include "server/delivery/channel.h"
#include "server/delivery/channel_health.h"
#include "server/delivery/delivery_composer.h"
#include "server/store/store.h"

namespace herald {

struct RetryPolicy {
  int max_attempts_per_contact = 5;
  absl::Duration base = absl::Seconds(5);
  absl::Duration cap = absl::Minutes(10);
};

struct OutboxDeps {
  Store& store;
  const Clock& clock;
  const DeliveryComposer& composer;
  // The channel for each kind; a kind without one is refused, and the
  // delivery falls back to the recipient's next contact.
  std::map<v1::ChannelKind, Channel*> channels;
  HeraldMetrics& metrics;
  RetryPolicy retry;
  // Uniform in [0, 1); injected so tests can pin the jitter.
  std::function<double()> random;
  // Live watchers are told of each outcome; may be null.
  EventHub* events = nullptr;
  // When a channel counts as down, how it is probed, and how long its
  // deliveries wait before trying the recipient's next contact.
  ChannelHealthOptions channel_health;
};

class DeliveryOutbox {
 public:
  explicit DeliveryOutbox(OutboxDeps deps);

  // Requeues deliveries a previous process left in `sending`. Call once at
  // start-up, before any worker runs. Returns how many were requeued.
  absl::StatusOr<int> RecoverInterrupted();

  // Claims up to `batch` due deliveries and attempts each. Returns how many
  // it attempted; errors only when the store fails.
  absl::StatusOr<int> RunOnce(int batch = 32);

  // For a stop: passes from now on send nothing more. A pass under way
  // finishes the send it is in (each bounded by its channel's timeout),
  // records it, and puts its other claimed deliveries back in the queue as
  // they were. Irreversible.
  void StopSending();

  // Sets the outbox depth and oldest-age gauges from the store.
  absl::Status RefreshGauges();

  // The delay before the next attempt on a contact that has had `attempts`.
  absl::Duration Backoff(int attempts) const;

 private:
  struct Attempt;
  absl::StatusOr<std::vector<v1::Delivery>> Claim(int batch);
  Attempt Prepare(StoreReader& reader, v1::Delivery delivery) const;
  absl::Status Record(Attempt& attempt, const SendResult& result);
  // The attempt's channel is down (`verdict`): puts the delivery back to
  // wait for it without counting the attempt, or past the channel's
  // patience moves it on to the recipient's next contact.
  absl::Status Wait(Attempt& attempt, const ChannelHealth::Verdict& verdict);
  // After a send that reached `channel`: if it was down until now, makes
  // what waited for it due.
  void ChannelAnswered(v1::ChannelKind channel);
  // Makes what waits for `channel` due at `now`; a store failure is only
  // logged (the waiting deliveries' own backstop brings them back).
  void ReleaseWaiting(v1::ChannelKind channel, absl::Time now);
  // Returns claimed, unsent deliveries to `queued`, as if never claimed.
  absl::Status Release(std::vector<v1::Delivery> unsent);
  void Announce(const v1::Delivery& delivery, absl::Time now) const;

  OutboxDeps deps_;
  ChannelHealth health_;
  std::atomic<bool> stopping_{false};
};

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_DELIVERY_OUTBOX_H_
