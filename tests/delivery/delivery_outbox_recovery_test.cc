#include "tests/delivery/delivery_outbox_fixture.h"

namespace herald {
namespace outbox_testing {

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
      h_.workflow
          .Approve(testing::CommsLead(), second_draft.id(), 0, kAsWritten)
          .ok());
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
  const auto reach = h_.queries.GetIncident(incident, true)->reach;
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
  EXPECT_EQ(h_.delivery_metrics.recipients_unreached.Value(), 1);
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
  StrictMock<MockChannel> channel;
  ExpectDeliveredOnceTo(channel, msg, {"globex", "initech"});
  const std::unique_ptr<DeliveryOutbox> outbox = OutboxOn(channel);
  while (*outbox->RunOnce() > 0) {
  }
  // Its claim still holds: no send to acme-ops yet. Then the one resend,
  // with the key of the interrupted send.
  ASSERT_TRUE(::testing::Mock::VerifyAndClearExpectations(&channel));
  AllowStaffNotices(channel, msg);
  EXPECT_CALL(
      channel,
      Send(AllOf(Field(&Outgoing::address, kHook),
                 Field(&Outgoing::idempotency_key,
                       absl::StrCat("msg-", msg, "-subscriber-acme-ops.0")))))
      .Times(1)
      .WillOnce(Return(SendResult::Delivered()));
  EXPECT_EQ(*outbox->RecoverInterrupted(), 1);
  while (*outbox->RunOnce() > 0) {
  }
  EXPECT_EQ(DeliveryOf(msg, "subscriber:acme-ops").attempts(), 2);
}

TEST_F(DeliveryOutboxTest, ADeadWorkersClaimReturnsWhenItsLeaseEnds) {
  const int64_t msg = PublishCheckoutUpdate();
  CrashMidSend(*h_.store, DeliveryOf(msg, "subscriber:acme-ops").id(),
               h_.clock.Now());
  StrictMock<MockChannel> channel;
  ExpectDeliveredOnceTo(channel, msg, {"globex", "initech"});
  const std::unique_ptr<DeliveryOutbox> outbox = OutboxOn(channel);
  h_.clock.Advance(absl::Minutes(10) - absl::Seconds(1));
  while (*outbox->RunOnce() > 0) {
  }
  ASSERT_TRUE(::testing::Mock::VerifyAndClearExpectations(&channel))
      << "nothing to acme-ops while the dead worker's lease holds";
  ExpectDeliveredOnceTo(channel, msg, {"acme-ops"});
  h_.clock.Advance(absl::Seconds(1));
  // Another worker, here or in another heraldd, claims it again.
  while (*outbox->RunOnce() > 0) {
  }
  EXPECT_EQ(DeliveryOf(msg, "subscriber:acme-ops").attempts(), 2);
}

// Claims waiting in memory (claimed ahead) go back to the queue unsent once
// their lease nears its end, rather than be sent as rendered then: the next
// claim renders them afresh (here: finds that the subscriber left).
TEST_F(DeliveryOutboxTest, AClaimHeldTooLongGoesBackInsteadOfBeingSent) {
  const int64_t msg = PublishCheckoutUpdate();
  ASSERT_EQ(*outbox_.RunOnce(1), 1);  // and the rest are claimed ahead
  std::string held;
  for (const char* id : {"globex", "initech", "acme-ops"}) {
    if (DeliveryOf(msg, absl::StrCat("subscriber:", id)).state() ==
        v1::DELIVERY_STATE_SENDING) {
      held = id;
    }
  }
  ASSERT_FALSE(held.empty()) << "nothing was claimed ahead";
  ASSERT_TRUE(h_.subscribers.Remove(testing::Comms(), held).ok());
  h_.clock.Advance(absl::Minutes(20));
  Drain();
  const v1::Delivery d = DeliveryOf(msg, "subscriber:" + held);
  EXPECT_EQ(d.state(), v1::DELIVERY_STATE_CANCELLED) << held;
  EXPECT_EQ(d.attempts(), 1) << "the release gave its attempt back";
}

TEST_F(DeliveryOutboxTest, ConcurrentWorkersNeverSendOneDeliveryTwice) {
  for (int i = 0; i < 40; ++i) {
    v1::Subscriber s;
    s.set_id(absl::StrCat("s", i));
    s.set_email(absl::StrCat("s", i, "@example.com"));
    s.add_component_ids("checkout");
    Put(s);
  }
  const int64_t msg = PublishCheckoutUpdate();
  StrictMock<MockChannel> channel;
  ExpectDeliveredOnceTo(channel, msg, {"globex", "initech", "acme-ops"});
  for (int i = 0; i < 40; ++i) {
    EXPECT_CALL(channel,
                Send(AllOf(ToSubscriber(msg, absl::StrCat("s", i)),
                           Field(&Outgoing::address,
                                 absl::StrCat("s", i, "@example.com")))))
        .Times(1)
        .WillOnce(Return(SendResult::Delivered()));
  }
  const std::unique_ptr<DeliveryOutbox> outbox = OutboxOn(channel);
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (*outbox->RunOnce(3) > 0) {
      }
    });
  }
  for (std::thread& t : workers) t.join();
}

TEST_F(DeliveryOutboxTest, GaugesShowDepthAndTheOldestWait) {
  PublishCheckoutUpdate();
  h_.clock.Advance(absl::Seconds(30));
  ASSERT_TRUE(outbox_.RefreshGauges().ok());
  EXPECT_GE(h_.delivery_metrics.outbox_depth.Value(), 3);
  EXPECT_EQ(h_.delivery_metrics.outbox_oldest_age_seconds.Value(), 30);
  Drain();
  ASSERT_TRUE(outbox_.RefreshGauges().ok());
  EXPECT_EQ(h_.delivery_metrics.outbox_depth.Value(), 0);
  EXPECT_EQ(h_.delivery_metrics.outbox_oldest_age_seconds.Value(), 0);
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
  DeliveryOutbox outbox(
      OutboxDeps{.store = *h.store,
                 .clock = h.clock,
                 .composer = composer,
                 .channels = {{v1::CHANNEL_KIND_EMAIL, &email}},
                 .metrics = h.delivery_metrics,
                 .delivery = DeliverySettings{},
                 .random = [] { return 0.5; }});
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
  DeliveryOutbox outbox(
      OutboxDeps{.store = *h.store,
                 .clock = h.clock,
                 .composer = composer,
                 .channels = {{v1::CHANNEL_KIND_EMAIL, &email},
                              {v1::CHANNEL_KIND_WEBHOOK, &http}},
                 .metrics = h.delivery_metrics,
                 .delivery = DeliverySettings{},
                 .random = [] { return 0.5; }});
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

}  // namespace outbox_testing
}  // namespace herald
