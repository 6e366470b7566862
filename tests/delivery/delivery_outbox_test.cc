#include "tests/delivery/delivery_outbox_fixture.h"

namespace herald {
namespace outbox_testing {

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
  StrictMock<MockChannel> channel;
  AllowStaffNotices(channel, msg);
  // No second send, and nothing to acme-ops' later contacts.
  EXPECT_CALL(
      channel,
      Send(AllOf(ToSubscriber(msg, "globex"),
                 Field(&Outgoing::address, "grace@globex.example"),
                 Field(&Outgoing::idempotency_key,
                       absl::StrCat("msg-", msg, "-subscriber-globex.0")),
                 Field(&Outgoing::text, HasSubstr("Hello Grace,")),
                 Field(&Outgoing::html, HasSubstr("<")))))
      .Times(1)
      .WillOnce(Return(SendResult::Delivered()));
  EXPECT_CALL(channel, Send(AllOf(ToSubscriber(msg, "acme-ops"),
                                  Field(&Outgoing::address, kHook))))
      .Times(1)
      .WillOnce(Return(SendResult::Delivered()));
  EXPECT_CALL(channel,
              Send(AllOf(ToSubscriber(msg, "initech"),
                         Field(&Outgoing::address, "peter@initech.example"))))
      .Times(1)
      .WillOnce(Return(SendResult::Delivered()));
  const std::unique_ptr<DeliveryOutbox> outbox = OutboxOn(channel);
  while (*outbox->RunOnce() > 0) {
  }
  const v1::Delivery d = DeliveryOf(msg, "subscriber:acme-ops");
  EXPECT_EQ(d.state(), v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(d.channel(), v1::CHANNEL_KIND_WEBHOOK);
  EXPECT_EQ(d.attempts(), 1);
  EXPECT_EQ(Counter("webhook", "delivered"), 1);
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
  DeliveryOutbox next(
      OutboxDeps{.store = *h_.store,
                 .clock = h_.clock,
                 .composer = composer_,
                 .channels = {{v1::CHANNEL_KIND_EMAIL, &email_},
                              {v1::CHANNEL_KIND_WEBHOOK, &http_}},
                 .metrics = h_.delivery_metrics,
                 .delivery = DeliverySettings{},
                 .random = [] { return 0.5; }});
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
  DeliveryOutbox outbox(
      OutboxDeps{.store = *h.store,
                 .clock = h.clock,
                 .composer = composer,
                 .channels = {{v1::CHANNEL_KIND_EMAIL, &email}},
                 .metrics = h.delivery_metrics,
                 .delivery = settings,
                 .random = [] { return 0.0; }});
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
  EXPECT_EQ(h_.delivery_metrics.delivery_fallbacks.Value(), 1);
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
  EXPECT_EQ(h_.delivery_metrics.channel_up.Add({{"channel", "email"}}).Value(),
            0);
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
  EXPECT_EQ(h_.delivery_metrics.recipients_unreached.Value(), 0);

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
  EXPECT_EQ(h_.delivery_metrics.channel_up.Add({{"channel", "email"}}).Value(),
            1);
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

}  // namespace outbox_testing
}  // namespace herald
