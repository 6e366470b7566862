#include "server/base/keyed_rate_limiter.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

TEST(KeyedRateLimiterTest, EachKeyHasItsOwnLimitPerWindow) {
  KeyedRateLimiter limiter({.limit = 2, .window = absl::Minutes(1)});
  const absl::Time t0 = testing::TestEpoch();
  EXPECT_TRUE(limiter.TryTake("a", t0));
  EXPECT_TRUE(limiter.TryTake("a", t0 + absl::Seconds(1)));
  EXPECT_FALSE(limiter.TryTake("a", t0 + absl::Seconds(2)));
  EXPECT_TRUE(limiter.TryTake("b", t0 + absl::Seconds(2)));
  EXPECT_FALSE(limiter.TryTake("a", t0 + absl::Seconds(59)));
  EXPECT_TRUE(limiter.TryTake("a", t0 + absl::Minutes(1)));
}

TEST(KeyedRateLimiterTest, MemoryIsBoundedAndTheOldestWindowIsEvicted) {
  KeyedRateLimiter limiter(
      {.limit = 1, .window = absl::Minutes(1), .max_keys = 3});
  const absl::Time t0 = testing::TestEpoch();
  for (int i = 0; i < 1000; ++i) {
    limiter.TryTake(absl::StrCat("k", i), t0 + absl::Milliseconds(i));
    ASSERT_LE(limiter.tracked_keys(), 3u);
  }
  // The three newest are still counted; an evicted one starts afresh.
  EXPECT_FALSE(limiter.TryTake("k999", t0 + absl::Seconds(2)));
  EXPECT_TRUE(limiter.TryTake("k0", t0 + absl::Seconds(2)));
}

TEST(KeyedRateLimiterTest, KeysWhoseWindowIsOverAreForgotten) {
  KeyedRateLimiter limiter({.limit = 1, .window = absl::Minutes(1)});
  const absl::Time t0 = testing::TestEpoch();
  for (int i = 0; i < 50; ++i) limiter.TryTake(absl::StrCat("k", i), t0);
  EXPECT_EQ(limiter.tracked_keys(), 50u);
  EXPECT_TRUE(limiter.TryTake("new", t0 + absl::Minutes(1)));
  EXPECT_EQ(limiter.tracked_keys(), 1u);
}

TEST(ClientNetworkKeyTest, Ipv6ClientsAreKeyedByTheirSlash64) {
  EXPECT_EQ(ClientNetworkKey("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(ClientNetworkKey("::ffff:203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(ClientNetworkKey("2001:db8:1:2::1"), "2001:0db8:0001:0002::/64");
  EXPECT_EQ(ClientNetworkKey("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            ClientNetworkKey("2001:db8:1:2::1"));
  EXPECT_NE(ClientNetworkKey("2001:db8:1:3::1"),
            ClientNetworkKey("2001:db8:1:2::1"));
  EXPECT_EQ(ClientNetworkKey(""), "");
}

}  // namespace
}  // namespace herald
