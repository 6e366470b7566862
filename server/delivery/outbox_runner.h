// OutboxRunner drives a DeliveryOutbox from a background thread: it runs a
// pass, then waits for `interval` or a Wake(), until Stop(). It is the one
// place that waits on real time, and only heraldd's wiring uses it; tests
// call DeliveryOutbox::RunOnce directly. Thread-safe.
#ifndef HERALD_SERVER_DELIVERY_OUTBOX_RUNNER_H_
#define HERALD_SERVER_DELIVERY_OUTBOX_RUNNER_H_

#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/delivery/delivery_outbox.h"

namespace herald {

class OutboxRunner {
 public:
  OutboxRunner(DeliveryOutbox& outbox, absl::Duration interval);
  ~OutboxRunner();  // stops

  void Start();
  // Asks for a pass now instead of at the next interval.
  void Wake();
  // Finishes the pass in progress, then joins the thread. Idempotent.
  void Stop();

 private:
  void Loop();
  bool ShouldRun() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  DeliveryOutbox& outbox_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_OUTBOX_RUNNER_H_
