#include "server/store/postgres_store.h"

#include <pthread.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "server/base/log.h"
#include "server/store/postgres/connection.h"
#include "server/store/postgres/notify_broadcast.h"
#include "server/store/postgres/schema.h"
#include "server/store/sql/rows.h"
#include "server/store/sql/txn.h"

namespace herald {
namespace {

// Named in full: a unity build shares this namespace with SQLite's.
using PostgresTxn = sql::SqlTxn<postgres::Dialect>;

constexpr const char* kBeginRead =
    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
constexpr const char* kBeginWrite = "BEGIN ISOLATION LEVEL SERIALIZABLE";
// Claims lock the rows they take (SKIP LOCKED) and need no more: under
// SERIALIZABLE, claimers reading the same queue would fail each other.
constexpr const char* kBeginClaim = "BEGIN ISOLATION LEVEL READ COMMITTED";

// A pause before running a conflicted write again: short, doubling, and
// jittered so that the writers that collided do not collide again.
absl::Duration RetryPause(int attempt) {
  thread_local std::minstd_rand jitter(std::random_device{}());
  const int64_t base_us = int64_t{500} << std::min(attempt, 8);
  std::uniform_int_distribution<int64_t> spread(base_us / 2, base_us);
  return absl::Microseconds(spread(jitter));
}

class PostgresStoreImpl final : public Store {
 public:
  explicit PostgresStoreImpl(PostgresStoreOptions options)
      : options_(std::move(options)) {
    for (int i = 0; i < options_.pool_size; ++i) {
      async_writers_.emplace_back([this] { AsyncWriterLoop(); });
    }
  }
  ~PostgresStoreImpl() override {
    {
      absl::MutexLock lock(&queue_mu_);
      stopping_ = true;
    }
    for (std::thread& t : async_writers_) t.join();  // they drain the queue
  }

  // Hands over the connection that migrated, to be the pool's first.
  void Adopt(std::unique_ptr<postgres::Connection> c) {
    absl::MutexLock lock(&pool_mu_);
    ++open_;
    idle_.push_back(std::move(c));
  }

  absl::Status Read(absl::FunctionRef<absl::Status(StoreReader&)> fn) override {
    // A read-only snapshot conflicts with nothing, and fn runs once.
    return RunTransaction(kBeginRead, /*rerun=*/false,
                          [&](postgres::Connection* c) {
                            PostgresTxn txn(c);
                            return fn(txn);
                          });
  }

  absl::Status Write(absl::FunctionRef<absl::Status(StoreTxn&)> fn) override {
    return RunTransaction(kBeginWrite, /*rerun=*/true,
                          [&](postgres::Connection* c) {
                            PostgresTxn txn(c);
                            return fn(txn);
                          });
  }

  // Writes run on a pool of threads, each its own transaction: PostgreSQL
  // commits concurrent transactions together, where SQLite needs one
  // writer thread to batch them.
  void WriteAsync(WriteFn fn, WriteDone done) override {
    absl::MutexLock lock(&queue_mu_);
    queue_.push_back(PendingWrite{std::move(fn), std::move(done)});
  }

  absl::StatusOr<std::vector<v1::Delivery>> ClaimDueDeliveries(
      const ClaimRequest& claim) override {
    std::vector<v1::Delivery> claimed;
    absl::Status s = RunTransaction(
        kBeginClaim, /*rerun=*/true, [&](postgres::Connection* c) {
          postgres::Statement due(
              c, absl::StrCat("SELECT ", sql::kDeliveryColumns,
                              " FROM deliveries WHERE state IN (?, ?, ?) "
                              "AND next_attempt_at <= ? "
                              "ORDER BY next_attempt_at, id LIMIT ? "
                              "FOR UPDATE SKIP LOCKED"));
          due.Bind(1, int64_t{v1::DELIVERY_STATE_QUEUED})
              .Bind(2, int64_t{v1::DELIVERY_STATE_RETRYING})
              .Bind(3, int64_t{v1::DELIVERY_STATE_SENDING})
              .Bind(4, absl::ToUnixMicros(claim.now))
              .Bind(5, int64_t{claim.limit});
          absl::StatusOr<std::vector<v1::Delivery>> rows =
              sql::CollectDeliveries(due);
          if (!rows.ok()) return rows.status();
          PostgresTxn txn(c);
          absl::StatusOr<std::vector<v1::Delivery>> taken =
              TakeDeliveries(txn, *std::move(rows), claim);
          if (!taken.ok()) return taken.status();
          claimed = *std::move(taken);
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
    return claimed;
  }

  absl::StatusOr<std::vector<v1::Job>> ClaimDueJobs(
      const ClaimRequest& claim) override {
    std::vector<v1::Job> claimed;
    absl::Status s = RunTransaction(
        kBeginClaim, /*rerun=*/true, [&](postgres::Connection* c) {
          postgres::Statement due(
              c,
              "SELECT id, body FROM jobs WHERE done = 0 AND due_at <= ? "
              "ORDER BY due_at, id LIMIT ? FOR UPDATE SKIP LOCKED");
          due.Bind(1, absl::ToUnixMicros(claim.now))
              .Bind(2, int64_t{claim.limit});
          absl::StatusOr<std::vector<v1::Job>> rows =
              sql::CollectRows<v1::Job>(due);
          if (!rows.ok()) return rows.status();
          PostgresTxn txn(c);
          if (absl::Status st = TakeJobs(txn, *rows, claim); !st.ok())
            return st;
          claimed = *std::move(rows);
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
    return claimed;
  }

 private:
  struct PendingWrite {
    WriteFn fn;
    WriteDone done;
  };

  // Runs `body` in a transaction begun with `begin`, committing when it
  // returns OK. A serialization failure or deadlock runs it again, on a
  // fresh snapshot, within the retry budget, unless `rerun` is false. A
  // connection found dead when the transaction begins (an idle one the
  // server dropped: a restart, a failover) is replaced, once; `body` has
  // not run then, and every idle connection is dropped too (they are as
  // old). A connection lost during COMMIT leaves the outcome unknown: that
  // is Unavailable, never a guess. A read-only transaction keeps nothing,
  // so it ends with a ROLLBACK whose failure does not matter.
  //
  // What makes it Unavailable is logged; callers get a message that names
  // no host or port of the database, since it may reach a client.
  absl::Status RunTransaction(
      const char* begin, bool rerun,
      absl::FunctionRef<absl::Status(postgres::Connection*)> body) {
    absl::Status s = RunTransactionOnce(begin, rerun, body);
    if (!absl::IsUnavailable(s)) return s;
    LogWarn("the database is unavailable", {{"error", s.ToString()}});
    return absl::UnavailableError(
        absl::StrCat(absl::StrContains(s.message(), "may or may not")
                         ? "the database became unavailable while "
                           "committing; the change may or may not have been "
                           "kept"
                         : "the database is unavailable",
                     " (heraldd's log says why); try again shortly"));
  }

  absl::Status RunTransactionOnce(
      const char* begin, bool rerun,
      absl::FunctionRef<absl::Status(postgres::Connection*)> body) {
    const bool read_only = begin == kBeginRead;
    const absl::Time deadline = absl::Now() + options_.retry_budget;
    bool replaced = false;
    for (int attempt = 0;; ++attempt) {
      absl::StatusOr<std::unique_ptr<postgres::Connection>> c = Acquire();
      if (!c.ok()) return c.status();
      postgres::Connection* conn = c->get();
      conn->conflicted = false;
      bool committing = false;
      absl::Status s = postgres::Exec(conn, begin);
      const bool began = s.ok();
      if (began) {
        s = body(conn);
        if (s.ok() && read_only) {
          postgres::Exec(conn, "ROLLBACK").IgnoreError();
        } else if (s.ok()) {
          committing = true;
          const absl::Time commit_start = absl::Now();
          s = postgres::Commit(conn);
          if (options_.on_commit)
            options_.on_commit(absl::Now() - commit_start);
        }
        if (!s.ok()) postgres::Exec(conn, "ROLLBACK").IgnoreError();
      }
      const bool conflicted = conn->conflicted;
      const bool lost = !conn->Healthy();
      Release(*std::move(c));
      if (s.ok()) return s;
      if (conflicted && rerun) {
        if (options_.on_conflict) options_.on_conflict();
        if (absl::Now() < deadline) {
          absl::SleepFor(RetryPause(attempt));
          continue;
        }
        return absl::UnavailableError(absl::StrCat(
            "the database stayed too contended to commit: ", s.message()));
      }
      if (lost && !began && !replaced) {
        replaced = true;
        DropIdle();
        continue;
      }
      if (lost && committing) {
        return absl::UnavailableError(absl::StrCat(
            "the database connection was lost while committing; the write "
            "may or may not have been kept: ",
            s.message()));
      }
      return s;
    }
  }

  absl::StatusOr<std::unique_ptr<postgres::Connection>> Acquire() {
    {
      absl::MutexLock lock(&pool_mu_);
      pool_mu_.Await(absl::Condition(this, &PostgresStoreImpl::CanAcquire));
      if (!idle_.empty()) {
        std::unique_ptr<postgres::Connection> c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
      ++open_;
    }
    absl::StatusOr<std::unique_ptr<postgres::Connection>> c = postgres::Connect(
        options_.dsn, options_.password, options_.on_unreadable_row);
    if (!c.ok()) {
      absl::MutexLock lock(&pool_mu_);
      --open_;
    }
    return c;
  }
  // Keeps a connection that is open and outside any transaction; closes
  // any other.
  void Release(std::unique_ptr<postgres::Connection> c) {
    const bool reusable =
        c->Healthy() && PQtransactionStatus(c->conn) == PQTRANS_IDLE;
    if (!reusable) c.reset();  // outside the lock: it may talk to the server
    absl::MutexLock lock(&pool_mu_);
    if (reusable) {
      idle_.push_back(std::move(c));
    } else {
      --open_;
    }
  }
  // Closes every idle connection: after one was found dead, the others,
  // opened as long ago, most likely are too.
  void DropIdle() {
    std::vector<std::unique_ptr<postgres::Connection>> idle;
    {
      absl::MutexLock lock(&pool_mu_);
      idle.swap(idle_);
      open_ -= static_cast<int>(idle.size());
    }
    // Closed here, outside the lock.
  }
  bool CanAcquire() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool_mu_) {
    return !idle_.empty() || open_ < options_.pool_size;
  }

  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
    return !queue_.empty() || stopping_;
  }
  void AsyncWriterLoop() {
    pthread_setname_np(pthread_self(), "herald-pgwrite");
    while (true) {
      PendingWrite w;
      {
        absl::MutexLock lock(&queue_mu_);
        queue_mu_.Await(absl::Condition(this, &PostgresStoreImpl::HasWork));
        if (queue_.empty()) return;  // stopping, and nothing left to write
        w = std::move(queue_.front());
        queue_.pop_front();
      }
      w.done(Write([&](StoreTxn& txn) { return w.fn(txn); }));
    }
  }

  const PostgresStoreOptions options_;
  absl::Mutex pool_mu_;
  std::vector<std::unique_ptr<postgres::Connection>> idle_
      ABSL_GUARDED_BY(pool_mu_);
  int open_ ABSL_GUARDED_BY(pool_mu_) = 0;  // idle and in use
  absl::Mutex queue_mu_;
  std::deque<PendingWrite> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::vector<std::thread> async_writers_;
};

}  // namespace

int PostgresSchemaVersion() { return postgres::SchemaVersion(); }

std::unique_ptr<StoreBroadcast> OpenPostgresBroadcast(
    const PostgresStoreOptions& options) {
  return std::make_unique<postgres::NotifyBroadcast>(
      postgres::NotifyBroadcast::Options{.dsn = options.dsn,
                                         .password = options.password});
}

absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(
    PostgresStoreOptions options) {
  if (options.dsn.empty()) {
    return absl::InvalidArgumentError("store.postgres.dsn: required");
  }
  if (absl::Status s = postgres::CheckDsn(options.dsn); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("store.postgres.dsn: ", s.message()));
  }
  if (options.pool_size < 1 || options.pool_size > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("store.postgres.pool_size: ", options.pool_size,
                     " is out of range (1 to 1000)"));
  }
  absl::StatusOr<std::unique_ptr<postgres::Connection>> first =
      postgres::Connect(options.dsn, options.password,
                        options.on_unreadable_row);
  if (!first.ok()) return first.status();
  if (absl::Status s = postgres::Migrate(first->get()); !s.ok()) return s;
  auto store = std::make_unique<PostgresStoreImpl>(std::move(options));
  store->Adopt(*std::move(first));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace herald
