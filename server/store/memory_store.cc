#include "server/store/memory_store.h"

#include "absl/synchronization/mutex.h"
#include "server/store/memory_txn.h"

namespace herald {
namespace {

using memory::MemoryTxn;
using memory::State;

class MemoryStore final : public Store {
 public:
  absl::Status Read(absl::FunctionRef<absl::Status(StoreReader&)> fn) override {
    absl::ReaderMutexLock lock(&mu_);
    MemoryTxn txn(state_);
    return fn(txn);
  }
  absl::Status Write(absl::FunctionRef<absl::Status(StoreTxn&)> fn) override {
    absl::MutexLock lock(&mu_);
    State copy = state_;
    MemoryTxn txn(copy);
    absl::Status s = fn(txn);
    if (s.ok()) state_ = std::move(copy);
    return s;
  }
  void WriteAsync(WriteFn fn, WriteDone done) override {
    done(Write([&fn](StoreTxn& txn) { return fn(txn); }));
  }

 private:
  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<Store> NewMemoryStore() {
  return std::make_unique<MemoryStore>();
}

}  // namespace herald
