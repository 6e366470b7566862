#include "server/store/store.h"

#include <utility>

#include "server/base/proto_time.h"

namespace herald {

// Both claims run in one write transaction: a store with one writer (SQLite,
// the in-memory store) runs claims one after the other, so no two claimers
// ever get the same row. A store that writes concurrently (PostgreSQL)
// overrides them with row locks.

absl::StatusOr<std::vector<v1::Delivery>> Store::ClaimDueDeliveries(
    const ClaimRequest& claim) {
  std::vector<v1::Delivery> claimed;
  absl::Status s = Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<std::vector<v1::Delivery>> due =
        txn.ListDueDeliveries(claim.now, claim.limit);
    if (!due.ok()) return due.status();
    absl::StatusOr<std::vector<v1::Delivery>> taken =
        TakeDeliveries(txn, *std::move(due), claim);
    if (!taken.ok()) return taken.status();
    claimed = *std::move(taken);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return claimed;
}

absl::StatusOr<std::vector<v1::Job>> Store::ClaimDueJobs(
    const ClaimRequest& claim) {
  std::vector<v1::Job> claimed;
  absl::Status s = Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<std::vector<v1::Job>> due =
        txn.ListDueJobs(claim.now, claim.limit);
    if (!due.ok()) return due.status();
    if (absl::Status st = TakeJobs(txn, *due, claim); !st.ok()) return st;
    claimed = *std::move(due);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return claimed;
}

absl::StatusOr<std::vector<v1::Delivery>> Store::TakeDeliveries(
    StoreTxn& txn, std::vector<v1::Delivery> due, const ClaimRequest& claim) {
  for (v1::Delivery& d : due) {
    d.set_state(v1::DELIVERY_STATE_SENDING);
    d.set_attempts(d.attempts() + 1);
    d.set_contact_attempts(d.contact_attempts() + 1);
    *d.mutable_next_attempt_at() = ToProtoTime(claim.now + claim.lease);
    if (absl::Status st = txn.UpdateDelivery(d); !st.ok()) return st;
  }
  return due;
}

absl::Status Store::TakeJobs(StoreTxn& txn, const std::vector<v1::Job>& due,
                             const ClaimRequest& claim) {
  for (const v1::Job& job : due) {
    absl::Status st = txn.LeaseJob(job.id(), claim.now + claim.lease);
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace herald
