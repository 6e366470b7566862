#include "tests/store/store_contract.h"

namespace herald {
namespace store_testing {

TYPED_TEST(StoreContractTest, ConcurrentWritersAllCommitWithDistinctIds) {
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_TRUE(this->Write([&](StoreTxn& txn) {
                          return txn
                              .InsertIncident(TestFixture::Incident(
                                  absl::StrCat("g", t, "-", i)))
                              .status();
                        })
                        .ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  auto all = this->template ReadValue<std::vector<v1::Incident>>(
      [](StoreReader& r) { return r.ListIncidents({true}); });
  std::set<int64_t> ids;
  for (const v1::Incident& i : all) ids.insert(i.id());
  EXPECT_EQ(ids.size(), size_t{kThreads * kEach});
}

TYPED_TEST(StoreContractTest,
           MessageVersionsAreListedInOrderAndNeverRewritten) {
  auto version = [](int64_t message, int32_t n, std::string title) {
    v1::MessageVersion v;
    v.set_message_id(message);
    v.set_version(n);
    v.set_title(std::move(title));
    return v;
  };
  ASSERT_TRUE(
      this->Write([&](StoreTxn& t) -> absl::Status {
            if (auto s = t.InsertMessageVersion(version(7, 2, "b")); !s.ok())
              return s;
            if (auto s = t.InsertMessageVersion(version(7, 1, "a")); !s.ok())
              return s;
            return t.InsertMessageVersion(version(8, 1, "other"));
          })
          .ok());
  absl::Status again = this->Write([&](StoreTxn& t) {
    return t.InsertMessageVersion(version(7, 2, "rewritten"));
  });
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  auto versions = this->template ReadValue<std::vector<v1::MessageVersion>>(
      [](StoreReader& r) { return r.ListMessageVersions(7); });
  ASSERT_THAT(versions, SizeIs(2));
  EXPECT_EQ(versions[0].title(), "a");
  EXPECT_EQ(versions[1].title(), "b");
}

TYPED_TEST(StoreContractTest,
           AuditEntriesAreAppendedWithIdsAndFilteredByIncident) {
  auto entry = [](int64_t incident, std::string action) {
    v1::AuditEntry e;
    e.set_incident_id(incident);
    e.set_action(std::move(action));
    return e;
  };
  const int64_t first = this->template WriteValue<int64_t>(
      [&](StoreTxn& t) { return t.AppendAudit(entry(1, "drafted")); });
  const int64_t second = this->template WriteValue<int64_t>(
      [&](StoreTxn& t) { return t.AppendAudit(entry(2, "approved")); });
  EXPECT_LT(first, second);
  auto of_one = this->template ReadValue<std::vector<v1::AuditEntry>>(
      [](StoreReader& r) { return r.ListAudit(1); });
  ASSERT_THAT(of_one, SizeIs(1));
  EXPECT_EQ(of_one[0].id(), first);
  EXPECT_EQ(of_one[0].action(), "drafted");
  EXPECT_THAT((this->template ReadValue<std::vector<v1::AuditEntry>>(
                  [](StoreReader& r) { return r.ListAudit(0); })),
              SizeIs(2));
}

TYPED_TEST(StoreContractTest, DeliveryIdempotencyKeyIsUnique) {
  const absl::Time now = testing::TestEpoch();
  this->template WriteValue<int64_t>([&](StoreTxn& t) {
    return t.InsertDelivery(TestFixture::Delivery("k1", now));
  });
  absl::Status dup = this->Write([&](StoreTxn& t) {
    return t.InsertDelivery(TestFixture::Delivery("k1", now)).status();
  });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
}

TYPED_TEST(StoreContractTest,
           DueDeliveriesAreQueuedRetryingOrOutOfLeaseAndDueByNow) {
  const absl::Time now = testing::TestEpoch();
  const int64_t due = this->template WriteValue<int64_t>([&](StoreTxn& t) {
    return t.InsertDelivery(TestFixture::Delivery("due", now));
  });
  this->template WriteValue<int64_t>([&](StoreTxn& t) {
    return t.InsertDelivery(
        TestFixture::Delivery("later", now + absl::Minutes(1)));
  });
  this->template WriteValue<int64_t>([&](StoreTxn& t) {
    v1::Delivery d = TestFixture::Delivery("done", now);
    d.set_state(v1::DELIVERY_STATE_DELIVERED);
    return t.InsertDelivery(d);
  });
  this->template WriteValue<int64_t>([&](StoreTxn& t) {
    v1::Delivery d = TestFixture::Delivery("leased", now + absl::Minutes(1));
    d.set_state(v1::DELIVERY_STATE_SENDING);
    return t.InsertDelivery(d);
  });
  const int64_t abandoned =
      this->template WriteValue<int64_t>([&](StoreTxn& t) {
        v1::Delivery d =
            TestFixture::Delivery("abandoned", now - absl::Seconds(1));
        d.set_state(v1::DELIVERY_STATE_SENDING);
        return t.InsertDelivery(d);
      });
  auto list = this->template ReadValue<std::vector<v1::Delivery>>(
      [&](StoreReader& r) { return r.ListDueDeliveries(now, 10); });
  ASSERT_THAT(list, SizeIs(2));
  EXPECT_EQ(list[0].id(), abandoned);  // due longest
  EXPECT_EQ(list[1].id(), due);
  EXPECT_EQ(list[1].idempotency_key(), "due");
}

TYPED_TEST(StoreContractTest, FailedDeliveriesAreListedNewestFirst) {
  const absl::Time now = testing::TestEpoch();
  std::vector<int64_t> failed;
  for (const char* key : {"f1", "ok", "f2", "f3"}) {
    const int64_t id = this->template WriteValue<int64_t>([&](StoreTxn& t) {
      v1::Delivery d = TestFixture::Delivery(key, now);
      if (key[0] == 'f') d.set_state(v1::DELIVERY_STATE_FAILED);
      return t.InsertDelivery(d);
    });
    if (key[0] == 'f') failed.push_back(id);
  }
  auto list = this->template ReadValue<std::vector<v1::Delivery>>(
      [&](StoreReader& r) { return r.ListFailedDeliveries(0, 2); });
  ASSERT_THAT(list, SizeIs(2));
  EXPECT_EQ(list[0].id(), failed[2]);
  EXPECT_EQ(list[1].id(), failed[1]);
}

TYPED_TEST(StoreContractTest, InterruptedSendsAreRequeued) {
  const absl::Time now = testing::TestEpoch();
  const int64_t id = this->template WriteValue<int64_t>([&](StoreTxn& t) {
    v1::Delivery d = TestFixture::Delivery("k", now);
    d.set_state(v1::DELIVERY_STATE_SENDING);
    return t.InsertDelivery(d);
  });
  EXPECT_EQ(this->template WriteValue<int>([&](StoreTxn& t) {
    return t.RequeueInterruptedDeliveries(now + absl::Hours(1));
  }),
            1);
  const v1::Delivery requeued = this->template ReadValue<v1::Delivery>(
      [&](StoreReader& r) { return r.GetDelivery(id); });
  EXPECT_EQ(requeued.state(), v1::DELIVERY_STATE_QUEUED);
  EXPECT_EQ(FromProtoTime(requeued.next_attempt_at()), now + absl::Hours(1));
}

TYPED_TEST(StoreContractTest,
           AClaimedDeliveryIsSendingCountedAndHeldUntilItsLeaseEnds) {
  const absl::Time now = testing::TestEpoch();
  const absl::Duration lease = absl::Minutes(10);
  for (const char* key : {"a", "b", "c"}) {
    this->template WriteValue<int64_t>([&](StoreTxn& t) {
      return t.InsertDelivery(TestFixture::Delivery(key, now));
    });
  }
  const auto claim = [&](absl::Time at, int limit) {
    absl::StatusOr<std::vector<v1::Delivery>> got =
        this->store_->ClaimDueDeliveries(
            ClaimRequest{.now = at, .lease = lease, .limit = limit});
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : std::vector<v1::Delivery>{};
  };
  const std::vector<v1::Delivery> first = claim(now, 2);
  ASSERT_THAT(first, SizeIs(2));
  for (const v1::Delivery& d : first) {
    EXPECT_EQ(d.state(), v1::DELIVERY_STATE_SENDING);
    EXPECT_EQ(d.attempts(), 1);
    EXPECT_EQ(d.contact_attempts(), 1);
    EXPECT_EQ(FromProtoTime(d.next_attempt_at()), now + lease);
  }
  // The third, then nothing while the leases run.
  ASSERT_THAT(claim(now, 10), SizeIs(1));
  EXPECT_THAT(claim(now + lease - absl::Seconds(1), 10), IsEmpty());
  // The claimer settles one; the others' claimer died: theirs come back.
  v1::Delivery sent = first[0];
  sent.set_state(v1::DELIVERY_STATE_DELIVERED);
  ASSERT_TRUE(
      this->Write([&](StoreTxn& t) { return t.UpdateDelivery(sent); }).ok());
  const std::vector<v1::Delivery> again = claim(now + lease, 10);
  ASSERT_THAT(again, SizeIs(2));
  for (const v1::Delivery& d : again) {
    EXPECT_NE(d.id(), sent.id());
    EXPECT_EQ(d.attempts(), 2);
  }
}

TYPED_TEST(StoreContractTest, AClaimedJobIsHeldUntilItsLeaseEndsOrItIsDone) {
  const absl::Time now = testing::TestEpoch();
  const absl::Duration lease = absl::Minutes(1);
  std::vector<int64_t> ids;
  for (int i = 0; i < 2; ++i) {
    ids.push_back(this->template WriteValue<int64_t>([&](StoreTxn& t) {
      v1::Job job;
      job.set_kind(v1::JOB_KIND_ACK_TIMEOUT);
      job.set_incident_id(1);
      *job.mutable_due_at() = ToProtoTime(now - absl::Seconds(i));
      return t.InsertJob(job);
    }));
  }
  const auto claim = [&](absl::Time at) {
    absl::StatusOr<std::vector<v1::Job>> got = this->store_->ClaimDueJobs(
        ClaimRequest{.now = at, .lease = lease, .limit = 10});
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : std::vector<v1::Job>{};
  };
  const std::vector<v1::Job> claimed = claim(now);
  ASSERT_THAT(claimed, SizeIs(2));
  EXPECT_EQ(claimed[0].id(), ids[1]);  // oldest first
  EXPECT_THAT(claim(now + lease - absl::Seconds(1)), IsEmpty());
  v1::Job done = claimed[0];
  done.set_done(true);
  ASSERT_TRUE(this->Write([&](StoreTxn& t) { return t.UpdateJob(done); }).ok());
  const std::vector<v1::Job> again = claim(now + lease);
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_EQ(again[0].id(), ids[0]);
  // The job keeps its own time; the lease is the store's.
  EXPECT_EQ(FromProtoTime(again[0].due_at()), now);
  EXPECT_EQ(this->Write([](StoreTxn& t) {
                  return t.LeaseJob(999, testing::TestEpoch());
                })
                .code(),
            absl::StatusCode::kNotFound);
}

TYPED_TEST(StoreContractTest, TwoClaimersAtOnceNeverGetTheSameRow) {
  const absl::Time now = testing::TestEpoch();
  constexpr int kRows = 300;
  ASSERT_TRUE(this->Write([&](StoreTxn& t) -> absl::Status {
                    for (int i = 0; i < kRows; ++i) {
                      absl::StatusOr<int64_t> d = t.InsertDelivery(
                          TestFixture::Delivery(absl::StrCat("k", i), now));
                      if (!d.ok()) return d.status();
                      v1::Job job;
                      job.set_kind(v1::JOB_KIND_UPDATE_DUE);
                      *job.mutable_due_at() = ToProtoTime(now);
                      absl::StatusOr<int64_t> j = t.InsertJob(job);
                      if (!j.ok()) return j.status();
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  absl::Mutex mu;
  std::multiset<int64_t> deliveries, jobs;
  const ClaimRequest request{
      .now = now, .lease = absl::Minutes(10), .limit = 7};
  const auto claimer = [&] {
    for (bool more = true; more;) {
      absl::StatusOr<std::vector<v1::Delivery>> d =
          this->store_->ClaimDueDeliveries(request);
      absl::StatusOr<std::vector<v1::Job>> j =
          this->store_->ClaimDueJobs(request);
      ASSERT_TRUE(d.ok() && j.ok());
      absl::MutexLock lock(&mu);
      for (const v1::Delivery& x : *d) deliveries.insert(x.id());
      for (const v1::Job& x : *j) jobs.insert(x.id());
      more = !d->empty() || !j->empty();
    }
  };
  std::thread a(claimer), b(claimer);
  a.join();
  b.join();
  EXPECT_EQ(deliveries.size(), kRows);
  EXPECT_EQ(std::set<int64_t>(deliveries.begin(), deliveries.end()).size(),
            kRows);
  EXPECT_EQ(jobs.size(), kRows);
  EXPECT_EQ(std::set<int64_t>(jobs.begin(), jobs.end()).size(), kRows);
}

TYPED_TEST(StoreContractTest, SubscribersTokensAndComponentStatesRoundTrip) {
  v1::Subscriber s;
  s.set_id("globex");
  s.set_name("Grace");
  v1::ComponentState c;
  c.set_component_id("checkout");
  c.set_status(v1::COMPONENT_STATUS_MAJOR_OUTAGE);
  ASSERT_TRUE(this->Write([&](StoreTxn& t) -> absl::Status {
                    if (auto st = t.PutSubscriber(s); !st.ok()) return st;
                    if (auto st = t.PutToken({"abc", "alice"}); !st.ok())
                      return st;
                    return t.PutComponentState(c);
                  })
                  .ok());
  auto subs = this->template ReadValue<std::vector<v1::Subscriber>>(
      [](StoreReader& r) { return r.ListSubscribers({}); });
  ASSERT_THAT(subs, SizeIs(1));
  EXPECT_EQ(subs[0].name(), "Grace");
  auto tokens = this->template ReadValue<std::vector<TokenRecord>>(
      [](StoreReader& r) { return r.ListTokens(); });
  ASSERT_THAT(tokens, SizeIs(1));
  EXPECT_EQ(tokens[0].person_id, "alice");
  auto states = this->template ReadValue<std::vector<v1::ComponentState>>(
      [](StoreReader& r) { return r.ListComponentStates(); });
  ASSERT_THAT(states, SizeIs(1));
  EXPECT_EQ(states[0].status(), v1::COMPONENT_STATUS_MAJOR_OUTAGE);
}

TYPED_TEST(StoreContractTest,
           SettingsAreReplacedByNameAndMissingOnesAreNotFound) {
  absl::Status missing = this->ReadStatus(
      [](StoreReader& r) { return r.GetSetting("link_key").status(); });
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  ASSERT_TRUE(
      this->Write([](StoreTxn& t) { return t.PutSetting("link_key", "first"); })
          .ok());
  ASSERT_TRUE(this->Write([](StoreTxn& t) {
                    return t.PutSetting("link_key", "second");
                  })
                  .ok());
  EXPECT_EQ(this->template ReadValue<std::string>(
                [](StoreReader& r) { return r.GetSetting("link_key"); }),
            "second");
}

// Every paged list reads only what follows its key, at most its limit, in
// its order (keyset paging; server/core/paging.h).
TYPED_TEST(StoreContractTest, PagedListsReadWhatFollowsTheKeyUpToTheLimit) {
  const absl::Time now = testing::TestEpoch();
  std::vector<int64_t> incidents, messages, audit, deliveries;
  ASSERT_TRUE(
      this->Write([&](StoreTxn& t) -> absl::Status {
            for (int i = 0; i < 5; ++i) {
              v1::Incident incident;
              incident.set_group_key(absl::StrCat("g", i));
              auto id = t.InsertIncident(incident);
              if (!id.ok()) return id.status();
              incidents.push_back(*id);
              v1::Message m;
              m.set_incident_id(incidents[0]);
              m.set_state(i % 2 ? v1::MESSAGE_STATE_DRAFT
                                : v1::MESSAGE_STATE_PUBLISHED);
              auto mid = t.InsertMessage(m);
              if (!mid.ok()) return mid.status();
              messages.push_back(*mid);
              v1::AuditEntry e;
              e.set_incident_id(incidents[0]);
              auto aid = t.AppendAudit(e);
              if (!aid.ok()) return aid.status();
              audit.push_back(*aid);
              v1::Delivery d = TestFixture::Delivery(absl::StrCat("k", i), now);
              d.set_state(v1::DELIVERY_STATE_FAILED);
              auto did = t.InsertDelivery(d);
              if (!did.ok()) return did.status();
              deliveries.push_back(*did);
              if (auto st = t.PutSubscriber(Sub(absl::StrCat("s", i), {"api"}));
                  !st.ok()) {
                return st;
              }
            }
            return absl::OkStatus();
          })
          .ok());
  auto ids = [](const auto& rows) {
    std::vector<int64_t> out;
    for (const auto& r : rows) out.push_back(r.id());
    return out;
  };
  // Newest first: the two older than the fourth.
  EXPECT_THAT(ids(this->template ReadValue<std::vector<v1::Incident>>(
                  [&](StoreReader& r) {
                    return r.ListIncidents({.include_resolved = true,
                                            .before_id = incidents[3],
                                            .limit = 2});
                  })),
              ElementsAre(incidents[2], incidents[1]));
  EXPECT_THAT(
      ids(this->template ReadValue<std::vector<v1::Message>>(
          [&](StoreReader& r) {
            return r.ListMessages({.after_id = messages[0], .limit = 3});
          })),
      ElementsAre(messages[1], messages[2], messages[3]));
  // With states, each state's rows merged in id order before the limit.
  EXPECT_THAT(
      ids(this->template ReadValue<std::vector<v1::Message>>(
          [&](StoreReader& r) {
            return r.ListMessages({.incident_id = incidents[0],
                                   .states = {v1::MESSAGE_STATE_DRAFT,
                                              v1::MESSAGE_STATE_PUBLISHED},
                                   .after_id = messages[1],
                                   .limit = 2});
          })),
      ElementsAre(messages[2], messages[3]));
  EXPECT_THAT(ids(this->template ReadValue<std::vector<v1::AuditEntry>>(
                  [&](StoreReader& r) {
                    return r.ListAuditPage(incidents[0], audit[2], 5);
                  })),
              ElementsAre(audit[3], audit[4]));
  EXPECT_THAT(ids(this->template ReadValue<std::vector<v1::Delivery>>(
                  [&](StoreReader& r) {
                    return r.ListDeliveriesPage(7, deliveries[0], 2);
                  })),
              ElementsAre(deliveries[1], deliveries[2]));
  EXPECT_THAT(ids(this->template ReadValue<std::vector<v1::Delivery>>(
                  [&](StoreReader& r) {
                    return r.ListFailedDeliveries(deliveries[3], 2);
                  })),
              ElementsAre(deliveries[2], deliveries[1]));
  std::vector<std::string> subscribers;
  for (const v1::Subscriber& sub :
       this->template ReadValue<std::vector<v1::Subscriber>>(
           [&](StoreReader& r) {
             return r.ListSubscribers({.after_id = "s1", .limit = 2});
           })) {
    subscribers.push_back(sub.id());
  }
  EXPECT_THAT(subscribers, ElementsAre("s2", "s3"));
}

TYPED_TEST(StoreContractTest, SubscribersAreFoundByAccountInIdOrder) {
  v1::Subscriber no_account = Sub("c", {"api"});
  no_account.clear_account();
  ASSERT_TRUE(
      this->Write([&](StoreTxn& t) -> absl::Status {
            for (const v1::Subscriber& s :
                 {Sub("b", {"api"}),
                  Sub("a", {"checkout"}, v1::SUBSCRIBER_STATUS_UNSUBSCRIBED),
                  no_account}) {
              if (auto st = t.PutSubscriber(s); !st.ok()) return st;
            }
            return absl::OkStatus();
          })
          .ok());
  auto found =
      this->template ReadValue<std::vector<v1::Subscriber>>([](StoreReader& r) {
        return r.ListSubscribersByAccount({"acct-b", "acct-a", "", "nobody"});
      });
  ASSERT_THAT(found, SizeIs(2));
  EXPECT_EQ(found[0].id(), "a");
  EXPECT_EQ(found[1].id(), "b");
  EXPECT_THAT(
      (this->template ReadValue<std::vector<v1::Subscriber>>(
          [](StoreReader& r) { return r.ListSubscribersByAccount({}); })),
      SizeIs(0));
}

TYPED_TEST(StoreContractTest,
           FanOutQueuesEachActiveSubscriberOfAnyComponentOnce) {
  ASSERT_TRUE(
      this->Write([&](StoreTxn& t) -> absl::Status {
            for (const v1::Subscriber& s :
                 {Sub("a", {"checkout", "api"}), Sub("b", {"api"}),
                  Sub("c", {"search"}),
                  Sub("d", {"checkout"}, v1::SUBSCRIBER_STATUS_PENDING),
                  Sub("e", {"checkout"}, v1::SUBSCRIBER_STATUS_UNSUBSCRIBED)}) {
              if (auto st = t.PutSubscriber(s); !st.ok()) return st;
            }
            return absl::OkStatus();
          })
          .ok());
  const FanOut fan{7, 3, {"checkout", "api"}, absl::FromUnixSeconds(1000)};
  const auto enqueue = [&] {
    return this->template WriteValue<int64_t>(
        [&](StoreTxn& t) { return t.EnqueueFanOut(fan); });
  };
  const int64_t queued = enqueue();
  EXPECT_EQ(queued, 2);
  EXPECT_EQ(this->template ReadValue<int64_t>([](StoreReader& r) {
    return r.CountAudience({"checkout", "api"});
  }),
            2);
  auto list = this->template ReadValue<std::vector<v1::Delivery>>(
      [](StoreReader& r) { return r.ListDeliveries(7, 0); });
  ASSERT_THAT(list, SizeIs(2));
  EXPECT_EQ(list[0].recipient(), "subscriber:a");
  EXPECT_EQ(list[0].idempotency_key(), "msg-7-subscriber-a");
  EXPECT_EQ(list[0].incident_id(), 3);
  EXPECT_EQ(list[0].state(), v1::DELIVERY_STATE_QUEUED);
  EXPECT_EQ(FromProtoTime(list[0].created_at()), absl::FromUnixSeconds(1000));
  EXPECT_EQ(list[1].recipient(), "subscriber:b");
  // Queuing the same message again doubles nothing.
  EXPECT_EQ(enqueue(), 0);
  const OutboxStats stats = this->template ReadValue<OutboxStats>(
      [](StoreReader& r) { return r.GetOutboxStats(); });
  EXPECT_EQ(stats.pending, 2);
  EXPECT_EQ(stats.oldest_queued_at, absl::FromUnixSeconds(1000));
}

v1::Amends AmendsFor(int64_t incident, const std::string& subscriber,
                     const std::string& voucher_code = "") {
  v1::Amends a;
  a.set_incident_id(incident);
  a.set_subscriber_id(subscriber);
  a.mutable_credit()->set_voucher_code(voucher_code);
  return a;
}

}  // namespace store_testing
}  // namespace herald
