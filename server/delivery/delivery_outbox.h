// DeliveryOutbox works through the durable outbox. Workers claim the due
// deliveries in batches (queued or retrying -> sending, committed before any
// send), render each for the recipient's current contact, and share what
// they claimed: each worker sends the next one whose destination has room,
// and commits the outcome before the next send:
//   delivered   the receiver accepted it
//   retrying    the contact may accept later: the channel's retry schedule
//               (Standard Webhooks by default), or the receiver's
//               Retry-After when that is longer
//   queued      on the recipient's next contact, once this one's schedule
//               is over (or, when there is a next contact, would run past
//               `fallback_after`), it refused for good, or answered 410
//               (which also disables it for every later delivery)
//   failed      no contact is left
//   cancelled   the subscriber unsubscribed before it was sent
//   superseded  not sent: a newer update, resolution or maintenance notice
//               of the incident is queued for the same recipient, and says
//               what is true now (apologies and follow-ups never are)
// One destination (a webhook or Slack endpoint, the SMTP relay, the SMS
// gateway) has at most its channel's `max_in_flight` sends at once, and a
// few rounds more waiting in memory (one round when its sends are slow);
// what a busy destination cannot take goes back to the queue, due when its
// sends should have made room. So a destination that hangs until its
// timeout holds a bounded share of the workers, and the others keep
// sending.
// A channel that is down (SendResult::kChannelDown: the SMTP relay is
// unreachable, a shared gateway answers 5xx) uses up no recipient's
// attempts: its deliveries are `retrying` with `waiting_on` set, one at a
// time probes it (ChannelHealth), and all are due again the moment it
// answers. Past the channel's patience (counted from when that delivery
// began to wait) a waiting delivery moves on to the recipient's next contact
// on another channel; one who has none waits on.
// Each claim is leased (Store::ClaimDueDeliveries, 30 minutes): a crash
// leaves claimed deliveries in `sending`, and they are due again when their
// lease ends; RecoverInterrupted() puts them back in the queue at once, for a
// store this process alone serves. A clean stop (StopSending) leaves none
// there: the sends under way finish and are recorded, and everything else
// claimed goes back. Only a send whose outcome was not yet committed can be
// repeated, and it carries the same idempotency key. A claimed delivery is
// rendered once; it may wait in memory while its destination is busy, so an
// unsubscribe or a newer update in that time does not stop it. Thread-safe:
// several workers may run passes at once; a delivery is claimed and sent by
// exactly one.
#ifndef HERALD_SERVER_DELIVERY_DELIVERY_OUTBOX_H_
#define HERALD_SERVER_DELIVERY_DELIVERY_OUTBOX_H_

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/base/clock.h"
#include "server/core/event_hub.h"
#include "server/core/org/delivery_settings.h"
#include "server/delivery/channel.h"
#include "server/delivery/channel_health.h"
#include "server/delivery/delivery_composer.h"
#include "server/delivery/delivery_metrics.h"
#include "server/store/store.h"

namespace herald {

struct OutboxDeps {
  Store& store;
  const Clock& clock;
  const DeliveryComposer& composer;
  // The channel for each kind; a kind without one is refused, and the
  // delivery falls back to the recipient's next contact.
  std::map<v1::ChannelKind, Channel*> channels;
  DeliveryMetrics& metrics;
  // Retry schedules, in-flight limits per destination, fallback_after.
  DeliverySettings delivery;
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
  ~DeliveryOutbox();

  // Requeues deliveries a previous process left in `sending`. Call once at
  // start-up, before any worker runs. Returns how many were requeued.
  absl::StatusOr<int> RecoverInterrupted();

  // One worker's pass: attempts up to `batch` deliveries, each the next
  // claimed one whose destination has room, claiming more (a few rounds for
  // every worker) when too little is ready. Returns how many it attempted (0:
  // nothing it could send is due); errors only when the store fails.
  absl::StatusOr<int> RunOnce(int batch = 32) ABSL_LOCKS_EXCLUDED(mu_);

  // For a stop: passes from now on send nothing more. The sends under way
  // finish (each bounded by its channel's timeout) and are recorded; every
  // other claimed delivery goes back in the queue as it was. Irreversible.
  void StopSending() ABSL_LOCKS_EXCLUDED(mu_);

  // Sets the outbox depth and oldest-age gauges from the store.
  absl::Status RefreshGauges();

 private:
  struct Attempt;
  // A destination's sends under way and claimed deliveries waiting for it.
  struct Destination {
    int limit = 1;
    int in_flight = 0;
    int waiting = 0;
    // Deliveries put back for it while it was busy: each is due a send
    // later than the one before.
    int put_back = 0;
    // How long its sends have taken lately (a moving average).
    absl::Duration typical_send;
  };
  absl::StatusOr<std::vector<v1::Delivery>> Claim(int batch);
  Attempt Prepare(StoreReader& reader, v1::Delivery delivery) const;
  // Claims and renders up to `batch` due deliveries and makes them ready,
  // but puts back what a busy destination cannot take. Returns how many it
  // made ready (0: nothing was due, or all of it was put back).
  absl::StatusOr<int> ClaimReady(int batch);
  // The first ready delivery whose destination has room, now counted in
  // flight there; empty when none has.
  std::optional<Attempt> Take() ABSL_LOCKS_EXCLUDED(mu_);
  // Removes from the ready queue the claims whose lease ends too soon to
  // send them (half of delivery.claim_lease), for Release.
  std::vector<v1::Delivery> TakeStaleLocked(absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Claims more (one worker at a time) when too little of what is claimed
  // can be sent now: none (`wait`: a worker found nothing to take; it waits
  // for another worker's claim rather than claim beside it), or fewer than
  // two rounds (a claim ahead, before the others run out). Claims nothing
  // while the rest waits for busy destinations and memory holds enough.
  // False when there is nothing more for this worker now.
  absl::StatusOr<bool> Refill(bool wait) ABSL_LOCKS_EXCLUDED(mu_);
  // How many ready deliveries a worker could take now.
  int TakeableLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends (or settles) one taken delivery and records the outcome.
  absl::Status SendOne(Attempt& attempt);
  // How many claimed deliveries may wait for `dest` (of `channel`).
  int Room(v1::ChannelKind channel, const Destination& dest) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The send to `destination` is over after `took`; nullopt: it was put
  // back unsent.
  void Done(const std::string& destination, std::optional<absl::Duration> took);
  // The wait after a failed attempt on the delivery's contact, or empty
  // when the contact has had its chance (`has_next`: the recipient has
  // another contact, so the schedule stops at fallback_after).
  std::optional<absl::Duration> RetryWait(const v1::Delivery& delivery,
                                          bool has_next,
                                          absl::Duration retry_after,
                                          absl::Time now) const;
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
  // Returns claimed, unsent deliveries to `queued`, as if never claimed,
  // due at `due`.
  absl::Status Release(std::vector<v1::Delivery> unsent, absl::Time due);
  void Announce(const v1::Delivery& delivery, absl::Time now) const;

  OutboxDeps deps_;
  ChannelHealth health_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool claiming_ ABSL_GUARDED_BY(mu_) = false;  // one claims at a time
  // Claimed and rendered, in claim order, waiting for a worker.
  std::deque<Attempt> ready_ ABSL_GUARDED_BY(mu_);
  // Only destinations with a send under way or a delivery waiting.
  std::map<std::string, Destination> destinations_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_DELIVERY_OUTBOX_H_
