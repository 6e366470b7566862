// DeliveryOutbox works through the durable outbox: it claims each due
// delivery (queued -> sending, committed before the send), sends it over its
// channel, and records the outcome: delivered, retrying after exponential
// backoff with full jitter, or failed once attempts run out. A crash between
// claim and outcome leaves the delivery in `sending`; RecoverInterrupted()
// puts it back in the queue, and the resend carries the same idempotency key.
// Thread-safe; RunOnce may be called from several workers.
#ifndef HERALD_SERVER_DELIVERY_DELIVERY_OUTBOX_H_
#define HERALD_SERVER_DELIVERY_DELIVERY_OUTBOX_H_

#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/core/clock.h"
#include "server/core/event_hub.h"
#include "server/core/metrics.h"
#include "server/delivery/channel.h"
#include "server/store/store.h"

namespace herald {

struct RetryPolicy {
  int max_attempts = 6;
  absl::Duration base = absl::Seconds(5);
  absl::Duration cap = absl::Minutes(10);
};

struct OutboxDeps {
  Store& store;
  const Clock& clock;
  Channel& email;
  HeraldMetrics& metrics;
  RetryPolicy retry;
  // Uniform in [0, 1); injected so tests can pin the jitter.
  std::function<double()> random;
  // Live watchers are told of each outcome; may be null.
  EventHub* events = nullptr;
};

class DeliveryOutbox {
 public:
  explicit DeliveryOutbox(OutboxDeps deps);

  // Requeues deliveries a previous process left in `sending`. Call once at
  // start-up, before any worker runs. Returns how many were requeued.
  absl::StatusOr<int> RecoverInterrupted();

  // Attempts every delivery due now, up to `batch`. Returns how many it
  // attempted; errors only when the store fails.
  absl::StatusOr<int> RunOnce(int batch = 64);

  // The delay before attempt `attempts + 1`, given `attempts` so far.
  absl::Duration Backoff(int attempts) const;

 private:
  absl::Status Attempt(v1::Delivery delivery);

  OutboxDeps deps_;
};

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_DELIVERY_OUTBOX_H_
