#include "server/store/postgres/notify_broadcast.h"

#include <poll.h>
#include <pthread.h>

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/base/log.h"
#include "server/store/postgres/connection.h"

namespace herald::postgres {
namespace {

// PostgreSQL refuses a notification payload of 8000 bytes or more.
constexpr size_t kMaxPayload = 7900;
constexpr absl::Duration kFirstPause = absl::Milliseconds(100);
constexpr absl::Duration kLongestPause = absl::Seconds(5);

// The line that tells receivers some messages were lost.
constexpr absl::string_view kMissed = "!";

// The channel of the schema `c` works in: hex, so safe as an identifier.
absl::StatusOr<std::string> ChannelOf(Connection* c) {
  Statement name(c, "SELECT 'herald_' || md5(current_schema())");
  absl::StatusOr<bool> row = name.Step();
  if (!row.ok()) return row.status();
  return name.Text(0);
}

std::string NewOrigin() {
  std::random_device seed;
  return absl::StrCat(absl::Hex(seed(), absl::kZeroPad8),
                      absl::Hex(seed(), absl::kZeroPad8));
}

}  // namespace

NotifyBroadcast::NotifyBroadcast(Options options)
    : options_(std::move(options)), origin_(NewOrigin()) {
  sender_ = std::thread([this] { SendLoop(); });
}

NotifyBroadcast::~NotifyBroadcast() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  sender_.join();
  if (listener_.joinable()) listener_.join();
}

void NotifyBroadcast::Send(std::string message) {
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= options_.queue_capacity) {
    queue_.pop_front();
    dropped_.fetch_add(1);
    missed_ = true;
  }
  queue_.push_back(std::move(message));
}

void NotifyBroadcast::Listen(std::function<void(absl::string_view)> receive) {
  listener_ = std::thread(
      [this, receive = std::move(receive)] { ListenLoop(receive); });
}

bool NotifyBroadcast::Pause(absl::Duration pause) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(this, &NotifyBroadcast::Stopping),
                       pause);
  return stopping_;
}

void NotifyBroadcast::SendLoop() {
  pthread_setname_np(pthread_self(), "herald-notify");
  std::unique_ptr<Connection> conn;
  std::string channel;
  absl::Duration pause = kFirstPause;
  while (true) {
    // As many messages as one notification holds, after the origin line.
    std::string payload = origin_;
    size_t taken = 0;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &NotifyBroadcast::HasWork));
      if (queue_.empty()) return;  // stopping, and everything sent
      if (missed_) {
        absl::StrAppend(&payload, "\n", kMissed);
        missed_ = false;
      }
      while (!queue_.empty() &&
             (taken == 0 ||
              payload.size() + 1 + queue_.front().size() <= kMaxPayload)) {
        std::string message = std::move(queue_.front());
        queue_.pop_front();
        if (origin_.size() + 3 + message.size() > kMaxPayload) {
          dropped_.fetch_add(1);  // too long for any notification
          missed_ = true;         // said with the next one
          continue;
        }
        absl::StrAppend(&payload, "\n", message);
        ++taken;
      }
    }
    if (taken == 0) continue;
    absl::Status s;
    if (conn == nullptr || !conn->Healthy()) {
      absl::StatusOr<std::unique_ptr<Connection>> c =
          Connect(options_.dsn, options_.password);
      absl::StatusOr<std::string> named =
          c.ok() ? ChannelOf(c->get()) : c.status();
      if (named.ok()) {
        conn = *std::move(c);
        channel = *std::move(named);
      } else {
        s = named.status();
        conn.reset();
      }
    }
    if (s.ok()) {
      Statement notify(conn.get(), "SELECT pg_notify(?, ?)");
      s = notify.Bind(1, channel).Bind(2, payload).Run();
    }
    if (s.ok()) {
      pause = kFirstPause;
      continue;
    }
    // Lost: the others are told with the next notification that goes out.
    dropped_.fetch_add(taken);
    {
      absl::MutexLock lock(&mu_);
      missed_ = true;
    }
    LogWarn("could not tell the other heraldd what happened",
            {{"messages", absl::StrCat(taken)}, {"error", s.ToString()}});
    conn.reset();
    if (Pause(pause)) return;
    pause = std::min(pause * 2, kLongestPause);
  }
}

void NotifyBroadcast::ListenLoop(
    std::function<void(absl::string_view)> receive) {
  pthread_setname_np(pthread_self(), "herald-listen");
  absl::Duration pause = kFirstPause;
  bool first = true;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    absl::StatusOr<std::unique_ptr<Connection>> c =
        Connect(options_.dsn, options_.password);
    absl::StatusOr<std::string> channel =
        c.ok() ? ChannelOf(c->get()) : c.status();
    absl::Status s = channel.status();
    if (s.ok()) {
      s = Exec(c->get(), absl::StrCat("LISTEN ", *channel).c_str());
    }
    if (!s.ok()) {
      LogWarn("cannot listen for what the other heraldd do; retrying",
              {{"error", s.ToString()}});
      if (Pause(pause)) return;
      pause = std::min(pause * 2, kLongestPause);
      continue;
    }
    pause = kFirstPause;
    // Whatever was sent while nobody listened is lost: say so.
    if (!first) receive("");
    first = false;
    PGconn* pg = (*c)->conn;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
      }
      pollfd fd{.fd = PQsocket(pg), .events = POLLIN, .revents = 0};
      if (fd.fd < 0) break;
      if (poll(&fd, 1, /*timeout_ms=*/250) < 0 && errno != EINTR) break;
      if (PQconsumeInput(pg) == 0) break;  // the connection is gone
      while (PGnotify* n = PQnotifies(pg)) {
        std::vector<absl::string_view> lines =
            absl::StrSplit(absl::string_view(n->extra), '\n');
        if (!lines.empty() && lines[0] != origin_) {
          for (size_t i = 1; i < lines.size(); ++i) {
            if (lines[i] == kMissed) {
              receive("");
            } else if (!lines[i].empty()) {
              receive(lines[i]);
            }
          }
        }
        PQfreemem(n);
      }
    }
    LogWarn(
        "lost the connection that listens for the other heraldd; "
        "reconnecting",
        {{"error", PQerrorMessage(pg)}});
  }
}

}  // namespace herald::postgres
