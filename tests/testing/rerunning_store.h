// RerunningStore wraps a Store and runs every write's `fn` twice, as a store
// that retries a transaction after a serialization failure (PostgreSQL) may
// run it: the first run's changes are rolled back (it ends with an error of
// this store's own), then `fn` runs again from the start on a fresh
// transaction, and only that run counts. A caller whose `fn` leaves anything
// behind outside the transaction (an item pushed, a count, an event
// published, a rate-limit token taken) shows it twice. Read, the claims and
// BackupTo go to the inner store unchanged.
// Thread-safe as the inner store is. WriteAsync starts the second run from
// the first run's `done`, so the inner store must take a WriteAsync from
// there (the in-memory and SQLite stores and FailingStore do).
#ifndef HERALD_TESTS_TESTING_RERUNNING_STORE_H_
#define HERALD_TESTS_TESTING_RERUNNING_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/store/store.h"

namespace herald::testing {

class RerunningStore final : public Store {
 public:
  explicit RerunningStore(std::unique_ptr<Store> inner)
      : inner_(std::move(inner)) {}

  // How many runs of `fn` were rolled back so far: one per write that
  // reached the inner store's transaction.
  int64_t discarded_runs() const { return discarded_runs_.load(); }

  absl::StatusOr<std::vector<v1::Delivery>> ClaimDueDeliveries(
      const ClaimRequest& claim) override {
    return inner_->ClaimDueDeliveries(claim);
  }
  absl::StatusOr<std::vector<v1::Job>> ClaimDueJobs(
      const ClaimRequest& claim) override {
    return inner_->ClaimDueJobs(claim);
  }
  absl::Status Read(absl::FunctionRef<absl::Status(StoreReader&)> fn) override {
    return inner_->Read(fn);
  }
  absl::Status BackupTo(const std::string& path) override {
    return inner_->BackupTo(path);
  }

  // The first run ends in Discarded() whatever `fn` returned; the second
  // run's result is the write's. A store that refuses before `fn` runs
  // (FailingStore) is answered at once, with no second run.
  absl::Status Write(absl::FunctionRef<absl::Status(StoreTxn&)> fn) override {
    absl::Status first = inner_->Write(
        [&](StoreTxn& txn) -> absl::Status { return Discard(fn(txn)); });
    if (first != Discarded()) return first;
    return inner_->Write(fn);
  }

  void WriteAsync(WriteFn fn, WriteDone done) override {
    auto shared = std::make_shared<WriteFn>(std::move(fn));
    inner_->WriteAsync(
        [this, shared](StoreTxn& txn) -> absl::Status {
          return Discard((*shared)(txn));
        },
        [this, shared, done = std::move(done)](absl::Status first) mutable {
          if (first != Discarded()) {
            done(std::move(first));
            return;
          }
          inner_->WriteAsync(
              [shared](StoreTxn& txn) -> absl::Status {
                return (*shared)(txn);
              },
              std::move(done));
        });
  }

 private:
  // What the first run returns to the inner store, so that it rolls back.
  static absl::Status Discarded() {
    return absl::AbortedError("RerunningStore: first run rolled back");
  }

  absl::Status Discard(absl::Status ran) {
    ran.IgnoreError();  // the second run decides
    ++discarded_runs_;
    return Discarded();
  }

  const std::unique_ptr<Store> inner_;
  std::atomic<int64_t> discarded_runs_{0};
};

}  // namespace herald::testing

#endif  // HERALD_TESTS_TESTING_RERUNNING_STORE_H_
