// EventHub carries what happens to incidents (alerts, updates, drafts,
// decisions, deliveries) to live watchers (`herald watch`). Core publishes an
// event after the change is committed. Publishing never waits for a watcher:
// each subscription has a bounded queue, and when a slow or stuck watcher's
// queue is full its oldest events are dropped and it is told how many it
// missed. Thread-safe.
#ifndef HERALD_SERVER_CORE_EVENT_HUB_H_
#define HERALD_SERVER_CORE_EVENT_HUB_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/core/org/authorizer.h"

namespace herald {

// Something that happened to an incident, as watchers are told it. Core
// publishes these; the API and the console put them on the wire
// (server/wire/).
struct IncidentEvent {
  absl::Time at = absl::InfinitePast();  // InfinitePast: not stamped
  int64_t incident_id = 0;  // 0: about no one incident (a "lagged" notice)
  // opened, reopened, attached, alerts, update, drafted, edited, approved,
  // rejected, resolved, acknowledged, delivered, delivery_failed, lagged, ...
  std::string kind;
  std::string actor;  // a person id, or "herald"
  std::string text;
  std::string message_ref;  // "" when about no message
};

class EventHub {
 public:
  // One watcher's queue. Thread-safe.
  class Subscription {
   public:
    Subscription(int64_t incident_id, size_t capacity,
                 std::function<void()> wake);

    // The next event, if any. After events were dropped, first a "lagged"
    // event saying how many.
    bool Pop(IncidentEvent* out);
    // Stops wake-ups. Once it returns, `wake` is not running and will not
    // run again.
    void Close();
    int64_t dropped() const;

   private:
    friend class EventHub;
    bool Wants(const IncidentEvent& e) const {
      return incident_id_ == 0 || e.incident_id == incident_id_;
    }
    // Returns whether the oldest event was dropped to make room.
    bool Push(const IncidentEvent& e);
    void Wake();

    const int64_t incident_id_;
    const size_t capacity_;
    const std::function<void()> wake_;
    mutable absl::Mutex mu_;
    std::deque<IncidentEvent> queue_ ABSL_GUARDED_BY(mu_);
    int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
    int64_t unreported_drops_ ABSL_GUARDED_BY(mu_) = 0;
    absl::Mutex wake_mu_;  // held while `wake_` runs; Close takes it
    bool closed_ ABSL_GUARDED_BY(wake_mu_) = false;
  };

  explicit EventHub(size_t queue_capacity = 1024) : capacity_(queue_capacity) {}

  // Events of `incident_id` (0: of every incident) are queued for the
  // subscriber, and `wake` is called (on the publishing thread, so it must be
  // quick and must not publish) whenever one arrives.
  std::shared_ptr<Subscription> Subscribe(int64_t incident_id,
                                          std::function<void()> wake);
  void Unsubscribe(const std::shared_ptr<Subscription>& s);

  // Queues `event` for this process's watchers, and hands it to the relay.
  void Publish(const IncidentEvent& event);

  // Hands every published event to `relay` too (the other heraldd on a
  // shared store: StoreBroadcast), which must be quick and must not
  // publish. Call before anything publishes.
  void SetRelay(std::function<void(const IncidentEvent&)> relay) {
    relay_ = std::move(relay);
    relayed_.store(relay_ != nullptr, std::memory_order_release);
  }
  // An event another process published: counted as a change, and queued
  // for this process's watchers, never relayed back. nullopt: some may have
  // been missed (counted as a change, and watchers are not told more).
  void Receive(const std::optional<IncidentEvent>& event);

  // Counts one committed change, watched or not (CoreDeps::Emit does, for
  // every change core announces), then calls the change listener. Caches
  // of what changes derive from (the public documents) compare changes()
  // to know they are out of date.
  void CountChange();
  uint64_t changes() const { return changes_.load(std::memory_order_acquire); }
  // Calls `listener` after each change is counted, here or (Receive) in
  // another heraldd, on the thread that counted it: it must be quick and
  // must neither publish nor count. It wakes the static mirror's runner.
  // Null: none; once this returns, the listener it replaced is not running
  // and will not run again.
  void OnChange(std::function<void()> listener);

  int subscribers() const;
  // Whether anyone watches at all, here or (through the relay) elsewhere:
  // lets publishers skip building events.
  bool watched() const {
    return watched_.load(std::memory_order_relaxed) > 0 ||
           relayed_.load(std::memory_order_acquire);
  }
  // Events dropped from full queues, over every subscription ever.
  int64_t dropped() const { return dropped_.load(); }

 private:
  // Queues `event` for this process's watchers.
  void Deliver(const IncidentEvent& event);

  const size_t capacity_;
  std::atomic<int64_t> dropped_{0};
  std::atomic<uint64_t> changes_{0};
  std::atomic<int> watched_{0};
  std::atomic<bool> relayed_{false};
  std::function<void(const IncidentEvent&)> relay_;  // set before publishing
  std::atomic<bool> listened_{false};                // on_change_ is set
  absl::Mutex on_change_mu_;  // held while the listener runs
  std::function<void()> on_change_ ABSL_GUARDED_BY(on_change_mu_);
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<Subscription>> subs_ ABSL_GUARDED_BY(mu_);
};

// `event` as `caller` may see it: a delivery event names the recipient's
// address, so it keeps its text only for those who may read deliveries
// (Permission::kReadDeliveries), as with `herald deliveries`.
IncidentEvent VisibleTo(const Caller& caller, IncidentEvent event);

}  // namespace herald

#endif  // HERALD_SERVER_CORE_EVENT_HUB_H_
