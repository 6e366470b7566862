#include "server/delivery/outbox_runner.h"

#include "server/core/log.h"

namespace herald {

OutboxRunner::OutboxRunner(DeliveryOutbox& outbox, absl::Duration interval)
    : outbox_(outbox), interval_(interval) {}

OutboxRunner::~OutboxRunner() { Stop(); }

void OutboxRunner::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void OutboxRunner::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void OutboxRunner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool OutboxRunner::ShouldRun() const { return stopping_ || woken_; }

void OutboxRunner::Loop() {
  while (true) {
    absl::StatusOr<int> ran = outbox_.RunOnce();
    if (!ran.ok()) {
      LogError("outbox pass failed", {{"error", ran.status().ToString()}});
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(this, &OutboxRunner::ShouldRun),
                         interval_);
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace herald
