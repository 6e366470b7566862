// KeyedRateLimiter allows each key (a client's network, a target address)
// at most `limit` events per fixed window of `window`, with bounded memory:
// it tracks at most `max_keys` keys, forgets a key once its window is over,
// and when full evicts the key whose window started first. Eviction forgets
// that key's count, so a source that controls more than `max_keys` keys can
// get more than `limit` through; callers keep a durable check where that
// matters. Time comes from the caller (an injected clock).
// Thread-safe.
#ifndef HERALD_SERVER_BASE_KEYED_RATE_LIMITER_H_
#define HERALD_SERVER_BASE_KEYED_RATE_LIMITER_H_

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace herald {

class KeyedRateLimiter {
 public:
  struct Options {
    int limit = 60;
    absl::Duration window = absl::Minutes(1);
    size_t max_keys = 10000;
  };
  explicit KeyedRateLimiter(Options options);

  // Counts one event of `key` at `now` and returns true when it is within
  // the key's limit; returns false (and counts nothing) when it is not.
  bool TryTake(absl::string_view key, absl::Time now);

  // How many keys are tracked now (at most max_keys).
  size_t tracked_keys() const;

 private:
  struct Entry {
    std::string key;
    absl::Time window_start;
    int count = 0;
  };

  const Options options_;
  mutable absl::Mutex mu_;
  // Oldest window first.
  std::list<Entry> order_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, std::list<Entry>::iterator> index_
      ABSL_GUARDED_BY(mu_);
};

// The rate-limit key for a client at network address `peer` (as text): an
// IPv4 address as it is, an IPv6 address by its /64 network (what one
// subscriber line is usually given), an IPv4-mapped IPv6 address as the
// IPv4 one; anything else as it is ("" for unknown).
std::string ClientNetworkKey(absl::string_view peer);

}  // namespace herald

#endif  // HERALD_SERVER_BASE_KEYED_RATE_LIMITER_H_
