#include "server/delivery/delivery_outbox.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/proto_time.h"
#include "server/delivery/smtp_channel.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using ::testing::_;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Property;
using ::testing::Return;
using ::testing::StartsWith;
using ::testing::StrictMock;

class MockChannel : public Channel {
 public:
  MOCK_METHOD(absl::Status, Send, (const v1::Delivery& delivery), (override));
};

class DeliveryOutboxTest : public ::testing::Test {
 protected:
  int64_t Enqueue(const std::string& key) {
    v1::Delivery d;
    d.set_message_id(1);
    d.set_incident_id(1);
    d.set_channel(v1::CHANNEL_KIND_EMAIL);
    d.set_address("grace@globex.example");
    d.set_idempotency_key(key);
    d.set_state(v1::DELIVERY_STATE_QUEUED);
    *d.mutable_next_attempt_at() = ToProtoTime(clock_.Now());
    int64_t id = 0;
    EXPECT_TRUE(store_
                    ->Write([&](StoreTxn& t) -> absl::Status {
                      id = *t.InsertDelivery(d);
                      return absl::OkStatus();
                    })
                    .ok());
    return id;
  }
  v1::Delivery Get(int64_t id) {
    v1::Delivery out;
    EXPECT_TRUE(store_
                    ->Read([&](StoreReader& r) -> absl::Status {
                      out = *r.GetDelivery(id);
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
  }

  std::unique_ptr<Store> store_ = NewMemoryStore();
  FakeClock clock_{testing::TestEpoch()};
  prometheus::Registry registry_;
  HeraldMetrics metrics_{registry_};
  StrictMock<MockChannel> channel_;
  DeliveryOutbox outbox_{OutboxDeps{
      *store_, clock_, channel_, metrics_,
      RetryPolicy{3, absl::Seconds(10), absl::Minutes(5)}, [] { return 0.5; }}};
};

TEST_F(DeliveryOutboxTest, DueDeliveryIsSentExactlyOnceAndMarkedDelivered) {
  const int64_t id = Enqueue("k1");
  EXPECT_CALL(channel_, Send(Property(&v1::Delivery::idempotency_key, "k1")))
      .WillOnce(Return(absl::OkStatus()));
  EXPECT_EQ(*outbox_.RunOnce(), 1);
  EXPECT_EQ(*outbox_.RunOnce(), 0);
  const v1::Delivery d = Get(id);
  EXPECT_EQ(d.state(), v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(d.attempts(), 1);
  EXPECT_EQ(metrics_.emails_sent.Value(), 1);
}

TEST_F(DeliveryOutboxTest, RetryableFailureWaitsTheJitteredBackoff) {
  const int64_t id = Enqueue("k1");
  EXPECT_CALL(channel_, Send(_))
      .WillOnce(Return(absl::UnavailableError("smtp down")))
      .WillOnce(Return(absl::OkStatus()));
  EXPECT_EQ(*outbox_.RunOnce(), 1);
  v1::Delivery d = Get(id);
  EXPECT_EQ(d.state(), v1::DELIVERY_STATE_RETRYING);
  EXPECT_THAT(d.last_error(), HasSubstr("smtp down"));
  // First retry: full jitter over a 10 s ceiling, pinned at 0.5.
  EXPECT_EQ(FromProtoTime(d.next_attempt_at()),
            clock_.Now() + absl::Seconds(5));
  clock_.Advance(absl::Seconds(4));
  EXPECT_EQ(*outbox_.RunOnce(), 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(*outbox_.RunOnce(), 1);
  EXPECT_EQ(Get(id).state(), v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(metrics_.emails_failed.Value(), 1);
}

TEST_F(DeliveryOutboxTest, GivesUpAfterMaxAttempts) {
  const int64_t id = Enqueue("k1");
  EXPECT_CALL(channel_, Send(_))
      .Times(3)
      .WillRepeatedly(Return(absl::UnavailableError("down")));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(*outbox_.RunOnce(), 1);
    clock_.Advance(absl::Minutes(10));
  }
  EXPECT_EQ(*outbox_.RunOnce(), 0);
  EXPECT_EQ(Get(id).state(), v1::DELIVERY_STATE_FAILED);
  EXPECT_EQ(Get(id).attempts(), 3);
}

TEST_F(DeliveryOutboxTest, PermanentFailureIsNotRetried) {
  const int64_t id = Enqueue("k1");
  EXPECT_CALL(channel_, Send(_))
      .WillOnce(Return(absl::FailedPreconditionError("550 no such user")));
  EXPECT_EQ(*outbox_.RunOnce(), 1);
  EXPECT_EQ(Get(id).state(), v1::DELIVERY_STATE_FAILED);
}

TEST_F(DeliveryOutboxTest, BackoffDoublesUpToTheCap) {
  EXPECT_EQ(outbox_.Backoff(1), absl::Seconds(5));
  EXPECT_EQ(outbox_.Backoff(2), absl::Seconds(10));
  EXPECT_EQ(outbox_.Backoff(3), absl::Seconds(20));
  EXPECT_EQ(outbox_.Backoff(30), absl::Seconds(150));
}

TEST_F(DeliveryOutboxTest, SendInterruptedByACrashIsResentWithTheSameKey) {
  const int64_t id = Enqueue("k1");
  // Simulate a crash after the claim was committed but before the outcome.
  ASSERT_TRUE(store_
                  ->Write([&](StoreTxn& t) {
                    v1::Delivery d = *t.GetDelivery(id);
                    d.set_state(v1::DELIVERY_STATE_SENDING);
                    d.set_attempts(1);
                    return t.UpdateDelivery(d);
                  })
                  .ok());
  EXPECT_EQ(*outbox_.RunOnce(), 0);
  EXPECT_EQ(*outbox_.RecoverInterrupted(), 1);
  EXPECT_CALL(channel_, Send(Property(&v1::Delivery::idempotency_key, "k1")))
      .WillOnce(Return(absl::OkStatus()));
  EXPECT_EQ(*outbox_.RunOnce(), 1);
  EXPECT_EQ(Get(id).attempts(), 2);
}

TEST(SmtpChannelTest, HeadersAreDerivedFromTheDelivery) {
  FakeClock clock(testing::TestEpoch());
  SmtpChannel smtp({"smtp://127.0.0.1:1", "status@acme.example", "Acme Cloud",
                    "", "", absl::Seconds(1)},
                   clock);
  v1::Delivery d;
  d.set_address("grace@globex.example");
  d.set_subject("Grace, we are sorry — really");
  d.set_body("line one\nline two\n");
  d.set_idempotency_key("msg-3-subscriber-globex-email");
  const std::vector<std::string> h = smtp.Headers(d);
  EXPECT_THAT(h, Contains("From: Acme Cloud <status@acme.example>"));
  EXPECT_THAT(h, Contains("To: <grace@globex.example>"));
  EXPECT_THAT(
      h, Contains("Message-ID: <msg-3-subscriber-globex-email@acme.example>"));
  EXPECT_THAT(h, Contains(StartsWith("Subject: =?UTF-8?B?")));
  EXPECT_THAT(h, Contains("Date: Mon, 23 Nov 2026 10:00:00 +0000"));
}

TEST(SmtpChannelTest, UnreachableServerIsRetryable) {
  FakeClock clock(testing::TestEpoch());
  SmtpChannel smtp({"smtp://127.0.0.1:1", "status@acme.example", "", "", "",
                    absl::Seconds(2)},
                   clock);
  v1::Delivery d;
  d.set_address("grace@globex.example");
  d.set_idempotency_key("k");
  EXPECT_TRUE(IsRetryable(smtp.Send(d)));
}

TEST(SmtpChannelTest, ErrorsNeverRepeatCredentialsFromTheUrl) {
  FakeClock clock(testing::TestEpoch());
  SmtpChannel smtp({"smtp://mailer:s3cret@127.0.0.1:1", "status@acme.example",
                    "", "", "", absl::Seconds(2)},
                   clock);
  v1::Delivery d;
  d.set_address("grace@globex.example");
  absl::Status s = smtp.Send(d);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("s3cret")));
  EXPECT_THAT(std::string(s.message()), HasSubstr("127.0.0.1:1"));
}

TEST(SmtpChannelTest, AddressWithHeaderInjectionIsRefused) {
  FakeClock clock(testing::TestEpoch());
  SmtpChannel smtp({"smtp://127.0.0.1:1", "status@acme.example", "", "", "",
                    absl::Seconds(1)},
                   clock);
  v1::Delivery d;
  d.set_address("a@b.c>\r\nBcc: <x@y.z");
  EXPECT_EQ(smtp.Send(d).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace herald
