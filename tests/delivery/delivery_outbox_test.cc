#include "server/delivery/delivery_outbox.h"

#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "herald/v1/outbound.pb.h"
#include "server/base/proto_time.h"
#include "server/store/sqlite_store.h"
#include "tests/testing/fake_channel.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using testing::CoreHarness;
using ::testing::ElementsAre;
using testing::FakeChannel;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;

v1::Contact MakeContact(v1::ChannelKind channel, const std::string& address) {
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
Published PublishCheckoutUpdate(CoreHarness& h,
                                const std::string& group = "g1") {
  const int64_t incident =
      h.intake.Ingest(testing::FiringGroup(group, "checkout", {group}))
          ->incident_id;
  const v1::Message draft =
      h.workflow.PostUpdate(testing::Engineer(), incident, "rolled back")
          ->draft;
  EXPECT_TRUE(h.workflow.Approve(testing::CommsLead(), draft.id(), 0).ok());
  return {incident, draft.id()};
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
    return herald::PublishCheckoutUpdate(h_, group).message;
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
    return h_.metrics.Deliveries(channel, result).Value();
  }

  CoreHarness h_;
  FakeChannel email_, http_;
  DeliveryComposer composer_{
      h_.drafter, h_.org,
      ComposerOptions{
          "https://status.acme.example", kGateway, {"whsec_c2Vjb25k"}}};
  DeliveryOutbox outbox_{OutboxDeps{*h_.store,
                                    h_.clock,
                                    composer_,
                                    {{v1::CHANNEL_KIND_EMAIL, &email_},
                                     {v1::CHANNEL_KIND_WEBHOOK, &http_},
                                     {v1::CHANNEL_KIND_SLACK, &http_},
                                     {v1::CHANNEL_KIND_SMS, &http_}},
                                    h_.metrics,
                                    DeliverySettings{},
                                    [] { return 0.5; }}};
};

TEST_F(DeliveryOutboxTest,
       PublishingQueuesOneDeliveryPerSubscriberWithoutContent) {
  const int64_t msg = PublishCheckoutUpdate();
  const auto list = h_.Read<std::vector<v1::Delivery>>(
      [&](StoreReader& r) { return r.ListDeliveries(msg, 0); });
  ASSERT_THAT(list, SizeIs(3));  // globex, initech, acme-ops
  for (const v1::Delivery& d : list) {
    EXPECT_EQ(d.state(), v1::DELIVERY_STATE_QUEUED);
    EXPECT_EQ(d.idempotency_key(),
              absl::StrCat("msg-", msg, "-",
                           absl::StrReplaceAll(d.recipient(), {{":", "-"}})));
    EXPECT_THAT(d.body(), IsEmpty());
  }
}

TEST_F(DeliveryOutboxTest, EachRecipientGetsItsFirstContactExactlyOnce) {
  const int64_t msg = PublishCheckoutUpdate();
  Drain();
  const auto grace = email_.SentTo("grace@globex.example");
  ASSERT_THAT(grace, SizeIs(1));
  EXPECT_THAT(grace[0].text, HasSubstr("Grace Hopper"));
  EXPECT_THAT(grace[0].html, HasSubstr("<"));
  EXPECT_EQ(grace[0].idempotency_key,
            absl::StrCat("msg-", msg, "-subscriber-globex.0"));
  ASSERT_THAT(http_.SentTo(kHook), SizeIs(1));
  EXPECT_THAT(email_.SentTo("ops@acme.example"), IsEmpty());
  const v1::Delivery d = DeliveryOf(msg, "subscriber:acme-ops");
  EXPECT_EQ(d.state(), v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(d.channel(), v1::CHANNEL_KIND_WEBHOOK);
  EXPECT_EQ(d.attempts(), 1);
  EXPECT_EQ(Counter("webhook", "delivered"), 1);
  EXPECT_THAT(email_.SentTo("peter@initech.example"), SizeIs(1));
}

TEST_F(DeliveryOutboxTest, WebhookBodyIsTheEventForThatRecipient) {
  const int64_t msg = PublishCheckoutUpdate();
  Drain();
  const auto sent = http_.SentTo(kHook);
  ASSERT_THAT(sent, SizeIs(1));
  v1::WebhookEvent event;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(sent[0].json, &event).ok());
  EXPECT_EQ(event.type(), "incident.updated");
  EXPECT_EQ(event.message().ref(), absl::StrCat("MSG-", msg));
  EXPECT_EQ(event.recipient().name(), "Acme Ops");
  EXPECT_THAT(event.incident().components(), ElementsAre("checkout"));
  EXPECT_EQ(event.incident().url(), "https://status.acme.example");
  EXPECT_THAT(sent[0].signing_secrets, SizeIs(1));
}

TEST_F(DeliveryOutboxTest,
       AStopFinishesTheSendUnderWayAndPutsTheRestOfTheClaimBack) {
  // 3 customers, and the notices to the point person and comms lead.
  const int64_t msg = PublishCheckoutUpdate();
  // The first send is under way when the stop comes.
  const auto stop_on_first_send = [&](const Outgoing&) {
    outbox_.StopSending();
    return SendResult::Delivered();
  };
  email_.RespondWith(stop_on_first_send);
  http_.RespondWith(stop_on_first_send);
  // The customers' deliveries and the staff notices.
  const int total = h_.Read<int>([&](StoreReader& r) -> absl::StatusOr<int> {
    absl::StatusOr<v1::Message> m = r.GetMessage(msg);
    if (!m.ok()) return m.status();
    auto customers = r.ListDeliveries(msg, 0);
    auto staff = r.ListDeliveries(0, m->incident_id());
    if (!customers.ok()) return customers.status();
    if (!staff.ok()) return staff.status();
    return static_cast<int>(customers->size() + staff->size());
  });
  ASSERT_GE(total, 4);
  EXPECT_EQ(*outbox_.RunOnce(), 1) << "only the send under way";
  EXPECT_EQ(email_.Sends() + http_.Sends(), 1u);
  // The customers' deliveries by state.
  const auto states = [&] {
    std::map<v1::DeliveryState, int> count;
    for (const v1::Delivery& d : h_.Read<std::vector<v1::Delivery>>(
             [&](StoreReader& r) { return r.ListDeliveries(msg, 0); })) {
      ++count[d.state()];
      if (d.state() == v1::DELIVERY_STATE_QUEUED) {
        EXPECT_EQ(d.attempts(), 0) << "put back as if never claimed";
      }
    }
    return count;
  };
  const std::map<v1::DeliveryState, int> at_stop = states();
  EXPECT_EQ(at_stop.count(v1::DELIVERY_STATE_SENDING), 0u);
  EXPECT_GE(at_stop.at(v1::DELIVERY_STATE_QUEUED), 2);
  // Later passes of this process send nothing; the next process sends the
  // rest, each once.
  EXPECT_EQ(*outbox_.RunOnce(), 0);
  EXPECT_EQ(email_.Sends() + http_.Sends(), 1u);
  DeliveryOutbox next(OutboxDeps{
      *h_.store,
      h_.clock,
      composer_,
      {{v1::CHANNEL_KIND_EMAIL, &email_}, {v1::CHANNEL_KIND_WEBHOOK, &http_}},
      h_.metrics,
      DeliverySettings{},
      [] { return 0.5; }});
  email_.RespondWith(nullptr);
  http_.RespondWith(nullptr);
  EXPECT_EQ(*next.RecoverInterrupted(), 0) << "nothing left in sending";
  while (*next.RunOnce() > 0) {
  }
  EXPECT_EQ(email_.Sends() + http_.Sends(), static_cast<size_t>(total));
  EXPECT_THAT(email_.SentTo("grace@globex.example"), SizeIs(1));
  EXPECT_THAT(email_.SentTo("peter@initech.example"), SizeIs(1));
  EXPECT_THAT(http_.SentTo(kHook), SizeIs(1));
  EXPECT_THAT(states(), ElementsAre(Pair(v1::DELIVERY_STATE_DELIVERED, 3)));
}

TEST_F(DeliveryOutboxTest, RetryableFailureWaitsTheScheduleStretchedByJitter) {
  http_.RespondWith(
      [](const Outgoing&) { return SendResult::Retry("HTTP 503"); });
  const int64_t msg = PublishCheckoutUpdate();
  Drain();
  v1::Delivery d = DeliveryOf(msg, "subscriber:acme-ops");
  EXPECT_EQ(d.state(), v1::DELIVERY_STATE_RETRYING);
  EXPECT_THAT(d.last_error(), HasSubstr("HTTP 503"));
  // The schedule's first wait, 5 s, stretched by up to 10% (pinned at 5%).
  EXPECT_EQ(FromProtoTime(d.next_attempt_at()),
            h_.clock.Now() + absl::Milliseconds(5250));
  http_.RespondWith(nullptr);
  h_.clock.Advance(absl::Seconds(5));
  Drain();
  EXPECT_EQ(DeliveryOf(msg, "subscriber:acme-ops").state(),
            v1::DELIVERY_STATE_RETRYING);
  h_.clock.Advance(absl::Milliseconds(250));
  Drain();
  EXPECT_EQ(DeliveryOf(msg, "subscriber:acme-ops").state(),
            v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(Counter("webhook", "retry"), 1);
}

// A recipient's last contact gets the whole Standard Webhooks schedule:
// ten attempts over about three days. Only then is it failed.
TEST_F(DeliveryOutboxTest, TheLastContactGetsTheFullScheduleBeforeFailing) {
  email_.RespondWith([](const Outgoing&) {
    return SendResult::Retry("smtp: 452 mailbox full");
  });
  const int64_t msg = PublishCheckoutUpdate();
  const absl::Time first = h_.clock.Now();
  Drain();
  const RetrySchedule schedule = RetrySchedule::StandardWebhooks();
  for (absl::Duration wait : schedule.waits()) {
    const v1::Delivery d = DeliveryOf(msg, "subscriber:globex");
    ASSERT_EQ(d.state(), v1::DELIVERY_STATE_RETRYING);
    const absl::Duration stretched = wait + wait * (0.1 * 0.5);
    EXPECT_EQ(FromProtoTime(d.next_attempt_at()) - h_.clock.Now(), stretched);
    h_.clock.Advance(stretched);
    Drain();
  }
  EXPECT_THAT(email_.SentTo("grace@globex.example"), SizeIs(10));
  const v1::Delivery d = DeliveryOf(msg, "subscriber:globex");
  EXPECT_EQ(d.state(), v1::DELIVERY_STATE_FAILED);
  EXPECT_THAT(d.last_error(), HasSubstr("452 mailbox full"));
  // 75 h 35 min 5 s of waits, each stretched by 5%.
  EXPECT_EQ(h_.clock.Now() - first,
            (absl::Hours(75) + absl::Minutes(35) + absl::Seconds(5)) * 1.05);
}

// Each channel can have its own schedule.
TEST(DeliveryOutboxScheduleTest, AChannelsOwnScheduleReplacesTheDefault) {
  CoreHarness h;
  FakeChannel email;
  email.RespondWith([](const Outgoing&) { return SendResult::Retry("452"); });
  DeliveryComposer composer(h.drafter, h.org, ComposerOptions{});
  DeliverySettings settings;
  settings.channels[v1::CHANNEL_KIND_EMAIL].retry_schedule =
      RetrySchedule({absl::Minutes(1), absl::Minutes(2)});
  DeliveryOutbox outbox(OutboxDeps{*h.store,
                                   h.clock,
                                   composer,
                                   {{v1::CHANNEL_KIND_EMAIL, &email}},
                                   h.metrics,
                                   settings,
                                   [] { return 0.0; }});
  const int64_t msg = PublishCheckoutUpdate(h).message;
  for (int i = 0; i < 4; ++i) {
    while (*outbox.RunOnce() > 0) {
    }
    h.clock.Advance(absl::Minutes(2));
  }
  EXPECT_THAT(email.SentTo("grace@globex.example"), SizeIs(3));
  for (const v1::Delivery& d : h.Read<std::vector<v1::Delivery>>(
           [&](StoreReader& r) { return r.ListDeliveries(msg, 0); })) {
    EXPECT_EQ(d.state(), v1::DELIVERY_STATE_FAILED) << d.recipient();
  }
}

TEST_F(DeliveryOutboxTest, ReceiversRetryAfterWinsWhenLongerThanTheSchedule) {
  http_.RespondWith([](const Outgoing&) {
    return SendResult::Retry("HTTP 429", absl::Minutes(2));
  });
  const int64_t msg = PublishCheckoutUpdate();
  Drain();
  EXPECT_EQ(
      FromProtoTime(DeliveryOf(msg, "subscriber:acme-ops").next_attempt_at()),
      h_.clock.Now() + absl::Minutes(2));
}

// A recipient with another contact is not kept on a failing one for three
// days: once its next retry would come more than fallback_after (10 min)
// after its first attempt, the next contact is tried.
TEST_F(DeliveryOutboxTest,
       AFailingContactFallsBackOnceItsRetriesPassFallbackAfter) {
  // The webhook keeps failing; the SMS gateway accepts. Attempts at 0, 5 s
  // and 5 min fit in 10 minutes; the next (30 min on) does not.
  http_.RespondWith([](const Outgoing& o) {
    return o.address == kHook ? SendResult::Retry("timed out")
                              : SendResult::Delivered();
  });
  const int64_t msg = PublishCheckoutUpdate();
  Drain();
  for (v1::Delivery d = DeliveryOf(msg, "subscriber:acme-ops");
       d.state() == v1::DELIVERY_STATE_RETRYING;
       d = DeliveryOf(msg, "subscriber:acme-ops")) {
    h_.clock.Advance(FromProtoTime(d.next_attempt_at()) - h_.clock.Now());
    Drain();
  }
  EXPECT_THAT(http_.SentTo(kHook), SizeIs(3));
  const auto sms = http_.SentTo(kGateway);
  ASSERT_THAT(sms, SizeIs(1));
  v1::SmsRequest request;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(sms[0].json, &request).ok());
  EXPECT_EQ(request.to(), "+4915112345678");
  EXPECT_EQ(request.idempotency_key(),
            absl::StrCat("msg-", msg, "-subscriber-acme-ops.1"));
  const v1::Delivery d = DeliveryOf(msg, "subscriber:acme-ops");
  EXPECT_EQ(d.state(), v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(d.channel(), v1::CHANNEL_KIND_SMS);
  EXPECT_EQ(d.address(), "+4915112345678");
  EXPECT_EQ(d.contact_index(), 1);
  EXPECT_EQ(d.attempts(), 4);
  EXPECT_EQ(h_.metrics.delivery_fallbacks.Value(), 1);
}

// fallback_after counts real time from the contact's first attempt, not
// the schedule: a retry that comes late (the receiver asked for it with
// Retry-After, or herald was down) moves on sooner.
TEST_F(DeliveryOutboxTest, FallbackAfterRunsFromTheContactsFirstAttempt) {
  http_.RespondWith([](const Outgoing& o) {
    return o.address == kHook ? SendResult::Retry("HTTP 503")
                              : SendResult::Delivered();
  });
  const int64_t msg = PublishCheckoutUpdate();
  Drain();
  // The second attempt comes 8 minutes late; the third, due 5 min later,
  // would be 13 minutes after the first.
  h_.clock.Advance(absl::Minutes(8));
  Drain();
  EXPECT_THAT(http_.SentTo(kHook), SizeIs(2));
  EXPECT_THAT(http_.SentTo(kGateway), SizeIs(1)) << "moved on to SMS";
  EXPECT_EQ(DeliveryOf(msg, "subscriber:acme-ops").state(),
            v1::DELIVERY_STATE_DELIVERED);
}

TEST_F(DeliveryOutboxTest, RejectedContactFallsBackAtOnce) {
  http_.RespondWith(
      [](const Outgoing&) { return SendResult::Rejected("HTTP 400"); });
  const int64_t msg = PublishCheckoutUpdate();
  Drain();
  // Webhook refused, SMS refused, then email on the same pass.
  EXPECT_THAT(http_.SentTo(kHook), SizeIs(1));
  EXPECT_THAT(http_.SentTo(kGateway), SizeIs(1));
  EXPECT_THAT(email_.SentTo("ops@acme.example"), SizeIs(1));
  EXPECT_EQ(DeliveryOf(msg, "subscriber:acme-ops").state(),
            v1::DELIVERY_STATE_DELIVERED);
}

TEST_F(DeliveryOutboxTest, GoneEndpointIsDisabledAndSkippedAfterwards) {
  http_.RespondWith([](const Outgoing& o) {
    return o.address == kHook ? SendResult::Gone("HTTP 410")
                              : SendResult::Delivered();
  });
  PublishCheckoutUpdate("g1");
  Drain();
  const v1::Subscriber ops = Subscriber("acme-ops");
  EXPECT_TRUE(ops.contacts(0).disabled());
  EXPECT_THAT(ops.contacts(0).disabled_reason(), HasSubstr("410"));
  PublishCheckoutUpdate("g2");
  Drain();
  EXPECT_THAT(http_.SentTo(kHook), SizeIs(1));
  EXPECT_THAT(http_.SentTo(kGateway), SizeIs(2));
  EXPECT_EQ(Counter("webhook", "gone"), 1);
}

// The SMTP relay is down: that says nothing about the customers' mailboxes.
// Their deliveries wait without using attempts while one send at a time
// probes the relay, and all go out, once each, as soon as it answers.
TEST_F(DeliveryOutboxTest, RelayOutageUsesNoAttemptsAndEveryoneIsSentAfter) {
  bool relay_down = true;
  email_.RespondWith([&](const Outgoing&) {
    return relay_down ? SendResult::ChannelDown("smtp: connection refused")
                      : SendResult::Delivered();
  });
  const int64_t msg = PublishCheckoutUpdate();
  Drain();
  EXPECT_EQ(email_.Sends(), 1u) << "the first send found the relay down; "
                                   "the others wait for the probe";
  EXPECT_EQ(h_.metrics.channel_up.Add({{"channel", "email"}}).Value(), 0);
  // An hour of outage: probes back off, nobody's attempts are used, nobody
  // fails.
  for (int minute = 0; minute < 60; ++minute) {
    h_.clock.Advance(absl::Minutes(1));
    Drain();
  }
  const size_t probes = email_.Sends();
  EXPECT_LT(probes, 30u) << "probes, not a retry per recipient";
  for (const char* who : {"subscriber:globex", "subscriber:initech"}) {
    const v1::Delivery d = DeliveryOf(msg, who);
    EXPECT_EQ(d.state(), v1::DELIVERY_STATE_RETRYING) << who;
    EXPECT_EQ(d.waiting_on(), v1::CHANNEL_KIND_EMAIL) << who;
    EXPECT_EQ(d.attempts(), 0) << who;
    EXPECT_THAT(d.last_error(),
                HasSubstr("waiting: email unreachable since 2026-"))
        << who;
  }
  EXPECT_EQ(h_.metrics.recipients_unreached.Value(), 0);

  relay_down = false;
  h_.clock.Advance(absl::Minutes(5));  // the next probe is due by now
  Drain();
  for (const char* who : {"subscriber:globex", "subscriber:initech"}) {
    const v1::Delivery d = DeliveryOf(msg, who);
    EXPECT_EQ(d.state(), v1::DELIVERY_STATE_DELIVERED) << who;
    EXPECT_EQ(d.attempts(), 1) << who;
    EXPECT_EQ(d.waiting_on(), v1::CHANNEL_KIND_UNSPECIFIED) << who;
  }
  EXPECT_THAT(email_.SentTo("grace@globex.example"),
              SizeIs(::testing::Le(probes + 1)));
  EXPECT_EQ(h_.metrics.channel_up.Add({{"channel", "email"}}).Value(), 1);
  EXPECT_EQ(Counter("email", "channel_down"), static_cast<double>(probes));
}

TEST_F(DeliveryOutboxTest, PastThePatienceAWaitingDeliveryTriesTheNextContact) {
  v1::Subscriber mail_first;
  mail_first.set_id("mail-first");
  mail_first.add_component_ids("checkout");
  *mail_first.add_contacts() =
      MakeContact(v1::CHANNEL_KIND_EMAIL, "desk@mailfirst.example");
  *mail_first.add_contacts() =
      MakeContact(v1::CHANNEL_KIND_WEBHOOK, "https://mailfirst.example/hook");
  Put(mail_first);
  email_.RespondWith([](const Outgoing&) {
    return SendResult::ChannelDown("smtp: reply 421");
  });
  const int64_t msg = PublishCheckoutUpdate();
  Drain();
  EXPECT_EQ(DeliveryOf(msg, "subscriber:mail-first").waiting_on(),
            v1::CHANNEL_KIND_EMAIL);
  for (int minute = 0; minute < 11; ++minute) {  // patience: 10 minutes
    h_.clock.Advance(absl::Minutes(1));
    Drain();
  }
  const v1::Delivery moved = DeliveryOf(msg, "subscriber:mail-first");
  EXPECT_EQ(moved.state(), v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(moved.channel(), v1::CHANNEL_KIND_WEBHOOK);
  EXPECT_THAT(http_.SentTo("https://mailfirst.example/hook"), SizeIs(1));
  // Email is globex's only contact: it waits on, and is not failed.
  const v1::Delivery waits = DeliveryOf(msg, "subscriber:globex");
  EXPECT_EQ(waits.state(), v1::DELIVERY_STATE_RETRYING);
  EXPECT_EQ(waits.waiting_on(), v1::CHANNEL_KIND_EMAIL);
}

// Past the patience a delivery moves to a contact on another channel: a
// second address behind the same down relay would wait on the same outage.
TEST_F(DeliveryOutboxTest, PatienceSkipsContactsOnTheSameDownChannel) {
  v1::Subscriber two_mails;
  two_mails.set_id("two-mails");
  two_mails.add_component_ids("checkout");
  *two_mails.add_contacts() =
      MakeContact(v1::CHANNEL_KIND_EMAIL, "desk@two.example");
  *two_mails.add_contacts() =
      MakeContact(v1::CHANNEL_KIND_EMAIL, "boss@two.example");
  *two_mails.add_contacts() =
      MakeContact(v1::CHANNEL_KIND_WEBHOOK, "https://two.example/hook");
  Put(two_mails);
  email_.RespondWith([](const Outgoing&) {
    return SendResult::ChannelDown("smtp: connection refused");
  });
  const int64_t msg = PublishCheckoutUpdate();
  for (int minute = 0; minute <= 11; ++minute) {
    Drain();
    h_.clock.Advance(absl::Minutes(1));
  }
  const v1::Delivery d = DeliveryOf(msg, "subscriber:two-mails");
  EXPECT_EQ(d.state(), v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(d.contact_index(), 2);
  EXPECT_THAT(email_.SentTo("boss@two.example"), IsEmpty());
}

// A customer who has not yet received update N when N+1 is published gets
// N+1, the current truth, and N is recorded as superseded for them.
TEST_F(DeliveryOutboxTest, ANewerUpdateSupersedesOneNotYetSent) {
  email_.RespondWith([](const Outgoing&) {
    return SendResult::ChannelDown("smtp: connection refused");
  });
  const int64_t first = PublishCheckoutUpdate();
  Drain();
  const int64_t incident = DeliveryOf(first, "subscriber:globex").incident_id();
  const v1::Message second_draft =
      h_.workflow.PostUpdate(testing::Engineer(), incident, "errors falling")
          ->draft;
  ASSERT_TRUE(
      h_.workflow.Approve(testing::CommsLead(), second_draft.id(), 0).ok());
  const size_t probed = email_.SentTo("grace@globex.example").size();
  email_.RespondWith(nullptr);  // the relay is back
  h_.clock.Advance(absl::Minutes(5));
  Drain();
  for (const char* who : {"subscriber:globex", "subscriber:initech"}) {
    const v1::Delivery stale = DeliveryOf(first, who);
    EXPECT_EQ(stale.state(), v1::DELIVERY_STATE_SUPERSEDED) << who;
    EXPECT_THAT(stale.last_error(), HasSubstr(absl::StrCat("superseded by MSG-",
                                                           second_draft.id())));
    EXPECT_EQ(DeliveryOf(second_draft.id(), who).state(),
              v1::DELIVERY_STATE_DELIVERED)
        << who;
  }
  // The webhook reached acme-ops with the first update at once; it gets the
  // second too.
  EXPECT_EQ(DeliveryOf(first, "subscriber:acme-ops").state(),
            v1::DELIVERY_STATE_DELIVERED);
  EXPECT_THAT(http_.SentTo(kHook), SizeIs(2));
  // Once the relay answers, one email each: the newer update, not a burst.
  const std::vector<Outgoing> to_grace = email_.SentTo("grace@globex.example");
  ASSERT_EQ(to_grace.size(), probed + 1);
  EXPECT_THAT(
      to_grace.back().idempotency_key,
      ::testing::StartsWith(absl::StrCat("msg-", second_draft.id(), "-")));
  const auto reach = h_.queries.GetIncident(incident, true)->reach();
  int64_t superseded = 0;
  for (const v1::MessageReach& r : reach) superseded += r.superseded();
  EXPECT_EQ(superseded, 2);
}

TEST_F(DeliveryOutboxTest, RecipientNoContactReachesIsFailedAndCounted) {
  http_.RespondWith([](const Outgoing&) { return SendResult::Rejected("no"); });
  email_.RespondWith([](const Outgoing& o) {
    return o.address == "ops@acme.example" ? SendResult::Rejected("550")
                                           : SendResult::Delivered();
  });
  const int64_t msg = PublishCheckoutUpdate();
  Drain();
  const v1::Delivery d = DeliveryOf(msg, "subscriber:acme-ops");
  EXPECT_EQ(d.state(), v1::DELIVERY_STATE_FAILED);
  EXPECT_THAT(d.last_error(), HasSubstr("550"));
  EXPECT_EQ(h_.metrics.recipients_unreached.Value(), 1);
  const auto failed = h_.Read<std::vector<v1::Delivery>>(
      [](StoreReader& r) { return r.ListFailedDeliveries(0, 10); });
  ASSERT_THAT(failed, SizeIs(1));
  EXPECT_EQ(failed[0].recipient(), "subscriber:acme-ops");
}

TEST_F(DeliveryOutboxTest, SubscriberWhoLeftBeforeTheSendIsNotSentTo) {
  const int64_t msg = PublishCheckoutUpdate();
  ASSERT_TRUE(h_.subscribers.Remove(testing::Comms(), "acme-ops").ok());
  Drain();
  EXPECT_THAT(http_.SentTo(kHook), IsEmpty());
  EXPECT_EQ(DeliveryOf(msg, "subscriber:acme-ops").state(),
            v1::DELIVERY_STATE_CANCELLED);
}

TEST_F(DeliveryOutboxTest, ContentIsFixedAtApprovalEvenWhenTheIncidentMovesOn) {
  const int64_t msg = PublishCheckoutUpdate();
  const v1::Message published =
      h_.Read<v1::Message>([&](StoreReader& r) { return r.GetMessage(msg); });
  ASSERT_TRUE(published.has_published_incident());
  ASSERT_TRUE(
      h_.workflow.Resolve(testing::Engineer(), published.incident_id(), "fixed")
          .ok());
  Drain();
  v1::WebhookEvent event;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  http_.SentTo(kHook)[0].json, &event)
                  .ok());
  EXPECT_EQ(event.incident().status(), "investigating");
  EXPECT_FALSE(event.incident().has_resolved_at());
}

// A crash after a claim was committed, before the outcome: the delivery is
// `sending` and leased for ten minutes, as Store::ClaimDueDeliveries leaves
// it.
void CrashMidSend(Store& store, int64_t id, absl::Time now) {
  ASSERT_TRUE(store
                  .Write([&](StoreTxn& t) {
                    v1::Delivery d = *t.GetDelivery(id);
                    d.set_state(v1::DELIVERY_STATE_SENDING);
                    d.set_attempts(1);
                    d.set_contact_attempts(1);
                    *d.mutable_next_attempt_at() =
                        ToProtoTime(now + absl::Minutes(10));
                    return t.UpdateDelivery(d);
                  })
                  .ok());
}

TEST_F(DeliveryOutboxTest, SendInterruptedByACrashIsResentWithTheSameKey) {
  const int64_t msg = PublishCheckoutUpdate();
  CrashMidSend(*h_.store, DeliveryOf(msg, "subscriber:acme-ops").id(),
               h_.clock.Now());
  Drain();
  EXPECT_THAT(http_.SentTo(kHook), IsEmpty()) << "its claim still holds";
  EXPECT_EQ(*outbox_.RecoverInterrupted(), 1);
  Drain();
  const auto sent = http_.SentTo(kHook);
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0].idempotency_key,
            absl::StrCat("msg-", msg, "-subscriber-acme-ops.0"));
  EXPECT_EQ(DeliveryOf(msg, "subscriber:acme-ops").attempts(), 2);
}

TEST_F(DeliveryOutboxTest, ADeadWorkersClaimReturnsWhenItsLeaseEnds) {
  const int64_t msg = PublishCheckoutUpdate();
  CrashMidSend(*h_.store, DeliveryOf(msg, "subscriber:acme-ops").id(),
               h_.clock.Now());
  h_.clock.Advance(absl::Minutes(10) - absl::Seconds(1));
  Drain();
  EXPECT_THAT(http_.SentTo(kHook), IsEmpty());
  h_.clock.Advance(absl::Seconds(1));
  Drain();  // another worker, here or in another heraldd, claims it again
  ASSERT_THAT(http_.SentTo(kHook), SizeIs(1));
  EXPECT_EQ(DeliveryOf(msg, "subscriber:acme-ops").attempts(), 2);
}

TEST_F(DeliveryOutboxTest, ConcurrentWorkersNeverSendOneDeliveryTwice) {
  for (int i = 0; i < 40; ++i) {
    v1::Subscriber s;
    s.set_id(absl::StrCat("s", i));
    s.set_email(absl::StrCat("s", i, "@example.com"));
    s.add_component_ids("checkout");
    Put(s);
  }
  PublishCheckoutUpdate();
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (*outbox_.RunOnce(3) > 0) {
      }
    });
  }
  for (std::thread& t : workers) t.join();
  for (int i = 0; i < 40; ++i) {
    EXPECT_THAT(email_.SentTo(absl::StrCat("s", i, "@example.com")), SizeIs(1));
  }
}

TEST_F(DeliveryOutboxTest, GaugesShowDepthAndTheOldestWait) {
  PublishCheckoutUpdate();
  h_.clock.Advance(absl::Seconds(30));
  ASSERT_TRUE(outbox_.RefreshGauges().ok());
  EXPECT_GE(h_.metrics.outbox_depth.Value(), 3);
  EXPECT_EQ(h_.metrics.outbox_oldest_age_seconds.Value(), 30);
  Drain();
  ASSERT_TRUE(outbox_.RefreshGauges().ok());
  EXPECT_EQ(h_.metrics.outbox_depth.Value(), 0);
  EXPECT_EQ(h_.metrics.outbox_oldest_age_seconds.Value(), 0);
}

// Issue 18: one unreadable record stopped every email. A delivery whose
// recipient or own record cannot be read is failed with the reason and
// counted; everyone else's goes out.
TEST(DeliveryOutboxStoreTest, UnreadableRecordsAreSetAsideAndTheRestDelivered) {
  const std::string path = ::testing::TempDir() + "/outbox-unreadable.db";
  std::filesystem::remove(path);
  CoreHarness h(*OpenSqliteStore(path));
  FakeChannel email;
  DeliveryComposer composer(h.drafter, h.org, ComposerOptions{});
  DeliveryOutbox outbox(OutboxDeps{*h.store,
                                   h.clock,
                                   composer,
                                   {{v1::CHANNEL_KIND_EMAIL, &email}},
                                   h.metrics,
                                   DeliverySettings{},
                                   [] { return 0.5; }});
  // (Named, not a structured binding: the lambdas below capture them.)
  const Published published = PublishCheckoutUpdate(h);
  const int64_t incident = published.incident;
  const int64_t msg = published.message;
  // globex's stored row becomes unreadable, and so does the point person's
  // notification (a staff delivery with its content in its body).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE subscribers SET body = x'ffff' WHERE id = "
                         "'globex';"
                         "UPDATE deliveries SET body = x'3A01FF' WHERE "
                         "message_id = 0;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  ASSERT_GT(sqlite3_changes(db), 0);
  sqlite3_close(db);
  for (int i = 0; i < 5 && *outbox.RunOnce() > 0; ++i) {
  }
  EXPECT_EQ(*outbox.RunOnce(), 0) << "nothing is left to retry";
  const auto of = [&](const std::string& recipient) {
    for (const v1::Delivery& d : h.Read<std::vector<v1::Delivery>>(
             [&](StoreReader& r) { return r.ListDeliveries(msg, 0); })) {
      if (d.recipient() == recipient) return d;
    }
    return v1::Delivery();
  };
  EXPECT_EQ(of("subscriber:globex").state(), v1::DELIVERY_STATE_FAILED);
  EXPECT_THAT(of("subscriber:globex").last_error(), HasSubstr("corrupt"));
  EXPECT_EQ(of("subscriber:initech").state(), v1::DELIVERY_STATE_DELIVERED);
  for (const v1::Delivery& d : h.Read<std::vector<v1::Delivery>>(
           [&](StoreReader& r) { return r.ListDeliveries(0, incident); })) {
    EXPECT_EQ(d.state(), v1::DELIVERY_STATE_FAILED) << d.recipient();
    EXPECT_THAT(d.last_error(), HasSubstr("cannot be read"));
  }
}

// Issue 19 §4: one webhook endpoint that never answers (here until the
// test lets it go) holds at most its in-flight limit of the workers, and
// everyone else is reached while it hangs.
constexpr char kStuckHook[] = "https://stuck.example/hook";
constexpr int kHealthy = 10000;

class StuckEndpointChannel : public Channel {
 public:
  SendResult Send(const Outgoing& o) override {
    if (o.address == kStuckHook) {
      {
        absl::MutexLock lock(&mu_);
        most_stuck_ = std::max(most_stuck_, ++stuck_);
      }
      release_.WaitForNotificationWithTimeout(absl::Seconds(300));
      absl::MutexLock lock(&mu_);
      --stuck_;
      return SendResult::Retry("POST https://stuck.example/hook: timed out");
    }
    absl::MutexLock lock(&mu_);
    if (++reached_[o.address] == 1 && ++healthy_ == kHealthy) {
      everyone_reached_.Notify();
    }
    return SendResult::Delivered();
  }

  absl::Notification release_;
  absl::Notification everyone_reached_;
  absl::Mutex mu_;
  int stuck_ ABSL_GUARDED_BY(mu_) = 0;
  int most_stuck_ ABSL_GUARDED_BY(mu_) = 0;
  int healthy_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> reached_ ABSL_GUARDED_BY(mu_);
};

TEST(DeliveryOutboxDestinationTest,
     AHangingEndpointHoldsTwoWorkersWhileTenThousandOthersAreReached) {
  // SQLite: the in-memory store copies itself on every write.
  const std::string path = ::testing::TempDir() + "/outbox-stuck-endpoint.db";
  std::filesystem::remove(path);
  CoreHarness h(*OpenSqliteStore(path));
  constexpr int kStuck = 40;  // subscribers behind the endpoint that hangs
  ASSERT_TRUE(h.store
                  ->Write([&](StoreTxn& t) -> absl::Status {
                    for (int i = 0; i < kHealthy + kStuck; ++i) {
                      v1::Subscriber s;
                      s.set_id(absl::StrCat("customer-", i));
                      s.add_component_ids("checkout");
                      *s.add_contacts() = MakeContact(
                          v1::CHANNEL_KIND_WEBHOOK,
                          i < kStuck ? std::string(kStuckHook)
                                     : absl::StrCat("https://customer-", i,
                                                    ".example/hook"));
                      if (auto st = t.PutSubscriber(s); !st.ok()) return st;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  FakeChannel email;
  StuckEndpointChannel http;
  DeliveryComposer composer(h.drafter, h.org, ComposerOptions{});
  DeliveryOutbox outbox(OutboxDeps{
      *h.store,
      h.clock,
      composer,
      {{v1::CHANNEL_KIND_EMAIL, &email}, {v1::CHANNEL_KIND_WEBHOOK, &http}},
      h.metrics,
      DeliverySettings{},
      [] { return 0.5; }});
  const int64_t msg = PublishCheckoutUpdate(h).message;

  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int i = 0; i < 16; ++i) {  // heraldd's default
    workers.emplace_back([&] {
      while (!stop) {
        absl::StatusOr<int> ran = outbox.RunOnce();
        ASSERT_TRUE(ran.ok()) << ran.status();
        // Idle, like heraldd's worker between passes.
        if (*ran == 0) absl::SleepFor(absl::Milliseconds(1));
      }
    });
  }
  const bool reached =
      http.everyone_reached_.WaitForNotificationWithTimeout(absl::Seconds(240));
  http.release_.Notify();
  outbox.StopSending();
  stop = true;
  for (std::thread& w : workers) w.join();

  EXPECT_TRUE(reached) << "everyone else is reached while the endpoint hangs";
  absl::MutexLock lock(&http.mu_);
  EXPECT_EQ(http.most_stuck_, 2) << "the endpoint's in-flight limit";
  EXPECT_EQ(http.healthy_, kHealthy);
  for (const auto& [address, sends] : http.reached_) {
    EXPECT_EQ(sends, 1) << address;
  }
  // Nothing is left claimed: the sends that hung are retrying, and what
  // waited for the endpoint went back to the queue without using an
  // attempt.
  int attempted = 0;
  for (const v1::Delivery& d : h.Read<std::vector<v1::Delivery>>(
           [&](StoreReader& r) { return r.ListDeliveries(msg, 0); })) {
    EXPECT_NE(d.state(), v1::DELIVERY_STATE_SENDING) << d.recipient();
    if (d.address() == kStuckHook) attempted += d.attempts();
  }
  EXPECT_EQ(attempted, 2) << "only the two sends that hung";
}

}  // namespace
}  // namespace herald
