#include "server/base/keyed_rate_limiter.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <utility>

#include "absl/strings/str_format.h"

namespace herald {

KeyedRateLimiter::KeyedRateLimiter(Options options)
    : options_(std::move(options)) {}

bool KeyedRateLimiter::TryTake(absl::string_view key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  // Windows that are over need no memory.
  while (!order_.empty() &&
         now - order_.front().window_start >= options_.window) {
    index_.erase(order_.front().key);
    order_.pop_front();
  }
  auto found = index_.find(std::string(key));
  if (found != index_.end()) {
    Entry& e = *found->second;
    if (now - e.window_start >= options_.window) {
      // Only when the clock went backwards does an old window survive the
      // sweep above: start a new one.
      e.window_start = now;
      e.count = 0;
      order_.splice(order_.end(), order_, found->second);
    }
    if (e.count >= options_.limit) return false;
    ++e.count;
    return true;
  }
  if (options_.limit <= 0) return false;
  if (options_.max_keys == 0) return true;
  if (order_.size() >= options_.max_keys) {
    index_.erase(order_.front().key);
    order_.pop_front();
  }
  order_.push_back(Entry{std::string(key), now, 1});
  index_.emplace(order_.back().key, std::prev(order_.end()));
  return true;
}

size_t KeyedRateLimiter::tracked_keys() const {
  absl::MutexLock lock(&mu_);
  return order_.size();
}

std::string ClientNetworkKey(absl::string_view peer) {
  const std::string text(peer);
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return text;
  const uint8_t* b = v6.s6_addr;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0,    0,
                                          0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(b, b + 12, kMapped)) {
    return absl::StrFormat("%d.%d.%d.%d", b[12], b[13], b[14], b[15]);
  }
  return absl::StrFormat("%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", b[0], b[1],
                         b[2], b[3], b[4], b[5], b[6], b[7]);
}

}  // namespace herald
