// A rate limit counted in the store: every heraldd on one store counts
// together, windows end on time, and an undone transaction undoes its count.
#include "server/core/subscribers/stored_rate_limit.h"

#include <memory>

#include "gtest/gtest.h"
#include "server/store/memory_store.h"

namespace herald {
namespace {

class StoredRateLimitTest : public ::testing::Test {
 protected:
  // One event of `key` at `now`, in a transaction of its own.
  bool Take(const std::string& key, absl::Time now) {
    bool allowed = false;
    absl::Status s = store_->Write([&](StoreTxn& txn) -> absl::Status {
      absl::StatusOr<bool> got = limit_.TryTake(txn, key, now);
      if (!got.ok()) return got.status();
      allowed = *got;
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return allowed;
  }

  std::unique_ptr<Store> store_ = NewMemoryStore();
  const StoredRateLimit limit_{
      .kind = "limit.test", .limit = 2, .window = absl::Minutes(1)};
  const absl::Time t0_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST_F(StoredRateLimitTest, AllowsTheLimitPerWindowPerKey) {
  EXPECT_TRUE(Take("10.0.0.0/24", t0_));
  EXPECT_TRUE(Take("10.0.0.0/24", t0_ + absl::Seconds(10)));
  EXPECT_FALSE(Take("10.0.0.0/24", t0_ + absl::Seconds(20)));
  EXPECT_TRUE(Take("10.0.1.0/24", t0_ + absl::Seconds(20))) << "another key";
  // The window is fixed: it ends a minute after its first event.
  EXPECT_FALSE(Take("10.0.0.0/24", t0_ + absl::Seconds(59)));
  EXPECT_TRUE(Take("10.0.0.0/24", t0_ + absl::Minutes(1)));
}

TEST_F(StoredRateLimitTest, TwoHeralddOnOneStoreShareTheCount) {
  const StoredRateLimit other = limit_;  // another heraldd's, same kind
  EXPECT_TRUE(Take("a@example.com", t0_));
  absl::Status s = store_->Write([&](StoreTxn& txn) -> absl::Status {
    EXPECT_TRUE(other.TryTake(txn, "a@example.com", t0_).value_or(false));
    EXPECT_FALSE(other.TryTake(txn, "a@example.com", t0_).value_or(true));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(Take("a@example.com", t0_));
}

TEST_F(StoredRateLimitTest, AnUndoneTransactionUndoesItsCount) {
  absl::Status s = store_->Write([&](StoreTxn& txn) -> absl::Status {
    EXPECT_TRUE(limit_.TryTake(txn, "k", t0_).value_or(false));
    EXPECT_TRUE(limit_.TryTake(txn, "k", t0_).value_or(false));
    return absl::AbortedError("undone");
  });
  ASSERT_TRUE(absl::IsAborted(s));
  EXPECT_TRUE(Take("k", t0_));
  EXPECT_TRUE(Take("k", t0_));
}

}  // namespace
}  // namespace herald
