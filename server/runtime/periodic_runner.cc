#include "server/runtime/periodic_runner.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "server/base/log.h"

namespace herald {

PeriodicRunner::PeriodicRunner(std::string name,
                               std::function<absl::StatusOr<int>()> task,
                               absl::Duration interval, absl::Duration min_gap)
    : name_(std::move(name)),
      task_(std::move(task)),
      interval_(interval),
      min_gap_(std::min(min_gap, interval)),
      own_waiter_(std::make_unique<RealTimePassWaiter>()),
      waiter_(*own_waiter_) {}

PeriodicRunner::PeriodicRunner(std::string name,
                               std::function<absl::StatusOr<int>()> task,
                               absl::Duration interval, PassWaiter& waiter,
                               absl::Duration min_gap)
    : name_(std::move(name)),
      task_(std::move(task)),
      interval_(interval),
      min_gap_(std::min(min_gap, interval)),
      waiter_(waiter) {}

PeriodicRunner::~PeriodicRunner() { Stop(); }

void PeriodicRunner::Start() {
  absl::MutexLock lock(&mu_);
  // Once: a second Start, or a Start after Stop, does nothing.
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void PeriodicRunner::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void PeriodicRunner::Stop() {
  std::thread running;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    running = std::move(thread_);  // whoever stops first joins it
  }
  if (running.joinable()) running.join();
}

bool PeriodicRunner::ShouldRun() const { return stopping_ || woken_; }

void PeriodicRunner::Loop() {
  while (true) {
    absl::StatusOr<int> ran = task_();
    if (!ran.ok()) {
      LogError("periodic task failed",
               {{"task", name_}, {"error", ran.status().ToString()}});
    }
    absl::MutexLock lock(&mu_);
    // More work may be waiting when a pass was busy: go again at once.
    if (ran.ok() && *ran > 0 && !stopping_) continue;
    if (min_gap_ > absl::ZeroDuration()) {
      // Only Stop ends this part of the wait; a Wake() during it is kept
      // for the part after.
      waiter_.Wait(mu_, absl::Condition(&stopping_), min_gap_);
      if (stopping_) return;
    }
    waiter_.Wait(mu_, absl::Condition(this, &PeriodicRunner::ShouldRun),
                 interval_ - min_gap_);
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace herald
