// PeriodicRunner calls a task from a background thread: once, then again
// after each `interval` or sooner on Wake(), until Stop(). With a
// `min_gap`, a Wake() runs the next pass no sooner than that after the last
// idle one (a busy pass is followed at once, as ever): a stream of wakes (a
// change on every alert of a storm) runs a pass per gap, not one after
// another. heraldd drives its outbox, its
// durable jobs and its static mirror this way. Between passes it waits through
// a PassWaiter: on real time in heraldd (the one place that does), on time a
// test moves by hand in tests.
// Thread-safe.
#ifndef HERALD_SERVER_RUNTIME_PERIODIC_RUNNER_H_
#define HERALD_SERVER_RUNTIME_PERIODIC_RUNNER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace herald {

// How a PeriodicRunner waits between passes: the seam between it and time.
// Implementations must be thread-safe.
class PassWaiter {
 public:
  virtual ~PassWaiter() = default;
  // Called with `mu` held; returns with it held, once `ready` holds or
  // `timeout` has passed, whichever is first. `ready` reads state guarded
  // by `mu`, so it can only become true while someone holds `mu`.
  virtual void Wait(absl::Mutex& mu, const absl::Condition& ready,
                    absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;
};

// Waits on the system's real-time clock (absl::Mutex::AwaitWithTimeout).
class RealTimePassWaiter final : public PassWaiter {
 public:
  void Wait(absl::Mutex& mu, const absl::Condition& ready,
            absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) override {
    mu.AwaitWithTimeout(ready, timeout);
  }
};

class PeriodicRunner {
 public:
  // `task` returns how much work it did; errors are logged under `name`.
  // Waits on real time. `min_gap` is less than `interval`.
  PeriodicRunner(std::string name, std::function<absl::StatusOr<int>()> task,
                 absl::Duration interval,
                 absl::Duration min_gap = absl::ZeroDuration());
  // Waits through `waiter`, which must outlive the runner.
  PeriodicRunner(std::string name, std::function<absl::StatusOr<int>()> task,
                 absl::Duration interval, PassWaiter& waiter,
                 absl::Duration min_gap = absl::ZeroDuration());
  ~PeriodicRunner();  // stops

  // Starts the background thread, once: a second Start, or one after
  // Stop, does nothing.
  void Start();
  // Asks for a pass now instead of at the next interval.
  void Wake();
  // Finishes the pass in progress, then joins the thread. Idempotent; of
  // two Stops at once, the first joins.
  void Stop();

 private:
  void Loop();
  bool ShouldRun() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  const std::function<absl::StatusOr<int>()> task_;
  const absl::Duration interval_;
  const absl::Duration min_gap_;
  // Set when the runner waits on real time; waiter_ points at it then.
  const std::unique_ptr<PassWaiter> own_waiter_;
  PassWaiter& waiter_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald

#endif  // HERALD_SERVER_RUNTIME_PERIODIC_RUNNER_H_
