#include "server/core/event_hub.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace herald {

EventHub::Subscription::Subscription(int64_t incident_id, size_t capacity,
                                     std::function<void()> wake)
    : incident_id_(incident_id), capacity_(capacity), wake_(std::move(wake)) {}

bool EventHub::Subscription::Push(const IncidentEvent& e) {
  bool dropped = false;
  {
    absl::MutexLock lock(&mu_);
    if (queue_.size() >= capacity_) {
      queue_.pop_front();
      ++dropped_;
      ++unreported_drops_;
      dropped = true;
    }
    queue_.push_back(e);
  }
  Wake();
  return dropped;
}

void EventHub::Subscription::Wake() {
  absl::MutexLock lock(&wake_mu_);
  if (!closed_ && wake_) wake_();
}

bool EventHub::Subscription::Pop(IncidentEvent* out) {
  absl::MutexLock lock(&mu_);
  if (unreported_drops_ > 0) {
    *out = IncidentEvent{
        .kind = "lagged",
        .actor = "herald",
        .text = absl::StrCat(unreported_drops_,
                             " event(s) dropped: this watcher fell behind")};
    unreported_drops_ = 0;
    return true;
  }
  if (queue_.empty()) return false;
  *out = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

void EventHub::Subscription::Close() {
  absl::MutexLock lock(&wake_mu_);
  closed_ = true;
}

int64_t EventHub::Subscription::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

std::shared_ptr<EventHub::Subscription> EventHub::Subscribe(
    int64_t incident_id, std::function<void()> wake) {
  auto s =
      std::make_shared<Subscription>(incident_id, capacity_, std::move(wake));
  absl::MutexLock lock(&mu_);
  subs_.push_back(s);
  watched_.store(static_cast<int>(subs_.size()));
  return s;
}

void EventHub::Unsubscribe(const std::shared_ptr<Subscription>& s) {
  s->Close();
  absl::MutexLock lock(&mu_);
  subs_.erase(std::remove(subs_.begin(), subs_.end(), s), subs_.end());
  watched_.store(static_cast<int>(subs_.size()));
}

void EventHub::Publish(const IncidentEvent& event) {
  if (relayed_.load(std::memory_order_acquire)) relay_(event);
  Deliver(event);
}

void EventHub::CountChange() {
  changes_.fetch_add(1, std::memory_order_acq_rel);
  // No lock on every write's path while nobody listens.
  if (!listened_.load(std::memory_order_acquire)) return;
  absl::MutexLock lock(&on_change_mu_);
  if (on_change_) on_change_();
}

void EventHub::OnChange(std::function<void()> listener) {
  absl::MutexLock lock(&on_change_mu_);
  listened_.store(listener != nullptr, std::memory_order_release);
  on_change_ = std::move(listener);
}

void EventHub::Receive(const std::optional<IncidentEvent>& event) {
  CountChange();
  if (event.has_value()) Deliver(*event);
}

void EventHub::Deliver(const IncidentEvent& event) {
  std::vector<std::shared_ptr<Subscription>> targets;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& s : subs_) {
      if (s->Wants(event)) targets.push_back(s);
    }
  }
  for (const auto& s : targets) {
    if (s->Push(event)) ++dropped_;
  }
}

int EventHub::subscribers() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(subs_.size());
}

IncidentEvent VisibleTo(const Caller& caller, IncidentEvent event) {
  if ((event.kind == "delivered" || event.kind == "delivery_failed") &&
      !Authorizer::Authorize(caller, Permission::kReadDeliveries).ok()) {
    event.text = "a recipient (whom, only comms and admin roles see)";
  }
  return event;
}

}  // namespace herald
