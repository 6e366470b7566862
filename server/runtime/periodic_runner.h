// PeriodicRunner calls a task from a background thread: once, then again
// after each `interval` or sooner on Wake(), until Stop(). heraldd drives its
// outbox and its durable jobs this way. It is the one place that waits on
// real time; tests call the tasks themselves under a fake clock.
// Thread-safe.
#ifndef HERALD_SERVER_RUNTIME_PERIODIC_RUNNER_H_
#define HERALD_SERVER_RUNTIME_PERIODIC_RUNNER_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace herald {

class PeriodicRunner {
 public:
  // `task` returns how much work it did; errors are logged under `name`.
  PeriodicRunner(std::string name, std::function<absl::StatusOr<int>()> task,
                 absl::Duration interval);
  ~PeriodicRunner();  // stops

  void Start();
  // Asks for a pass now instead of at the next interval.
  void Wake();
  // Finishes the pass in progress, then joins the thread. Idempotent.
  void Stop();

 private:
  void Loop();
  bool ShouldRun() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  const std::function<absl::StatusOr<int>()> task_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace herald

#endif  // HERALD_SERVER_RUNTIME_PERIODIC_RUNNER_H_
