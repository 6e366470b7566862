#include "server/store/sqlite_store.h"

#include <pthread.h>
#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "server/base/log.h"
#include "server/base/private_files.h"
#include "server/base/proto_time.h"
#include "server/base/text.h"
#include "server/store/sql/txn.h"
#include "server/store/sqlite/schema.h"
#include "server/store/sqlite/statement.h"

namespace herald {
namespace {

using sqlite::Connection;
using sqlite::Exec;
using sqlite::ExecPrepared;
using sqlite::SqliteError;
using sqlite::Statement;
using SqliteTxn = sql::SqlTxn<sqlite::Dialect>;

constexpr int kReaderPoolSize = 4;

// A database file holds secrets (the link-signing key, token hashes) and
// customers' personal data: it is created 0600, and one an older heraldd
// left readable is tightened, its journals too. SQLite gives the -wal,
// -shm and -journal files it creates the database file's mode.
absl::Status PrepareDatabaseFile(const std::string& path) {
  absl::Status created = CreatePrivateFile(path);
  if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
  return RestrictToOwner(
      {path, path + "-wal", path + "-shm", path + "-journal"});
}

absl::StatusOr<sqlite3*> OpenConnection(const std::string& path) {
  // Memory statistics cost a global mutex on every SQLite allocation, and
  // herald never reads them. Only possible before SQLite initializes; if
  // someone else initialized it first, the call fails and changes nothing.
  static std::once_flag config_once;
  std::call_once(config_once,
                 [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(
          path.c_str(), &db,
          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
          nullptr) != SQLITE_OK) {
    absl::Status s = absl::UnavailableError(
        absl::StrCat("cannot open database ", path, ": ",
                     db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return s;
  }
  sqlite3_busy_timeout(db, 5000);
  // Each write of a group commit runs in its own savepoint, whose undo
  // pages SQLite keeps in a sub-journal in temporary storage. In a file,
  // that is a pwrite of every page a write first touches: most of the I/O
  // of a batch, for data that never needs to survive the transaction.
  if (auto s = Exec(db,
                    "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; "
                    "PRAGMA temp_store = MEMORY;");
      !s.ok()) {
    sqlite3_close(db);
    return s;
  }
  return db;
}

// Writes go through one writer thread, which does group commit: it takes
// every write queued so far, runs each in its own savepoint of one
// transaction (so one write's failure undoes only that write), commits once
// (one fsync for all of them) and then reports each outcome. A failed COMMIT
// fails every write in the batch; nobody hears OK before the commit that
// holds their write is durable. Reads take a connection from a pool.
class SqliteStoreImpl final : public Store {
 public:
  SqliteStoreImpl(std::string path, std::unique_ptr<Connection> writer,
                  std::vector<std::unique_ptr<Connection>> readers,
                  SqliteStoreOptions options)
      : path_(std::move(path)),
        writer_(std::move(writer)),
        options_(std::move(options)),
        readers_(std::move(readers)) {
    writer_thread_ = std::thread([this] { WriterLoop(); });
  }
  ~SqliteStoreImpl() override {
    {
      absl::MutexLock lock(&queue_mu_);
      stopping_ = true;
    }
    writer_thread_.join();  // commits what is queued first
  }

  absl::Status Read(absl::FunctionRef<absl::Status(StoreReader&)> fn) override {
    std::unique_ptr<Connection> c = AcquireReader();
    absl::Status s = Exec(c->db, "BEGIN");
    if (s.ok()) {
      SqliteTxn txn(c.get());
      s = fn(txn);
      Exec(c->db, "COMMIT").IgnoreError();  // read-only: nothing to lose
    }
    ReleaseReader(std::move(c));
    return s;
  }

  absl::Status Write(absl::FunctionRef<absl::Status(StoreTxn&)> fn) override {
    absl::Status result;
    absl::Notification committed;
    WriteAsync([fn](StoreTxn& txn) { return fn(txn); },
               [&](absl::Status s) {
                 result = std::move(s);
                 committed.Notify();
               });
    committed.WaitForNotification();
    return result;
  }

  void WriteAsync(WriteFn fn, WriteDone done) override {
    absl::MutexLock lock(&queue_mu_);
    queue_.push_back(PendingWrite{std::move(fn), std::move(done)});
  }

  // A connection of its own copies the database in one backup step, which
  // holds one read transaction: a consistent snapshot, while the writer
  // goes on appending to the WAL.
  absl::Status BackupTo(const std::string& path) override {
    if (absl::Status s = PrepareDatabaseFile(path); !s.ok()) return s;
    absl::StatusOr<sqlite3*> source = OpenConnection(path_);
    if (!source.ok()) return source.status();
    Connection src(*source);
    sqlite3* dest = nullptr;
    if (sqlite3_open_v2(path.c_str(), &dest,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        nullptr) != SQLITE_OK) {
      absl::Status s = SqliteError(dest, absl::StrCat("open ", path));
      sqlite3_close(dest);
      return s;
    }
    Connection dst(dest);
    sqlite3_backup* backup = sqlite3_backup_init(dest, "main", src.db, "main");
    if (backup == nullptr) return SqliteError(dest, "backup");
    const int step = sqlite3_backup_step(backup, -1);
    sqlite3_backup_finish(backup);
    if (step != SQLITE_DONE) return SqliteError(dest, "backup");
    return absl::OkStatus();
  }

 private:
  struct PendingWrite {
    WriteFn fn;
    WriteDone done;
    absl::Status status;
  };

  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
    return !queue_.empty() || stopping_;
  }

  void WriterLoop() {
    pthread_setname_np(pthread_self(), "herald-writer");
    std::vector<PendingWrite> batch;
    while (true) {
      {
        absl::MutexLock lock(&queue_mu_);
        queue_mu_.Await(absl::Condition(this, &SqliteStoreImpl::HasWork));
        if (queue_.empty()) return;  // stopping, and nothing left to commit
        batch.swap(queue_);
      }
      CommitBatch(batch);
      for (PendingWrite& w : batch) w.done(std::move(w.status));
      batch.clear();
    }
  }

  // Runs on the writer thread only.
  void CommitBatch(std::vector<PendingWrite>& batch) {
    Connection* db = writer_.get();
    if (absl::Status s = ExecPrepared(db, "BEGIN IMMEDIATE"); !s.ok()) {
      for (PendingWrite& w : batch) w.status = s;
      return;
    }
    SqliteTxn txn(writer_.get());
    for (PendingWrite& w : batch) {
      absl::Status s = ExecPrepared(db, "SAVEPOINT herald_write");
      if (s.ok()) s = w.fn(txn);
      if (s.ok()) {
        s = ExecPrepared(db, "RELEASE herald_write");
      } else {
        ExecPrepared(db, "ROLLBACK TO herald_write").IgnoreError();
        ExecPrepared(db, "RELEASE herald_write").IgnoreError();
      }
      w.status = s;
    }
    const absl::Time commit_start = absl::Now();
    absl::Status commit = ExecPrepared(db, "COMMIT");
    if (options_.on_commit) options_.on_commit(absl::Now() - commit_start);
    if (!commit.ok()) {
      ExecPrepared(db, "ROLLBACK").IgnoreError();
      for (PendingWrite& w : batch) {
        if (w.status.ok()) w.status = commit;
      }
    }
  }

  std::unique_ptr<Connection> AcquireReader() {
    absl::MutexLock lock(&pool_mu_);
    pool_mu_.Await(absl::Condition(this, &SqliteStoreImpl::ReaderFree));
    std::unique_ptr<Connection> c = std::move(readers_.back());
    readers_.pop_back();
    return c;
  }
  void ReleaseReader(std::unique_ptr<Connection> c) {
    absl::MutexLock lock(&pool_mu_);
    readers_.push_back(std::move(c));
  }
  bool ReaderFree() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool_mu_) {
    return !readers_.empty();
  }

  const std::string path_;
  // Used only by the writer thread.
  const std::unique_ptr<Connection> writer_;
  const SqliteStoreOptions options_;
  absl::Mutex queue_mu_;
  std::vector<PendingWrite> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::thread writer_thread_;
  absl::Mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> readers_ ABSL_GUARDED_BY(pool_mu_);
};

}  // namespace

int SqliteSchemaVersion() { return sqlite::SchemaVersion(); }

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const std::string& path, SqliteStoreOptions options) {
  if (absl::Status s = PrepareDatabaseFile(path); !s.ok()) return s;
  absl::StatusOr<sqlite3*> writer = OpenConnection(path);
  if (!writer.ok()) return writer.status();
  auto writer_conn =
      std::make_unique<Connection>(*writer, options.on_unreadable_row);
  absl::Status s = Exec(*writer, "PRAGMA journal_mode = WAL;");
  if (s.ok()) s = sqlite::Migrate(writer_conn.get());
  if (!s.ok()) return s;
  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < kReaderPoolSize; ++i) {
    absl::StatusOr<sqlite3*> r = OpenConnection(path);
    if (!r.ok()) return r.status();
    readers.push_back(
        std::make_unique<Connection>(*r, options.on_unreadable_row));
  }
  return std::unique_ptr<Store>(new SqliteStoreImpl(
      path, std::move(writer_conn), std::move(readers), std::move(options)));
}

}  // namespace herald
