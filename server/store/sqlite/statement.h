// SQLite access for the store: one connection with its cached prepared
// statements, a statement that binds and steps, and helpers that read rows
// as protos. Not thread-safe: a connection serves one thread at a time.
#ifndef HERALD_SERVER_STORE_SQLITE_STATEMENT_H_
#define HERALD_SERVER_STORE_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"
#include "server/base/text.h"
#include "server/store/sql/rows.h"

namespace herald::sqlite {

// The absl::Status for SQLite's last error on `db`, prefixed with `what`.
absl::Status SqliteError(sqlite3* db, absl::string_view what);

// One SQLite connection and its prepared statements, kept for reuse.
// Not thread-safe: used by one thread at a time (the writer, or a reader
// that took it from the pool).
struct Connection {
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool busy = false;
  };
  explicit Connection(sqlite3* d,
                      std::function<void(absl::string_view)> unreadable = {})
      : db(d), on_unreadable(std::move(unreadable)) {}
  ~Connection() {
    for (auto& [sql, c] : cache) sqlite3_finalize(c.stmt);
    sqlite3_close(db);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db;
  std::unordered_map<std::string, Cached> cache;
  // SqliteStoreOptions::on_unreadable_row; may be null.
  std::function<void(absl::string_view)> on_unreadable;
};

// A prepared statement: taken from the connection's cache and reset into it
// on destruction (or prepared afresh when the cached one is in use).
class Statement {
 public:
  Statement(Connection* c, const char* sql)
      : db_(c->db), on_unreadable_(&c->on_unreadable) {
    auto [it, inserted] = c->cache.try_emplace(sql);
    if (!it->second.busy) {
      if (it->second.stmt == nullptr &&
          sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT,
                             &it->second.stmt, nullptr) != SQLITE_OK) {
        status_ = SqliteError(db_, "prepare");
        return;
      }
      cached_ = &it->second;
      cached_->busy = true;
      stmt_ = cached_->stmt;
      return;
    }
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      status_ = SqliteError(db_, "prepare");
    }
  }
  Statement(Connection* c, const std::string& sql)
      : Statement(c, sql.c_str()) {}
  Statement(sqlite3* db, const char* sql) : db_(db) {
    status_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) == SQLITE_OK
                  ? absl::OkStatus()
                  : SqliteError(db, "prepare");
  }
  ~Statement() {
    if (cached_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
      cached_->busy = false;
    } else {
      sqlite3_finalize(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int i, int64_t v) {
    if (status_.ok() && sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK)
      status_ = SqliteError(db_, "bind");
    return *this;
  }
  Statement& Bind(int i, const std::string& v) {
    if (status_.ok() &&
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                          SQLITE_TRANSIENT) != SQLITE_OK) {
      status_ = SqliteError(db_, "bind");
    }
    return *this;
  }
  Statement& BindBlob(int i, absl::string_view v) {
    if (status_.ok() &&
        sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()),
                          SQLITE_TRANSIENT) != SQLITE_OK) {
      status_ = SqliteError(db_, "bind");
    }
    return *this;
  }
  // InvalidArgument, naming the field, for a record whose text is not valid
  // UTF-8: protobuf could not read it back, so it is never stored.
  Statement& BindProto(int i, const google::protobuf::Message& m) {
    if (!status_.ok()) return *this;
    absl::StatusOr<std::string> bytes = sql::SerializeRecord(m);
    if (!bytes.ok()) {
      status_ = bytes.status();
      return *this;
    }
    return BindBlob(i, *bytes);
  }

  // Steps once: true while a row is available.
  absl::StatusOr<bool> Step() {
    if (!status_.ok()) return status_;
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) {
      changes_ = sqlite3_changes64(db_);
      return false;
    }
    return SqliteError(db_, "step");
  }
  absl::Status Run() { return Step().status(); }
  // How many rows the statement, run to its end, inserted, updated or
  // deleted.
  int64_t Changes() const { return changes_; }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const {
    const auto* p =
        reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  template <typename T>
  absl::StatusOr<T> Proto(int col) const {
    T m;
    const void* p = sqlite3_column_blob(stmt_, col);
    if (!m.ParseFromArray(p, sqlite3_column_bytes(stmt_, col))) {
      return absl::DataLossError(
          absl::StrCat("corrupt ", T::descriptor()->name(), " row"));
    }
    return m;
  }

  // Logs and reports (SqliteStoreOptions::on_unreadable_row) a row of
  // `record` that could not be read and is left out or set aside.
  void ReportUnreadable(absl::string_view record, absl::string_view key,
                        const absl::Status& why) const {
    LogWarn("stored record unreadable; left out",
            {{"record", std::string(record)},
             {"key", std::string(key)},
             {"error", std::string(why.message())}});
    if (on_unreadable_ != nullptr && *on_unreadable_) (*on_unreadable_)(record);
  }

 private:
  sqlite3* db_;
  const std::function<void(absl::string_view)>* on_unreadable_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  Connection::Cached* cached_ = nullptr;
  absl::Status status_;
  int64_t changes_ = 0;
};

// Runs `sql` (several statements, no parameters).
absl::Status Exec(sqlite3* db, const char* sql);

// Exec for the transaction-control statements run on every write; they are
// prepared once per connection instead of parsed each time.
absl::Status ExecPrepared(Connection* c, const char* sql);

// The SQL store's (server/store/sql) view of SQLite.
struct Dialect {
  using Connection = sqlite::Connection;
  using Statement = sqlite::Statement;
};

}  // namespace herald::sqlite

#endif  // HERALD_SERVER_STORE_SQLITE_STATEMENT_H_
