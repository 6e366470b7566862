// FailingStore wraps a Store and, when told to, fails every Write with
// Unavailable (the disk-full or locked database a real deployment meets), or
// holds every write until released (a slow disk, for overload tests).
// Thread-safe.
#ifndef HERALD_TESTS_TESTING_FAILING_STORE_H_
#define HERALD_TESTS_TESTING_FAILING_STORE_H_

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/store/store.h"

namespace herald::testing {

class FailingStore final : public Store {
 public:
  explicit FailingStore(std::unique_ptr<Store> inner)
      : inner_(std::move(inner)) {}

  void FailWrites(bool fail) { fail_writes_ = fail; }

  // While blocked, every Write waits (holding its caller) until unblocked.
  void BlockWrites(bool block) {
    std::vector<std::pair<WriteFn, WriteDone>> released;
    {
      absl::MutexLock lock(&mu_);
      blocked_ = block;
      if (!block) {
        released.swap(held_);
        waiting_ -= static_cast<int>(released.size());
      }
    }
    for (auto& [fn, done] : released) {
      inner_->WriteAsync(std::move(fn), std::move(done));
    }
  }
  // Waits until `n` writers are held by BlockWrites.
  void AwaitBlockedWriters(int n) {
    absl::MutexLock lock(&mu_);
    want_ = n;
    mu_.Await(absl::Condition(this, &FailingStore::EnoughWaiting));
  }

  absl::Status Read(absl::FunctionRef<absl::Status(StoreReader&)> fn) override {
    return inner_->Read(fn);
  }
  absl::Status BackupTo(const std::string& path) override {
    return inner_->BackupTo(path);
  }
  absl::Status Write(absl::FunctionRef<absl::Status(StoreTxn&)> fn) override {
    if (fail_writes_) {
      return absl::UnavailableError("injected: database is locked");
    }
    {
      absl::MutexLock lock(&mu_);
      ++waiting_;
      mu_.Await(absl::Condition(this, &FailingStore::Unblocked));
      --waiting_;
    }
    return inner_->Write(fn);
  }
  // Fails or holds like Write; a held write is queued, not a held thread, so
  // it counts as a blocked writer until BlockWrites(false) releases it.
  void WriteAsync(WriteFn fn, WriteDone done) override {
    if (fail_writes_) {
      done(absl::UnavailableError("injected: database is locked"));
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      if (blocked_) {
        ++waiting_;
        held_.push_back({std::move(fn), std::move(done)});
        return;
      }
    }
    inner_->WriteAsync(std::move(fn), std::move(done));
  }

 private:
  bool EnoughWaiting() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return waiting_ >= want_;
  }
  bool Unblocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !blocked_;
  }

  std::unique_ptr<Store> inner_;
  std::atomic<bool> fail_writes_{false};
  absl::Mutex mu_;
  bool blocked_ ABSL_GUARDED_BY(mu_) = false;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  int want_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::pair<WriteFn, WriteDone>> held_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald::testing

#endif  // HERALD_TESTS_TESTING_FAILING_STORE_H_
