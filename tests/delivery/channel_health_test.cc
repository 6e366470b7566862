#include "server/delivery/channel_health.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "herald/enum_labels.h"
#include "prometheus/registry.h"
#include "server/delivery/delivery_metrics.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

class ChannelHealthTest : public ::testing::Test {
 protected:
  double Up(v1::ChannelKind channel) {
    return metrics_.channel_up.Add({{"channel", EnumLabel(channel)}}).Value();
  }

  const absl::Time t0_ = testing::TestEpoch();
  prometheus::Registry registry_;
  DeliveryMetrics metrics_{registry_};
  ChannelHealth health_{ChannelHealthOptions{.probe_base = absl::Seconds(5),
                                             .probe_cap = absl::Seconds(40)},
                        metrics_.channel_up,
                        {v1::CHANNEL_KIND_EMAIL, v1::CHANNEL_KIND_SMS}};
};

TEST_F(ChannelHealthTest, ChannelsStartUpAndSendFreely) {
  EXPECT_EQ(Up(v1::CHANNEL_KIND_EMAIL), 1);
  EXPECT_EQ(Up(v1::CHANNEL_KIND_SMS), 1);
  EXPECT_TRUE(health_.Check(v1::CHANNEL_KIND_EMAIL, t0_).send);
  EXPECT_FALSE(health_.Answered(v1::CHANNEL_KIND_EMAIL, t0_))
      << "it was not down";
}

TEST_F(ChannelHealthTest, AFailureOpensTheBreakerAndOneSendAtATimeProbes) {
  const ChannelHealth::Verdict failed =
      health_.Failed(v1::CHANNEL_KIND_EMAIL, t0_, "connection refused",
                     /*probe=*/false);
  EXPECT_FALSE(failed.send);
  EXPECT_EQ(failed.down_since, t0_);
  EXPECT_EQ(failed.retry_at, t0_ + absl::Seconds(5));
  EXPECT_EQ(Up(v1::CHANNEL_KIND_EMAIL), 0);
  EXPECT_EQ(Up(v1::CHANNEL_KIND_SMS), 1) << "only email is down";

  // Before the probe is due, sends wait (for at most the longest probe gap).
  ChannelHealth::Verdict wait =
      health_.Check(v1::CHANNEL_KIND_EMAIL, t0_ + absl::Seconds(1));
  EXPECT_FALSE(wait.send);
  EXPECT_EQ(wait.error, "connection refused");
  EXPECT_EQ(wait.retry_at, t0_ + absl::Seconds(41));
  // At the probe: one send goes, the next waits for what it finds.
  EXPECT_TRUE(
      health_.Check(v1::CHANNEL_KIND_EMAIL, t0_ + absl::Seconds(5)).send);
  EXPECT_FALSE(
      health_.Check(v1::CHANNEL_KIND_EMAIL, t0_ + absl::Seconds(5)).send);
  EXPECT_TRUE(health_.Check(v1::CHANNEL_KIND_SMS, t0_ + absl::Seconds(5)).send);
}

TEST_F(ChannelHealthTest, ProbesBackOffToTheCapAndTheFirstAnswerClosesIt) {
  absl::Time now = t0_;
  std::vector<absl::Duration> gaps;
  for (int i = 0; i < 6; ++i) {
    const ChannelHealth::Verdict v =
        health_.Failed(v1::CHANNEL_KIND_EMAIL, now, "timeout", /*probe=*/i > 0);
    EXPECT_EQ(v.down_since, t0_);
    gaps.push_back(v.retry_at - now);
    now = v.retry_at;
    ASSERT_TRUE(health_.Check(v1::CHANNEL_KIND_EMAIL, now).probe);
  }
  EXPECT_THAT(gaps,
              ::testing::ElementsAre(absl::Seconds(5), absl::Seconds(10),
                                     absl::Seconds(20), absl::Seconds(40),
                                     absl::Seconds(40), absl::Seconds(40)));
  EXPECT_TRUE(health_.Answered(v1::CHANNEL_KIND_EMAIL, now));
  EXPECT_EQ(Up(v1::CHANNEL_KIND_EMAIL), 1);
  EXPECT_TRUE(health_.Check(v1::CHANNEL_KIND_EMAIL, now).send);
  // A later outage starts its backoff afresh.
  EXPECT_EQ(
      health_.Failed(v1::CHANNEL_KIND_EMAIL, now, "refused", false).retry_at,
      now + absl::Seconds(5));
}

}  // namespace
}  // namespace herald
