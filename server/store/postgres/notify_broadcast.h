// StoreBroadcast over PostgreSQL's LISTEN/NOTIFY: each process sends on a
// connection of its own, several messages to a notification (at most
// PostgreSQL's 8000 bytes), and listens on another; it skips what it sent
// itself. The channel is named after the schema herald's tables are in
// (the first of the search_path), so deployments in one database do not
// hear each other. The queue of messages waiting to be sent is bounded:
// when full, the oldest are dropped and counted. Whatever is dropped, the
// others are told they may have missed some, with the next notification
// that goes out. A lost connection is opened again (after a pause that
// doubles up to 5 s), and the listener then says it may have missed
// messages meanwhile. Thread-safe.
#ifndef HERALD_SERVER_STORE_POSTGRES_NOTIFY_BROADCAST_H_
#define HERALD_SERVER_STORE_POSTGRES_NOTIFY_BROADCAST_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/store/broadcast.h"

namespace herald::postgres {

class NotifyBroadcast final : public StoreBroadcast {
 public:
  struct Options {
    std::string dsn;
    std::string password;
    size_t queue_capacity = 4096;
  };
  explicit NotifyBroadcast(Options options);
  ~NotifyBroadcast() override;

  void Send(std::string message) override;
  void Listen(std::function<void(absl::string_view)> receive) override;

  // Messages dropped from a full queue or with a failed notification.
  int64_t dropped() const { return dropped_.load(); }

 private:
  void SendLoop();
  void ListenLoop(std::function<void(absl::string_view)> receive);
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || stopping_;
  }
  bool Stopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; }
  // Waits `pause`, or less when stopping; returns whether stopping.
  bool Pause(absl::Duration pause);

  const Options options_;
  // Names this process in its notifications, so that it skips its own.
  const std::string origin_;
  std::atomic<int64_t> dropped_{0};
  mutable absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  // Something was dropped since the last notification went out.
  bool missed_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread sender_;
  std::thread listener_;
};

}  // namespace herald::postgres

#endif  // HERALD_SERVER_STORE_POSTGRES_NOTIFY_BROADCAST_H_
