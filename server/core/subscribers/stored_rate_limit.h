// A fixed-window rate limit whose counts live in the store (expiring
// records), so that every heraldd on one store counts together: a client
// that spreads its requests over replicas gets no more through than one
// that sends them all to one. Counted inside the caller's transaction: a
// write that is undone (or run again) undoes its count too.
#ifndef HERALD_SERVER_CORE_SUBSCRIBERS_STORED_RATE_LIMIT_H_
#define HERALD_SERVER_CORE_SUBSCRIBERS_STORED_RATE_LIMIT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/store/store.h"

namespace herald {

struct StoredRateLimit {
  std::string kind;  // the store's record kind, e.g. "limit.address"
  int limit = 1;     // events per window
  absl::Duration window = absl::Minutes(1);

  // Counts one event of `key` at `now` and returns true when it is within
  // the limit; returns false, counting nothing, when it is not.
  absl::StatusOr<bool> TryTake(StoreTxn& txn, const std::string& key,
                               absl::Time now) const;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_SUBSCRIBERS_STORED_RATE_LIMIT_H_
