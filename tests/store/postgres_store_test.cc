// What the PostgreSQL store promises beyond the contract every store keeps:
// several stores (one per heraldd replica) over one database, writes that
// conflict and are run again, migrations that run once, and connections
// that are replaced when the server drops them. Against the real cluster
// of ctest's `postgres` fixture.
#include "server/store/postgres_store.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/proto_time.h"
#include "tests/testing/postgres_test_cluster.h"

namespace herald {
namespace {

using ::testing::HasSubstr;

// Runs `sql` on its own connection to `dsn` and returns the first value
// it returned ("" for none); fails the test if it fails.
std::string Admin(const std::string& dsn, const std::string& sql) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* r = PQexec(conn, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  EXPECT_TRUE(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
      << PQerrorMessage(conn);
  std::string first =
      st == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  PQfinish(conn);
  return first;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> dsn = testing::FreshPostgresSchema();
    ASSERT_TRUE(dsn.ok()) << dsn.status();
    application_name_ = absl::StrCat("herald_test_", getpid(), "_",
                                     reinterpret_cast<uintptr_t>(this));
    dsn_ = *dsn;
  }

  // One replica's store over the test's schema.
  std::unique_ptr<Store> Replica(int pool_size = 4) {
    absl::StatusOr<std::unique_ptr<Store>> s = OpenPostgresStore(
        {.dsn = absl::StrCat(dsn_, " application_name=", application_name_),
         .pool_size = pool_size});
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  static int64_t CounterOf(Store& store) {
    int64_t n = 0;
    EXPECT_TRUE(store
                    .Read([&](StoreReader& r) {
                      absl::StatusOr<std::string> v = r.GetSetting("counter");
                      if (!v.ok()) return v.status();
                      return absl::SimpleAtoi(*v, &n) ? absl::OkStatus()
                                                      : absl::DataLossError(*v);
                    })
                    .ok());
    return n;
  }

  std::string dsn_;
  // Names the replicas' connections, so that a test can find them.
  std::string application_name_;
};

TEST_F(PostgresStoreTest, ReplicasStartingTogetherMigrateOnce) {
  std::vector<std::unique_ptr<Store>> replicas(3);
  std::vector<std::thread> starting;
  for (auto& r : replicas) {
    starting.emplace_back([&] { r = Replica(); });
  }
  for (std::thread& t : starting) t.join();
  for (auto& r : replicas) ASSERT_NE(r, nullptr);
  // What one replica writes, the others read.
  ASSERT_TRUE(
      replicas[0]
          ->Write([](StoreTxn& txn) { return txn.PutSetting("seen", "yes"); })
          .ok());
  for (auto& r : replicas) {
    absl::Status s = r->Read(
        [](StoreReader& reader) { return reader.GetSetting("seen").status(); });
    EXPECT_TRUE(s.ok()) << s;
  }
}

TEST_F(PostgresStoreTest, AHeraldOlderThanTheSchemaRefusesToStart) {
  ASSERT_NE(Replica(), nullptr);
  Admin(dsn_, absl::StrCat("UPDATE herald_schema SET version = ",
                           PostgresSchemaVersion() + 1));
  absl::StatusOr<std::unique_ptr<Store>> older =
      OpenPostgresStore({.dsn = dsn_});
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(older.status().message(), HasSubstr("upgrade herald"));
}

TEST_F(PostgresStoreTest, ConflictingWritesAreRunAgainAndNoneIsLost) {
  // Read-modify-write of one value from two replicas, eight threads: under
  // SERIALIZABLE most of them conflict; each is run again till it commits.
  std::unique_ptr<Store> a = Replica(), b = Replica();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Write([](StoreTxn& txn) {
                 return txn.PutSetting("counter", "0");
               }).ok());
  constexpr int kThreads = 8, kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    Store* store = t % 2 == 0 ? a.get() : b.get();
    writers.emplace_back([store, &failures] {
      for (int i = 0; i < kEach; ++i) {
        absl::Status s = store->Write([](StoreTxn& txn) -> absl::Status {
          absl::StatusOr<std::string> v = txn.GetSetting("counter");
          if (!v.ok()) return v.status();
          int64_t n = 0;
          if (!absl::SimpleAtoi(*v, &n)) return absl::DataLossError(*v);
          return txn.PutSetting("counter", absl::StrCat(n + 1));
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(CounterOf(*a), kThreads * kEach);
}

TEST_F(PostgresStoreTest, TwoReplicasOpeningTheSameGroupMakeOneIncident) {
  // What intake does when an HA pair of Alertmanagers sends one
  // notification to two replicas at once: find the group's open incident,
  // or open it.
  std::unique_ptr<Store> a = Replica(), b = Replica();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto open_or_find = [](Store& store) {
    int64_t id = 0;
    absl::Status s = store.Write([&](StoreTxn& txn) -> absl::Status {
      absl::StatusOr<v1::Incident> open = txn.FindOpenIncident("db-down");
      if (open.ok()) {
        id = open->id();
        return absl::OkStatus();
      }
      if (!absl::IsNotFound(open.status())) return open.status();
      v1::Incident incident;
      incident.set_title("db down");
      incident.set_group_key("db-down");
      absl::StatusOr<int64_t> inserted = txn.InsertIncident(incident);
      if (!inserted.ok()) return inserted.status();
      id = *inserted;
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return id;
  };
  for (int round = 0; round < 20; ++round) {
    int64_t from_a = 0, from_b = 0;
    std::thread ta([&] { from_a = open_or_find(*a); });
    std::thread tb([&] { from_b = open_or_find(*b); });
    ta.join();
    tb.join();
    ASSERT_EQ(from_a, from_b) << "round " << round;
    // Resolve it, so that the next round races to open a new one.
    ASSERT_TRUE(a->Write([&](StoreTxn& txn) -> absl::Status {
                   absl::StatusOr<v1::Incident> i = txn.GetIncident(from_a);
                   if (!i.ok()) return i.status();
                   *i->mutable_resolved_at() = ToProtoTime(absl::Now());
                   return txn.UpdateIncident(*i);
                 }).ok());
  }
  absl::StatusOr<size_t> incidents = 0;
  ASSERT_TRUE(a->Read([&](StoreReader& r) -> absl::Status {
                 auto all = r.ListIncidents({.include_resolved = true});
                 if (!all.ok()) return all.status();
                 incidents = all->size();
                 return absl::OkStatus();
               }).ok());
  EXPECT_EQ(*incidents, 20u);
}

TEST_F(PostgresStoreTest, ReplicasClaimingAtOnceNeverShareADelivery) {
  std::unique_ptr<Store> a = Replica(), b = Replica();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  constexpr int kDeliveries = 300;
  ASSERT_TRUE(a->Write([&](StoreTxn& txn) -> absl::Status {
                 for (int i = 0; i < kDeliveries; ++i) {
                   v1::Delivery d;
                   d.set_message_id(1);
                   d.set_incident_id(1);
                   d.set_idempotency_key(absl::StrCat("k", i));
                   d.set_state(v1::DELIVERY_STATE_QUEUED);
                   *d.mutable_next_attempt_at() = ToProtoTime(now);
                   if (auto id = txn.InsertDelivery(d); !id.ok()) {
                     return id.status();
                   }
                 }
                 return absl::OkStatus();
               }).ok());
  absl::Mutex mu;
  std::multiset<int64_t> claimed;
  std::vector<std::thread> claimers;
  for (int t = 0; t < 4; ++t) {
    Store* store = t % 2 == 0 ? a.get() : b.get();
    claimers.emplace_back([&, store] {
      while (true) {
        absl::StatusOr<std::vector<v1::Delivery>> got =
            store->ClaimDueDeliveries(
                {.now = now, .lease = absl::Minutes(5), .limit = 7});
        ASSERT_TRUE(got.ok()) << got.status();
        if (got->empty()) return;
        absl::MutexLock lock(&mu);
        for (const v1::Delivery& d : *got) {
          EXPECT_EQ(d.state(), v1::DELIVERY_STATE_SENDING);
          EXPECT_EQ(d.attempts(), 1);
          claimed.insert(d.id());
        }
      }
    });
  }
  for (std::thread& t : claimers) t.join();
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kDeliveries));
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()).size(),
            static_cast<size_t>(kDeliveries))
      << "a delivery was claimed twice";
}

TEST_F(PostgresStoreTest, ADueJobIsClaimedByOneReplicaOnly) {
  std::unique_ptr<Store> a = Replica(), b = Replica(), c = Replica();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(c, nullptr);
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  constexpr int kJobs = 60;
  ASSERT_TRUE(a->Write([&](StoreTxn& txn) -> absl::Status {
                 for (int i = 0; i < kJobs; ++i) {
                   v1::Job job;
                   *job.mutable_due_at() = ToProtoTime(now);
                   if (auto id = txn.InsertJob(job); !id.ok()) {
                     return id.status();
                   }
                 }
                 return absl::OkStatus();
               }).ok());
  absl::Mutex mu;
  std::multiset<int64_t> claimed;
  std::vector<std::thread> claimers;
  for (Store* store : {a.get(), b.get(), c.get()}) {
    claimers.emplace_back([&, store] {
      while (true) {
        auto got = store->ClaimDueJobs(
            {.now = now, .lease = absl::Minutes(1), .limit = 3});
        ASSERT_TRUE(got.ok()) << got.status();
        if (got->empty()) return;
        absl::MutexLock lock(&mu);
        for (const v1::Job& j : *got) claimed.insert(j.id());
      }
    });
  }
  for (std::thread& t : claimers) t.join();
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()).size(),
            static_cast<size_t>(kJobs));
}

TEST_F(PostgresStoreTest, AConnectionTheServerDroppedIsReplaced) {
  std::unique_ptr<Store> store = Replica(/*pool_size=*/1);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      store->Write([](StoreTxn& txn) { return txn.PutSetting("a", "1"); })
          .ok());
  // What a server restart or a failover does to the idle connection.
  ASSERT_EQ(Admin(dsn_, absl::StrCat("SELECT count(*) FILTER (WHERE "
                                     "pg_terminate_backend(pid)) FROM "
                                     "pg_stat_activity WHERE application_name "
                                     "= '",
                                     application_name_, "'")),
            "1")
      << "the store's one connection was not found to drop";
  absl::Status s =
      store->Write([](StoreTxn& txn) { return txn.PutSetting("a", "2"); });
  EXPECT_TRUE(s.ok()) << s;
}

// What one side of a broadcast has received, with a wait for more.
class Received {
 public:
  void Add(absl::string_view m) {
    absl::MutexLock lock(&mu_);
    messages_.emplace_back(m);
  }
  // Waits (bounded) until `message` has arrived; whether it did.
  bool WaitFor(const std::string& message) {
    absl::MutexLock lock(&mu_);
    auto arrived = [&] {
      mu_.AssertHeld();  // Await calls it with mu_ held
      return std::find(messages_.begin(), messages_.end(), message) !=
             messages_.end();
    };
    return mu_.AwaitWithTimeout(absl::Condition(&arrived), absl::Seconds(10));
  }
  std::vector<std::string> All() {
    absl::MutexLock lock(&mu_);
    return messages_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> messages_ ABSL_GUARDED_BY(mu_);
};

TEST_F(PostgresStoreTest, TwoHeralddHearEachOtherButNeverThemselves) {
  std::unique_ptr<StoreBroadcast> a = OpenPostgresBroadcast({.dsn = dsn_});
  std::unique_ptr<StoreBroadcast> b = OpenPostgresBroadcast({.dsn = dsn_});
  Received at_a, at_b;
  a->Listen([&](absl::string_view m) { at_a.Add(m); });
  b->Listen([&](absl::string_view m) { at_b.Add(m); });
  // Listening starts on a thread of its own: a message sent before it
  // listens is lost, as the interface allows. Ping till one arrives.
  bool heard = false;
  for (int i = 0; i < 50 && !heard; ++i) {
    a->Send(absl::StrCat("ping-", i));
    heard = at_b.WaitFor(absl::StrCat("ping-", i));
  }
  ASSERT_TRUE(heard) << "b never heard a";
  for (int i = 0; i < 200; ++i) a->Send(absl::StrCat("update-", i));
  EXPECT_TRUE(at_b.WaitFor("update-199"));
  heard = false;
  for (int i = 0; i < 50 && !heard; ++i) {
    b->Send(absl::StrCat("pong-", i));
    heard = at_a.WaitFor(absl::StrCat("pong-", i));
  }
  ASSERT_TRUE(heard) << "a never heard b";
  for (const std::string& m : at_a.All()) {
    EXPECT_TRUE(absl::StartsWith(m, "pong-") || m.empty())
        << "a heard its own " << m;
  }
  // In order, each once.
  std::vector<std::string> updates;
  for (const std::string& m : at_b.All()) {
    if (absl::StartsWith(m, "update-")) updates.push_back(m);
  }
  ASSERT_EQ(updates.size(), 200u);
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(updates[i], absl::StrCat("update-", i));
}

TEST(PostgresStoreOpenTest, AnUnreachableDatabaseIsUnavailable) {
  absl::StatusOr<std::unique_ptr<Store>> s = OpenPostgresStore(
      {.dsn = "host=127.0.0.1 port=1 user=herald connect_timeout=2"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.status().message(), HasSubstr("cannot connect to PostgreSQL"));
}

TEST(PostgresStoreOpenTest, OptionsAreCheckedAndNamed) {
  absl::StatusOr<std::unique_ptr<Store>> no_dsn = OpenPostgresStore({});
  EXPECT_EQ(no_dsn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_dsn.status().message(), HasSubstr("store.postgres.dsn"));
  absl::StatusOr<std::unique_ptr<Store>> no_pool =
      OpenPostgresStore({.dsn = "host=127.0.0.1", .pool_size = 0});
  EXPECT_EQ(no_pool.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_pool.status().message(),
              HasSubstr("store.postgres.pool_size"));
}

TEST(PostgresStoreOpenTest, ABadDsnIsRefusedWithoutQuotingIt) {
  absl::StatusOr<std::unique_ptr<Store>> s = OpenPostgresStore(
      {.dsn = "postgresql://herald:s3cret-pw@[::1/herald"});  // no "]"
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("store.postgres.dsn"));
  EXPECT_THAT(std::string(s.status().message()),
              ::testing::Not(HasSubstr("s3cret")));
}

TEST_F(PostgresStoreTest, AWriteWhoseStatementFailedIsNeverReportedCommitted) {
  // A fn that ignores a failed statement and returns OK: PostgreSQL's
  // COMMIT of that transaction is a rollback, and must not read as OK.
  std::unique_ptr<Store> store = Replica();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      store->Write([](StoreTxn& txn) { return txn.PutSetting("kept", "no"); })
          .ok());
  absl::Status s = store->Write([](StoreTxn& txn) -> absl::Status {
    if (auto st = txn.PutSetting("kept", "yes"); !st.ok()) return st;
    v1::Subscriber bad;
    bad.set_id(std::string("a\0b", 3));  // PostgreSQL's text refuses NUL
    EXPECT_FALSE(txn.PutSubscriber(bad).ok());
    return absl::OkStatus();  // ignoring it
  });
  EXPECT_FALSE(s.ok()) << "a write with a failed statement read as committed";
  std::string kept;
  ASSERT_TRUE(store
                  ->Read([&](StoreReader& r) -> absl::Status {
                    absl::StatusOr<std::string> v = r.GetSetting("kept");
                    if (!v.ok()) return v.status();
                    kept = *v;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(kept, "no");
}

}  // namespace
}  // namespace herald
