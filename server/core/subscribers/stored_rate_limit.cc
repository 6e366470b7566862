#include "server/core/subscribers/stored_rate_limit.h"

#include <cstdint>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace herald {

// The record holds "<count> <window end, unix microseconds>"; it expires
// with its window.
absl::StatusOr<bool> StoredRateLimit::TryTake(StoreTxn& txn,
                                              const std::string& key,
                                              absl::Time now) const {
  absl::StatusOr<std::string> stored = txn.GetExpiring(kind, key, now);
  if (!stored.ok() && !absl::IsNotFound(stored.status())) {
    return stored.status();
  }
  int64_t count = 0;
  int64_t ends_us = absl::ToUnixMicros(now + window);
  if (stored.ok()) {
    const std::vector<absl::string_view> parts = absl::StrSplit(*stored, ' ');
    // A record that cannot be read starts a new window.
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &count) ||
        !absl::SimpleAtoi(parts[1], &ends_us)) {
      count = 0;
      ends_us = absl::ToUnixMicros(now + window);
    }
  }
  if (count >= limit) return false;
  absl::Status put =
      txn.PutExpiring(kind, key, absl::StrCat(count + 1, " ", ends_us),
                      absl::FromUnixMicros(ends_us));
  if (!put.ok()) return put;
  return true;
}

}  // namespace herald
