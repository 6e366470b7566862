// FailingStore wraps a Store and, when told to, fails every Write with
// Unavailable before touching the wrapped store: the disk-full or locked
// database a real deployment meets. Thread-safe.
#ifndef HERALD_TESTS_TESTING_FAILING_STORE_H_
#define HERALD_TESTS_TESTING_FAILING_STORE_H_

#include <atomic>
#include <memory>

#include "server/store/store.h"

namespace herald::testing {

class FailingStore final : public Store {
 public:
  explicit FailingStore(std::unique_ptr<Store> inner)
      : inner_(std::move(inner)) {}

  void FailWrites(bool fail) { fail_writes_ = fail; }

  absl::Status Read(absl::FunctionRef<absl::Status(StoreReader&)> fn) override {
    return inner_->Read(fn);
  }
  absl::Status Write(absl::FunctionRef<absl::Status(StoreTxn&)> fn) override {
    if (fail_writes_)
      return absl::UnavailableError("injected: database is locked");
    return inner_->Write(fn);
  }

 private:
  std::unique_ptr<Store> inner_;
  std::atomic<bool> fail_writes_{false};
};

}  // namespace herald::testing

#endif  // HERALD_TESTS_TESTING_FAILING_STORE_H_
