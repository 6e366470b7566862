// The fixture and helpers the delivery_outbox_test*.cc files share.
#ifndef HERALD_TESTS_DELIVERY_DELIVERY_OUTBOX_FIXTURE_H_
#define HERALD_TESTS_DELIVERY_DELIVERY_OUTBOX_FIXTURE_H_

#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <thread>

#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "herald/v1/outbound.pb.h"
#include "server/base/proto_time.h"
#include "server/delivery/delivery_outbox.h"
#include "server/store/sqlite_store.h"
#include "tests/testing/fake_channel.h"
#include "tests/testing/harness.h"

namespace herald {
// Named, not anonymous: the fixture is one type in every file.
namespace outbox_testing {

using ::testing::AllOf;
using testing::CoreHarness;
using ::testing::ElementsAre;
using testing::FakeChannel;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::MockChannel;
using ::testing::Not;
using ::testing::Pair;
using ::testing::Return;
using ::testing::SizeIs;
using ::testing::StartsWith;
using ::testing::StrictMock;

inline v1::Contact MakeContact(v1::ChannelKind channel,
                               const std::string& address) {
  v1::Contact c;
  c.set_channel(channel);
  c.set_address(address);
  if (channel == v1::CHANNEL_KIND_WEBHOOK) {
    c.add_signing_secrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  }
  return c;
}

// Opens an incident on checkout and approves an engineer's update to it.
struct Published {
  int64_t incident;
  int64_t message;
};
inline Published PublishCheckoutUpdate(CoreHarness& h,
                                       const std::string& group = "g1") {
  const int64_t incident =
      h.intake.Ingest(testing::FiringGroup(group, "checkout", {group}))
          ->incident_id;
  const v1::Message draft =
      h.workflow.PostUpdate(testing::Engineer(), incident, "rolled back")
          ->draft;
  EXPECT_TRUE(
      h.workflow.Approve(testing::CommsLead(), draft.id(), 0, kAsWritten).ok());
  return {incident, draft.id()};
}

// Matches the sends of message `msg` to its customers (staff notices of
// the incident have keys of their own).
inline auto ToCustomersOf(int64_t msg) {
  return Field(&Outgoing::idempotency_key,
               StartsWith(absl::StrCat("msg-", msg, "-subscriber-")));
}
// Matches the sends of message `msg` to subscriber `id`, from any contact.
inline auto ToSubscriber(int64_t msg, const std::string& id) {
  return Field(&Outgoing::idempotency_key,
               StartsWith(absl::StrCat("msg-", msg, "-subscriber-", id, ".")));
}
// Lets `channel` deliver whatever is not for msg's customers: the staff
// notices every publication brings.
inline void AllowStaffNotices(StrictMock<MockChannel>& channel, int64_t msg) {
  EXPECT_CALL(channel, Send(Not(ToCustomersOf(msg))))
      .WillRepeatedly(Return(SendResult::Delivered()));
}
// `channel` delivers message `msg` to each subscriber of `ids` exactly once,
// and lets the staff notices through.
inline void ExpectDeliveredOnceTo(StrictMock<MockChannel>& channel, int64_t msg,
                                  std::initializer_list<const char*> ids) {
  AllowStaffNotices(channel, msg);
  for (const char* id : ids) {
    EXPECT_CALL(channel, Send(ToSubscriber(msg, id)))
        .WillOnce(Return(SendResult::Delivered()));
  }
}

constexpr char kHook[] = "https://hooks.acme.example/herald";
constexpr char kGateway[] = "https://sms.example/send";

class DeliveryOutboxTest : public ::testing::Test {
 protected:
  DeliveryOutboxTest() {
    // Besides the demo's email-only subscribers: one reached by webhook,
    // then SMS, then email.
    v1::Subscriber ops;
    ops.set_id("acme-ops");
    ops.set_name("Acme Ops");
    ops.set_email("ops@acme.example");
    ops.add_component_ids("checkout");
    *ops.add_contacts() = MakeContact(v1::CHANNEL_KIND_WEBHOOK, kHook);
    *ops.add_contacts() = MakeContact(v1::CHANNEL_KIND_SMS, "+4915112345678");
    *ops.add_contacts() =
        MakeContact(v1::CHANNEL_KIND_EMAIL, "ops@acme.example");
    Put(ops);
  }

  void Put(const v1::Subscriber& s) {
    ASSERT_TRUE(
        h_.store->Write([&](StoreTxn& t) { return t.PutSubscriber(s); }).ok());
  }

  // Publishes an update on a new checkout outage; returns the message id.
  int64_t PublishCheckoutUpdate(const std::string& group = "g1") {
    return outbox_testing::PublishCheckoutUpdate(h_, group).message;
  }

  v1::Delivery DeliveryOf(int64_t message, const std::string& recipient) {
    for (const v1::Delivery& d : h_.Read<std::vector<v1::Delivery>>(
             [&](StoreReader& r) { return r.ListDeliveries(message, 0); })) {
      if (d.recipient() == recipient) return d;
    }
    ADD_FAILURE() << "no delivery of " << message << " to " << recipient;
    return {};
  }

  v1::Subscriber Subscriber(const std::string& id) {
    return h_.Read<v1::Subscriber>(
        [&](StoreReader& r) { return r.GetSubscriber(id); });
  }

  // Runs passes until none finds anything due now.
  void Drain() {
    while (*outbox_.RunOnce() > 0) {
    }
  }

  double Counter(const std::string& channel, const std::string& result) {
    return h_.delivery_metrics.Deliveries(channel, result).Value();
  }

  // An outbox on this store that sends everything through `channel`.
  std::unique_ptr<DeliveryOutbox> OutboxOn(Channel& channel) {
    return std::make_unique<DeliveryOutbox>(
        OutboxDeps{.store = *h_.store,
                   .clock = h_.clock,
                   .composer = composer_,
                   .channels = {{v1::CHANNEL_KIND_EMAIL, &channel},
                                {v1::CHANNEL_KIND_WEBHOOK, &channel},
                                {v1::CHANNEL_KIND_SLACK, &channel},
                                {v1::CHANNEL_KIND_SMS, &channel}},
                   .metrics = h_.delivery_metrics,
                   .delivery = DeliverySettings{},
                   .random = [] { return 0.5; }});
  }

  CoreHarness h_;
  FakeChannel email_, http_;
  DeliveryComposer composer_{
      h_.drafter, h_.org,
      ComposerOptions{
          "https://status.acme.example", kGateway, {"whsec_c2Vjb25k"}}};
  DeliveryOutbox outbox_{
      OutboxDeps{.store = *h_.store,
                 .clock = h_.clock,
                 .composer = composer_,
                 .channels = {{v1::CHANNEL_KIND_EMAIL, &email_},
                              {v1::CHANNEL_KIND_WEBHOOK, &http_},
                              {v1::CHANNEL_KIND_SLACK, &http_},
                              {v1::CHANNEL_KIND_SMS, &http_}},
                 .metrics = h_.delivery_metrics,
                 .delivery = DeliverySettings{},
                 .random = [] { return 0.5; }}};
};

}  // namespace outbox_testing
}  // namespace herald

#endif  // HERALD_TESTS_DELIVERY_DELIVERY_OUTBOX_FIXTURE_H_
