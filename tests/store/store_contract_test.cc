// One contract suite, run against every Store implementation.
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/proto_time.h"
#include "server/store/memory_store.h"
#include "server/store/sqlite_store.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string FreshDbPath() {
  static std::atomic<int> n{0};
  const auto dir = std::filesystem::path(::testing::TempDir()) /
                   absl::StrCat("herald_store_", getpid(), "_", n++);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return (dir / "herald.db").string();
}

struct MemoryFactory {
  static std::unique_ptr<Store> Make() { return NewMemoryStore(); }
};
struct SqliteFactory {
  static std::unique_ptr<Store> Make() {
    absl::StatusOr<std::unique_ptr<Store>> s = OpenSqliteStore(FreshDbPath());
    EXPECT_TRUE(s.ok()) << s.status();
    return *std::move(s);
  }
};

template <typename Factory>
class StoreContractTest : public ::testing::Test {
 protected:
  template <typename T>
  T WriteValue(std::function<absl::StatusOr<T>(StoreTxn&)> fn) {
    T out{};
    absl::Status s = store_->Write([&](StoreTxn& txn) -> absl::Status {
      absl::StatusOr<T> v = fn(txn);
      if (!v.ok()) return v.status();
      out = *std::move(v);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }
  absl::Status Write(std::function<absl::Status(StoreTxn&)> fn) {
    return store_->Write(fn);
  }
  template <typename T>
  T ReadValue(std::function<absl::StatusOr<T>(StoreReader&)> fn) {
    T out{};
    absl::Status s = store_->Read([&](StoreReader& r) -> absl::Status {
      absl::StatusOr<T> v = fn(r);
      if (!v.ok()) return v.status();
      out = *std::move(v);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }
  absl::Status ReadStatus(std::function<absl::Status(StoreReader&)> fn) {
    return store_->Read(fn);
  }

  static v1::Incident Incident(const std::string& group_key) {
    v1::Incident i;
    i.set_title("t");
    i.set_group_key(group_key);
    return i;
  }
  static v1::Delivery Delivery(const std::string& key, absl::Time due) {
    v1::Delivery d;
    d.set_message_id(7);
    d.set_incident_id(1);
    d.set_idempotency_key(key);
    d.set_state(v1::DELIVERY_STATE_QUEUED);
    *d.mutable_next_attempt_at() = ToProtoTime(due);
    return d;
  }

  std::unique_ptr<Store> store_ = Factory::Make();
};

using Implementations = ::testing::Types<MemoryFactory, SqliteFactory>;
TYPED_TEST_SUITE(StoreContractTest, Implementations);

TYPED_TEST(StoreContractTest, InsertedIncidentReadsBackWithItsId) {
  const int64_t id = this->template WriteValue<int64_t>([](StoreTxn& t) {
    return t.InsertIncident(TestFixture::Incident("g1"));
  });
  const v1::Incident got = this->template ReadValue<v1::Incident>(
      [&](StoreReader& r) { return r.GetIncident(id); });
  EXPECT_EQ(got.id(), id);
  EXPECT_EQ(got.group_key(), "g1");
}

TYPED_TEST(StoreContractTest, IdsAreUniqueAcrossSeparateWrites) {
  std::set<int64_t> incident_ids, message_ids;
  for (int i = 0; i < 3; ++i) {
    incident_ids.insert(this->template WriteValue<int64_t>([&](StoreTxn& t) {
      return t.InsertIncident(TestFixture::Incident(absl::StrCat("g", i)));
    }));
    message_ids.insert(this->template WriteValue<int64_t>(
        [](StoreTxn& t) { return t.InsertMessage(v1::Message()); }));
  }
  EXPECT_THAT(incident_ids, SizeIs(3));
  EXPECT_THAT(message_ids, SizeIs(3));
  EXPECT_THAT((this->template ReadValue<std::vector<v1::Incident>>(
                  [](StoreReader& r) { return r.ListIncidents({true}); })),
              SizeIs(3));
}

TYPED_TEST(StoreContractTest, UnknownIdsAreNotFound) {
  EXPECT_EQ(this->ReadStatus(
                    [](StoreReader& r) { return r.GetIncident(42).status(); })
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      this->ReadStatus([](StoreReader& r) { return r.GetMessage(42).status(); })
          .code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(this->ReadStatus(
                    [](StoreReader& r) { return r.GetAlert("nope").status(); })
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(this->ReadStatus(
                    [](StoreReader& r) { return r.GetDelivery(42).status(); })
                .code(),
            absl::StatusCode::kNotFound);
  v1::Incident ghost = TestFixture::Incident("g");
  ghost.set_id(42);
  EXPECT_EQ(
      this->Write([&](StoreTxn& t) { return t.UpdateIncident(ghost); }).code(),
      absl::StatusCode::kNotFound);
}

TYPED_TEST(StoreContractTest, OnlyOneOpenIncidentPerGroupKey) {
  this->template WriteValue<int64_t>([](StoreTxn& t) {
    return t.InsertIncident(TestFixture::Incident("g1"));
  });
  absl::Status dup = this->Write([](StoreTxn& t) {
    return t.InsertIncident(TestFixture::Incident("g1")).status();
  });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
}

TYPED_TEST(StoreContractTest, ResolvedIncidentIsNoLongerOpenForItsGroup) {
  const int64_t id = this->template WriteValue<int64_t>([](StoreTxn& t) {
    return t.InsertIncident(TestFixture::Incident("g1"));
  });
  ASSERT_TRUE(this->Write([&](StoreTxn& t) -> absl::Status {
                    v1::Incident i = *t.GetIncident(id);
                    i.mutable_resolved_at()->set_seconds(100);
                    return t.UpdateIncident(i);
                  })
                  .ok());
  EXPECT_EQ(this->ReadStatus([](StoreReader& r) {
                  return r.FindOpenIncident("g1").status();
                })
                .code(),
            absl::StatusCode::kNotFound);
  const int64_t next = this->template WriteValue<int64_t>([](StoreTxn& t) {
    return t.InsertIncident(TestFixture::Incident("g1"));
  });
  EXPECT_NE(next, id);
  EXPECT_EQ(this->template ReadValue<v1::Incident>(
                    [](StoreReader& r) { return r.FindOpenIncident("g1"); })
                .id(),
            next);
}

TYPED_TEST(StoreContractTest,
           ListIncidentsIsNewestFirstAndHidesResolvedByDefault) {
  const int64_t a = this->template WriteValue<int64_t>(
      [](StoreTxn& t) { return t.InsertIncident(TestFixture::Incident("a")); });
  const int64_t b = this->template WriteValue<int64_t>(
      [](StoreTxn& t) { return t.InsertIncident(TestFixture::Incident("b")); });
  ASSERT_TRUE(this->Write([&](StoreTxn& t) -> absl::Status {
                    v1::Incident i = *t.GetIncident(a);
                    i.mutable_resolved_at()->set_seconds(1);
                    return t.UpdateIncident(i);
                  })
                  .ok());
  auto ids = [](const std::vector<v1::Incident>& v) {
    std::vector<int64_t> out;
    for (const auto& i : v) out.push_back(i.id());
    return out;
  };
  EXPECT_THAT(ids(this->template ReadValue<std::vector<v1::Incident>>(
                  [](StoreReader& r) { return r.ListIncidents({false}); })),
              ElementsAre(b));
  EXPECT_THAT(ids(this->template ReadValue<std::vector<v1::Incident>>(
                  [](StoreReader& r) { return r.ListIncidents({true}); })),
              ElementsAre(b, a));
}

TYPED_TEST(StoreContractTest, PutAlertUpsertsByFingerprint) {
  v1::Alert a;
  a.set_fingerprint("fp");
  a.set_incident_id(3);
  a.set_status(v1::ALERT_STATUS_FIRING);
  ASSERT_TRUE(this->Write([&](StoreTxn& t) { return t.PutAlert(a); }).ok());
  a.set_status(v1::ALERT_STATUS_RESOLVED);
  ASSERT_TRUE(this->Write([&](StoreTxn& t) { return t.PutAlert(a); }).ok());
  auto alerts = this->template ReadValue<std::vector<v1::Alert>>(
      [](StoreReader& r) { return r.ListAlerts(3); });
  ASSERT_THAT(alerts, SizeIs(1));
  EXPECT_EQ(alerts[0].status(), v1::ALERT_STATUS_RESOLVED);
}

TYPED_TEST(StoreContractTest,
           AlertsAreReadAPageAtATimeByFingerprintAndCounted) {
  ASSERT_TRUE(this->Write([](StoreTxn& t) -> absl::Status {
                    // Five alerts on incident 3, out of order, and others.
                    for (const char* fp : {"e", "b", "d", "a", "c"}) {
                      v1::Alert a;
                      a.set_fingerprint(fp);
                      a.set_incident_id(3);
                      if (auto s = t.PutAlert(a); !s.ok()) return s;
                    }
                    v1::Alert other;
                    other.set_fingerprint("bb");
                    other.set_incident_id(4);
                    return t.PutAlert(other);
                  })
                  .ok());
  auto page = [&](const std::string& after, int limit) {
    std::vector<std::string> fps;
    for (const v1::Alert& a :
         this->template ReadValue<std::vector<v1::Alert>>([&](StoreReader& r) {
           return r.ListAlertsPage(3, after, limit);
         })) {
      fps.push_back(a.fingerprint());
    }
    return fps;
  };
  EXPECT_THAT(page("", 2), ElementsAre("a", "b"));
  EXPECT_THAT(page("b", 2), ElementsAre("c", "d"));
  EXPECT_THAT(page("d", 2), ElementsAre("e"));
  EXPECT_THAT(page("e", 2), ElementsAre());
  EXPECT_EQ(this->template ReadValue<int64_t>(
                [](StoreReader& r) { return r.CountAlerts(3); }),
            5);
  EXPECT_EQ(this->template ReadValue<int64_t>(
                [](StoreReader& r) { return r.CountAlerts(99); }),
            0);
  // Putting an alert again counts it once; moving it counts it where it is.
  ASSERT_TRUE(this->Write([](StoreTxn& t) -> absl::Status {
                    v1::Alert a;
                    a.set_fingerprint("a");
                    a.set_incident_id(3);
                    if (auto s = t.PutAlert(a); !s.ok()) return s;
                    a.set_fingerprint("b");
                    a.set_incident_id(4);
                    return t.PutAlert(a);
                  })
                  .ok());
  EXPECT_EQ(this->template ReadValue<int64_t>(
                [](StoreReader& r) { return r.CountAlerts(3); }),
            4);
  EXPECT_EQ(this->template ReadValue<int64_t>(
                [](StoreReader& r) { return r.CountAlerts(4); }),
            2);
}

TYPED_TEST(StoreContractTest,
           UnroutedAlertsAreReadAPageAtATimeNewestIncidentFirst) {
  ASSERT_TRUE(
      this->Write([](StoreTxn& t) -> absl::Status {
            // (incident, fingerprint); incident 0: kept for dedup.
            for (const auto& [incident, fp] :
                 std::vector<std::pair<int64_t, std::string>>{
                     {1, "x"}, {2, "b"}, {2, "a"}, {0, "z"}, {1, "y"}}) {
              v1::Alert a;
              a.set_fingerprint(fp);
              a.set_incident_id(incident);
              a.set_unrouted(true);
              if (auto s = t.PutAlert(a); !s.ok()) return s;
            }
            v1::Alert routed;
            routed.set_fingerprint("routed");
            routed.set_incident_id(2);
            return t.PutAlert(routed);
          })
          .ok());
  std::vector<std::string> all;
  int64_t after_incident = 0;
  std::string after;
  for (int pages = 0; pages < 10; ++pages) {
    auto page =
        this->template ReadValue<std::vector<v1::Alert>>([&](StoreReader& r) {
          return r.ListUnroutedAlertsPage(after_incident, after, 2);
        });
    for (const v1::Alert& a : page) all.push_back(a.fingerprint());
    if (page.size() < 2) break;
    after_incident = page.back().incident_id();
    after = page.back().fingerprint();
  }
  EXPECT_THAT(all, ElementsAre("a", "b", "x", "y", "z"));
  EXPECT_EQ(this->template ReadValue<int64_t>(
                [](StoreReader& r) { return r.CountUnroutedAlerts(); }),
            5);
}

TYPED_TEST(StoreContractTest, TimelineIsReadAPageAtATimeOldestFirst) {
  ASSERT_TRUE(this->Write([](StoreTxn& t) -> absl::Status {
                    for (int i = 0; i < 5; ++i) {
                      for (int64_t incident : {7, 8}) {
                        v1::TimelineEvent e;
                        e.set_incident_id(incident);
                        e.set_text(absl::StrCat(incident, "-", i));
                        if (auto s = t.AppendTimeline(e); !s.ok()) return s;
                      }
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  std::vector<std::string> texts;
  int64_t after = 0;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = this->template ReadValue<std::vector<v1::TimelineEvent>>(
        [&](StoreReader& r) { return r.ListTimelinePage(7, after, 2); });
    for (const v1::TimelineEvent& e : page) {
      EXPECT_GT(e.id(), after);
      texts.push_back(e.text());
    }
    if (page.empty()) break;
    after = page.back().id();
  }
  EXPECT_THAT(texts, ElementsAre("7-0", "7-1", "7-2", "7-3", "7-4"));
  EXPECT_EQ(this->template ReadValue<int64_t>(
                [](StoreReader& r) { return r.CountTimeline(7); }),
            5);
}

TYPED_TEST(StoreContractTest, MessagesFilterByIncidentAndState) {
  auto insert = [&](int64_t incident, v1::MessageState state) {
    v1::Message m;
    m.set_incident_id(incident);
    m.set_state(state);
    return this->template WriteValue<int64_t>(
        [&](StoreTxn& t) { return t.InsertMessage(m); });
  };
  const int64_t draft = insert(1, v1::MESSAGE_STATE_DRAFT);
  insert(1, v1::MESSAGE_STATE_PUBLISHED);
  insert(2, v1::MESSAGE_STATE_DRAFT);
  auto list =
      this->template ReadValue<std::vector<v1::Message>>([](StoreReader& r) {
        return r.ListMessages(
            {1, {v1::MESSAGE_STATE_DRAFT, v1::MESSAGE_STATE_PENDING_APPROVAL}});
      });
  ASSERT_THAT(list, SizeIs(1));
  EXPECT_EQ(list[0].id(), draft);
  EXPECT_THAT(
      (this->template ReadValue<std::vector<v1::Message>>([](StoreReader& r) {
        return r.ListMessages({0, {}});
      })),
      SizeIs(3));
}

TYPED_TEST(StoreContractTest, FailedWriteLeavesNoTrace) {
  absl::Status s = this->Write([](StoreTxn& t) -> absl::Status {
    if (auto id = t.InsertIncident(TestFixture::Incident("g1")); !id.ok())
      return id.status();
    return absl::InternalError("boom");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT((this->template ReadValue<std::vector<v1::Incident>>(
                  [](StoreReader& r) { return r.ListIncidents({true}); })),
              SizeIs(0));
}

TYPED_TEST(StoreContractTest,
           AsyncWritesReportEachOutcomeAndAFailureUndoesOnlyItsOwnWrite) {
  absl::Mutex mu;
  std::vector<absl::Status> outcomes(3);
  int reported = 0;
  auto insert = [](std::string key, bool fail) {
    return [key, fail](StoreTxn& t) -> absl::Status {
      if (auto id = t.InsertIncident(TestFixture::Incident(key)); !id.ok())
        return id.status();
      return fail ? absl::InternalError("boom") : absl::OkStatus();
    };
  };
  auto record = [&](int i) {
    return [&, i](absl::Status s) {
      absl::MutexLock lock(&mu);
      outcomes[i] = std::move(s);
      ++reported;
    };
  };
  this->store_->WriteAsync(insert("a", false), record(0));
  this->store_->WriteAsync(insert("b", true), record(1));
  this->store_->WriteAsync(insert("c", false), record(2));
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* n) { return *n == 3; }, &reported));
  }
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0];
  EXPECT_EQ(outcomes[1].code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(outcomes[2].ok()) << outcomes[2];
  auto open = this->template ReadValue<std::vector<v1::Incident>>(
      [](StoreReader& r) { return r.ListIncidents({true}); });
  std::set<std::string> keys;
  for (const v1::Incident& i : open) keys.insert(i.group_key());
  EXPECT_EQ(keys, (std::set<std::string>{"a", "c"}));
}

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

v1::Subscriber Sub(const std::string& id, std::vector<std::string> components,
                   v1::SubscriberStatus status = v1::SUBSCRIBER_STATUS_ACTIVE) {
  v1::Subscriber s;
  s.set_id(id);
  s.set_email(id + "@Example.com");
  s.set_account("acct-" + id);
  s.set_status(status);
  for (auto& c : components) s.add_component_ids(c);
  return s;
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

TYPED_TEST(StoreContractTest,
           AmendsAreOnePerCustomerAndIncidentWithUniqueVoucherCodes) {
  const int64_t first = this->template WriteValue<int64_t>(
      [](StoreTxn& t) { return t.InsertAmends(AmendsFor(3, "b", "CODE-1")); });
  ASSERT_TRUE(this->Write([](StoreTxn& t) {
                    return t.InsertAmends(AmendsFor(3, "a")).status();
                  })
                  .ok());
  ASSERT_TRUE(this->Write([](StoreTxn& t) {
                    return t.InsertAmends(AmendsFor(4, "a")).status();
                  })
                  .ok());
  EXPECT_TRUE(absl::IsAlreadyExists(this->Write(
      [](StoreTxn& t) { return t.InsertAmends(AmendsFor(3, "a")).status(); })));
  EXPECT_TRUE(absl::IsAlreadyExists(this->Write([](StoreTxn& t) {
    return t.InsertAmends(AmendsFor(5, "c", "CODE-1")).status();
  })));

  auto of3 = this->template ReadValue<std::vector<v1::Amends>>(
      [](StoreReader& r) { return r.ListAmends(3); });
  ASSERT_THAT(of3, SizeIs(2));
  EXPECT_EQ(of3[0].subscriber_id(), "a");  // by subscriber id
  EXPECT_EQ(of3[1].id(), first);
  EXPECT_EQ(this->template ReadValue<v1::Amends>(
                    [](StoreReader& r) { return r.FindAmends(3, "b"); })
                .credit()
                .voucher_code(),
            "CODE-1");
  EXPECT_TRUE(absl::IsNotFound(this->ReadStatus(
      [](StoreReader& r) { return r.FindAmends(4, "b").status(); })));

  v1::Amends answered = of3[1];
  answered.set_service_answer(v1::FOLLOW_UP_ANSWER_STILL_BROKEN);
  ASSERT_TRUE(
      this->Write([&](StoreTxn& t) { return t.UpdateAmends(answered); }).ok());
  EXPECT_EQ(this->template ReadValue<v1::Amends>(
                    [&](StoreReader& r) { return r.GetAmends(first); })
                .service_answer(),
            v1::FOLLOW_UP_ANSWER_STILL_BROKEN);
  EXPECT_TRUE(absl::IsNotFound(this->ReadStatus(
      [](StoreReader& r) { return r.GetAmends(999).status(); })));
}

TYPED_TEST(StoreContractTest, AFanOutToAmendsReachesTheirActiveCustomersOnly) {
  ASSERT_TRUE(
      this->Write([](StoreTxn& t) -> absl::Status {
            for (const v1::Subscriber& s :
                 {Sub("a", {"api"}), Sub("b", {"checkout"}),
                  Sub("c", {"checkout"}, v1::SUBSCRIBER_STATUS_UNSUBSCRIBED),
                  Sub("d", {"checkout"})}) {
              if (auto st = t.PutSubscriber(s); !st.ok()) return st;
            }
            for (const char* id : {"a", "b", "c"}) {
              if (auto st = t.InsertAmends(AmendsFor(3, id)).status();
                  !st.ok()) {
                return st;
              }
            }
            return t.InsertAmends(AmendsFor(4, "d")).status();
          })
          .ok());
  const FanOut fan{.message_id = 9,
                   .incident_id = 3,
                   .component_ids = {"checkout"},
                   .now = absl::FromUnixSeconds(1000),
                   .to_amends = true};
  EXPECT_EQ(this->template WriteValue<int64_t>(
                [&](StoreTxn& t) { return t.EnqueueFanOut(fan); }),
            2);
  auto list = this->template ReadValue<std::vector<v1::Delivery>>(
      [](StoreReader& r) { return r.ListDeliveries(9, 0); });
  ASSERT_THAT(list, SizeIs(2));
  EXPECT_EQ(list[0].recipient(), "subscriber:a");
  EXPECT_EQ(list[0].idempotency_key(), "msg-9-subscriber-a");
  EXPECT_EQ(list[1].recipient(), "subscriber:b");
}

TYPED_TEST(StoreContractTest, SubscribersAreFoundByComponentEmailAndStatus) {
  ASSERT_TRUE(
      this->Write([&](StoreTxn& t) -> absl::Status {
            for (const v1::Subscriber& s :
                 {Sub("a", {"checkout"}), Sub("b", {"api"}),
                  Sub("c", {"api"}, v1::SUBSCRIBER_STATUS_UNSUBSCRIBED)}) {
              if (auto st = t.PutSubscriber(s); !st.ok()) return st;
            }
            // Moving b to checkout drops its api subscription.
            return t.PutSubscriber(Sub("b", {"checkout"}));
          })
          .ok());
  auto api =
      this->template ReadValue<std::vector<v1::Subscriber>>([](StoreReader& r) {
        return r.ListSubscribers({.component_id = "api"});
      });
  EXPECT_THAT(api, SizeIs(0));
  auto all =
      this->template ReadValue<std::vector<v1::Subscriber>>([](StoreReader& r) {
        return r.ListSubscribers({.include_unsubscribed = true});
      });
  EXPECT_THAT(all, SizeIs(3));
  auto first =
      this->template ReadValue<std::vector<v1::Subscriber>>([](StoreReader& r) {
        return r.ListSubscribers({.component_id = "checkout", .limit = 1});
      });
  ASSERT_THAT(first, SizeIs(1));
  EXPECT_EQ(first[0].id(), "a");
  EXPECT_EQ(this->template ReadValue<v1::Subscriber>([](StoreReader& r) {
                  return r.FindSubscriberByEmail("B@example.COM");
                })
                .id(),
            "b");
  EXPECT_EQ(this->ReadStatus([](StoreReader& r) {
                  return r.FindSubscriberByEmail("z@example.com").status();
                })
                .code(),
            absl::StatusCode::kNotFound);
}

// Protobuf cannot read back a string that is not UTF-8, so no store keeps
// one: every kind of record is refused with InvalidArgument naming the
// field, and the transaction leaves nothing behind.
TYPED_TEST(StoreContractTest,
           RecordsWithTextThatIsNotUtf8AreRefusedNamingTheField) {
  const std::string bad = "Gr\xff";
  struct Case {
    std::string field;
    std::function<absl::Status(StoreTxn&)> write;
  };
  const std::vector<Case> cases = {
      {"Subscriber.name",
       [&](StoreTxn& t) {
         v1::Subscriber s = Sub("s", {"checkout"});
         s.set_name(bad);
         return t.PutSubscriber(s);
       }},
      {"Subscriber.contacts[0].address",
       [&](StoreTxn& t) {
         v1::Subscriber s = Sub("s", {"checkout"});
         s.add_contacts()->set_address(bad);
         return t.PutSubscriber(s);
       }},
      {"Incident.title",
       [&](StoreTxn& t) {
         v1::Incident i = TestFixture::Incident("g");
         i.set_title(bad);
         return t.InsertIncident(i).status();
       }},
      {"Alert.labels[0].value",
       [&](StoreTxn& t) {
         v1::Alert a;
         a.set_fingerprint("f");
         (*a.mutable_labels())["alertname"] = bad;
         return t.PutAlert(a);
       }},
      {"Update.text",
       [&](StoreTxn& t) {
         v1::Update u;
         u.set_text(bad);
         return t.InsertUpdate(u).status();
       }},
      {"Message.body",
       [&](StoreTxn& t) {
         v1::Message m;
         m.set_body(bad);
         return t.InsertMessage(m).status();
       }},
      {"TimelineEvent.text",
       [&](StoreTxn& t) {
         v1::TimelineEvent e;
         e.set_text(bad);
         return t.AppendTimeline(e);
       }},
      {"Delivery.subject",
       [&](StoreTxn& t) {
         v1::Delivery d;
         d.set_idempotency_key("k");
         d.set_subject(bad);
         return t.InsertDelivery(d).status();
       }},
      {"AuditEntry.detail",
       [&](StoreTxn& t) {
         v1::AuditEntry e;
         e.set_detail(bad);
         return t.AppendAudit(e).status();
       }},
  };
  for (const Case& c : cases) {
    const absl::Status s = this->Write(c.write);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field << s;
    EXPECT_THAT(std::string(s.message()), ::testing::StartsWith(c.field + ":"))
        << s;
  }
  EXPECT_THAT(this->template ReadValue<std::vector<v1::Subscriber>>(
                  [](StoreReader& r) { return r.ListSubscribers({}); }),
              SizeIs(0));
  EXPECT_THAT(
      this->template ReadValue<std::vector<v1::Incident>>([](StoreReader& r) {
        return r.ListIncidents({.include_resolved = true});
      }),
      SizeIs(0));
}

// Rows written by an older herald (or by hand) that protobuf cannot read
// are left out of lists, reported, and never stop the others; a due
// delivery comes back with `unreadable` so the outbox can set it aside.
TEST(SqliteStoreTest, UnreadableRowsAreLeftOutReportedAndSetAside) {
  const std::string path = FreshDbPath();
  std::vector<std::string> reported;
  auto store = *OpenSqliteStore(
      path, SqliteStoreOptions{.on_unreadable_row = [&](absl::string_view r) {
        reported.emplace_back(r);
      }});
  ASSERT_TRUE(store
                  ->Write([](StoreTxn& t) -> absl::Status {
                    for (const char* id : {"a", "b", "c"}) {
                      if (auto s = t.PutSubscriber(Sub(id, {"checkout"}));
                          !s.ok()) {
                        return s;
                      }
                    }
                    for (const char* key : {"k1", "k2"}) {
                      v1::Delivery d;
                      d.set_idempotency_key(key);
                      d.set_recipient("subscriber:b");
                      d.set_state(v1::DELIVERY_STATE_QUEUED);
                      d.set_subject("Hello");
                      if (auto s = t.InsertDelivery(d); !s.ok()) {
                        return s.status();
                      }
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  // A name of one invalid byte, as an older herald stored it: field 2
  // (name), length 1, 0xff.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE subscribers SET body = X'0A01621201FF' "
                         "WHERE id = 'b';"
                         "UPDATE deliveries SET body = X'3A01FF' "
                         "WHERE idempotency_key = 'k1';",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  ASSERT_TRUE(store
                  ->Read([](StoreReader& r) -> absl::Status {
                    auto subs = r.ListSubscribers({});
                    EXPECT_TRUE(subs.ok()) << subs.status();
                    std::vector<std::string> ids;
                    for (const auto& s : *subs) ids.push_back(s.id());
                    EXPECT_THAT(ids, ElementsAre("a", "c"));
                    EXPECT_EQ(r.GetSubscriber("b").status().code(),
                              absl::StatusCode::kDataLoss);
                    auto due = r.ListDueDeliveries(absl::Now(), 10);
                    EXPECT_TRUE(due.ok()) << due.status();
                    EXPECT_THAT(*due, SizeIs(2));
                    EXPECT_THAT((*due)[0].unreadable(),
                                ::testing::HasSubstr("cannot be read"));
                    EXPECT_EQ((*due)[0].idempotency_key(), "k1");
                    EXPECT_EQ((*due)[0].recipient(), "subscriber:b");
                    EXPECT_EQ((*due)[1].unreadable(), "");
                    EXPECT_EQ((*due)[1].subject(), "Hello");
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_THAT(reported, ::testing::Contains("Subscriber"));
  EXPECT_THAT(reported, ::testing::Contains("Delivery"));
}

TYPED_TEST(StoreContractTest,
           PendingSubscribersAreListedAndADeletedOneIsGoneEverywhere) {
  ASSERT_TRUE(
      this->Write([&](StoreTxn& t) -> absl::Status {
            for (const v1::Subscriber& s :
                 {Sub("p2", {"api"}, v1::SUBSCRIBER_STATUS_PENDING),
                  Sub("a", {"api"}),
                  Sub("p1", {"api"}, v1::SUBSCRIBER_STATUS_PENDING),
                  Sub("u", {"api"}, v1::SUBSCRIBER_STATUS_UNSUBSCRIBED)}) {
              if (auto st = t.PutSubscriber(s); !st.ok()) return st;
            }
            return absl::OkStatus();
          })
          .ok());
  auto pending = this->template ReadValue<std::vector<v1::Subscriber>>(
      [](StoreReader& r) { return r.ListPendingSubscribers(); });
  ASSERT_THAT(pending, SizeIs(2));
  EXPECT_EQ(pending[0].id(), "p1");
  EXPECT_EQ(pending[1].id(), "p2");

  ASSERT_TRUE(
      this->Write([](StoreTxn& t) { return t.DeleteSubscriber("p1"); }).ok());
  EXPECT_EQ(
      this->Write([](StoreTxn& t) { return t.DeleteSubscriber("p1"); }).code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(this->ReadStatus([](StoreReader& r) {
                  return r.GetSubscriber("p1").status();
                })
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(this->ReadStatus([](StoreReader& r) {
                  return r.FindSubscriberByEmail("p1@example.com").status();
                })
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT((this->template ReadValue<std::vector<v1::Subscriber>>(
                  [](StoreReader& r) { return r.ListPendingSubscribers(); })),
              SizeIs(1));
  // Its subscriptions went with it: re-adding the id starts from nothing.
  ASSERT_TRUE(
      this->Write([](StoreTxn& t) { return t.PutSubscriber(Sub("p1", {})); })
          .ok());
  auto api =
      this->template ReadValue<std::vector<v1::Subscriber>>([](StoreReader& r) {
        return r.ListSubscribers({.component_id = "api"});
      });
  ASSERT_THAT(api, SizeIs(2));  // a and p2, not p1
  EXPECT_EQ(api[0].id(), "a");
  EXPECT_EQ(api[1].id(), "p2");
}

TEST(SqliteStoreTest, CommittedStateSurvivesReopen) {
  const std::string path = FreshDbPath();
  {
    auto store = *OpenSqliteStore(path);
    ASSERT_TRUE(store
                    ->Write([](StoreTxn& t) {
                      v1::Incident i;
                      i.set_group_key("g");
                      return t.InsertIncident(i).status();
                    })
                    .ok());
  }
  auto reopened = *OpenSqliteStore(path);
  ASSERT_TRUE(reopened
                  ->Read([](StoreReader& r) -> absl::Status {
                    EXPECT_TRUE(r.FindOpenIncident("g").ok());
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST(SqliteStoreTest, TheAuditLogRefusesChangesEvenInRawSql) {
  const std::string path = FreshDbPath();
  {
    auto store = *OpenSqliteStore(path);
    ASSERT_TRUE(store
                    ->Write([](StoreTxn& t) {
                      v1::AuditEntry e;
                      e.set_incident_id(1);
                      return t.AppendAudit(e).status();
                    })
                    .ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE audit SET incident_id = 2", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_THAT(std::string(sqlite3_errmsg(db)),
              ::testing::HasSubstr("append-only"));
  sqlite3_close(db);
}

TEST(SqliteStoreTest, UpgradeFromSchema4MakesStoredSubscribersAnAudience) {
  const std::string path = FreshDbPath();
  {
    auto store = *OpenSqliteStore(path);
    ASSERT_TRUE(store
                    ->Write([](StoreTxn& t) {
                      return t.PutSubscriber(Sub("a", {"checkout"}));
                    })
                    .ok());
  }
  // Back to schema 4: what migrations 5 to 13 added is gone; the stored
  // row stays.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP INDEX deliveries_by_recipient;"
                         "DROP INDEX deliveries_waiting;"
                         "ALTER TABLE deliveries DROP COLUMN waiting_on;"
                         "DROP INDEX deliveries_by_message_page;"
                         "DROP TRIGGER alerts_counted_on_insert;"
                         "DROP TRIGGER alerts_counted_on_delete;"
                         "DROP TRIGGER alerts_counted_on_move;"
                         "DROP TABLE incident_alert_counts;"
                         "DROP INDEX alerts_by_incident_page;"
                         "DROP TABLE amends;"
                         "DROP INDEX subscribers_by_account;"
                         "ALTER TABLE subscribers DROP COLUMN account;"
                         "DROP TABLE settings;"
                         "DROP TABLE subscriptions;"
                         "DROP INDEX subscribers_by_email;"
                         "DROP INDEX deliveries_by_state;"
                         "ALTER TABLE subscribers DROP COLUMN email;"
                         "ALTER TABLE subscribers DROP COLUMN status;"
                         "ALTER TABLE deliveries DROP COLUMN recipient;"
                         "ALTER TABLE deliveries DROP COLUMN created_at;"
                         "PRAGMA user_version = 4;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto upgraded = *OpenSqliteStore(path);
  ASSERT_TRUE(upgraded
                  ->Read([](StoreReader& r) -> absl::Status {
                    EXPECT_EQ(*r.CountAudience({"checkout"}), 1);
                    EXPECT_EQ(r.FindSubscriberByEmail("a@example.com")->id(),
                              "a");
                    auto by_account = r.ListSubscribersByAccount({"acct-a"});
                    EXPECT_EQ(by_account->size(), 1u);
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST(SqliteStoreTest, EachGroupCommitIsReportedWithItsDuration) {
  std::atomic<int> commits{0};
  std::atomic<bool> negative{false};
  auto store = *OpenSqliteStore(
      FreshDbPath(), SqliteStoreOptions{.on_commit = [&](absl::Duration d) {
        ++commits;
        if (d < absl::ZeroDuration()) negative = true;
      }});
  ASSERT_TRUE(
      store->Write([](StoreTxn& t) { return t.PutSetting("a", "1"); }).ok());
  ASSERT_TRUE(
      store->Write([](StoreTxn& t) { return t.PutSetting("b", "2"); }).ok());
  EXPECT_EQ(commits.load(), 2);
  EXPECT_FALSE(negative.load());
}

TEST(SqliteStoreTest, ABackupTakenBetweenWritesOpensAsTheSameStore) {
  auto store = *OpenSqliteStore(FreshDbPath());
  ASSERT_TRUE(store
                  ->Write([](StoreTxn& t) -> absl::Status {
                    if (auto s = t.PutSetting("key", "before"); !s.ok()) {
                      return s;
                    }
                    return t.PutSubscriber(Sub("a", {"checkout"}));
                  })
                  .ok());
  const std::string copy = FreshDbPath();
  ASSERT_TRUE(store->BackupTo(copy).ok());
  // What happens after the backup is not in it.
  ASSERT_TRUE(
      store->Write([](StoreTxn& t) { return t.PutSetting("key", "after"); })
          .ok());
  auto restored = *OpenSqliteStore(copy);
  ASSERT_TRUE(restored
                  ->Read([](StoreReader& r) -> absl::Status {
                    EXPECT_EQ(*r.GetSetting("key"), "before");
                    EXPECT_EQ(*r.CountAudience({"checkout"}), 1);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(NewMemoryStore()->BackupTo(FreshDbPath()).code(),
            absl::StatusCode::kUnimplemented);
}

// The permission bits of `path`; -1 when it does not exist.
int ModeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777)
                                        : -1;
}

TEST(SqliteStoreTest, TheDatabaseItsJournalsAndBackupsAreOwnerOnly) {
  const mode_t umask_was = ::umask(022);  // the usual: files 0644
  const std::string path = FreshDbPath();
  {
    auto store = *OpenSqliteStore(path);
    ASSERT_TRUE(
        store->Write([](StoreTxn& t) { return t.PutSetting("k", "v"); }).ok());
    EXPECT_EQ(ModeOf(path), 0600);
    EXPECT_EQ(ModeOf(path + "-wal"), 0600);
    EXPECT_EQ(ModeOf(path + "-shm"), 0600);
    const std::string copy = FreshDbPath();
    ASSERT_TRUE(store->BackupTo(copy).ok());
    EXPECT_EQ(ModeOf(copy), 0600);
  }
  ::umask(umask_was);
}

TEST(SqliteStoreTest, OpeningTightensADatabaseAnOlderHeraldLeftReadable) {
  const std::string path = FreshDbPath();
  {
    auto store = *OpenSqliteStore(path);
    ASSERT_TRUE(
        store->Write([](StoreTxn& t) { return t.PutSetting("k", "v"); }).ok());
    for (const std::string& f : {path, path + "-wal", path + "-shm"}) {
      ASSERT_EQ(::chmod(f.c_str(), 0644), 0) << f;
    }
  }
  auto reopened = *OpenSqliteStore(path);
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_EQ(ModeOf(path + "-wal"), 0600);
  EXPECT_EQ(ModeOf(path + "-shm"), 0600);
}

TEST(SqliteStoreTest, RefusesADatabaseFromANewerSchema) {
  const std::string path = FreshDbPath();
  ASSERT_TRUE(OpenSqliteStore(path).ok());
  // Simulate a newer herald having migrated the file.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(OpenSqliteStore(path).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SqliteStoreTest, UnopenablePathIsUnavailable) {
  EXPECT_EQ(OpenSqliteStore("/nonexistent/dir/herald.db").status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace herald
