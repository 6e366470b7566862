// PostgreSQL access for the store, through libpq: one connection with the
// statements it has prepared, and a Statement with the interface the SQL
// store's queries are written against (server/store/sql/rows.h), so that
// the same queries run here and on SQLite. Parameters are written as
// SQLite's `?` and `?N` and become `$N`; values go and come back in binary.
// Not thread-safe: a connection serves one thread at a time.
#ifndef HERALD_SERVER_STORE_POSTGRES_CONNECTION_H_
#define HERALD_SERVER_STORE_POSTGRES_CONNECTION_H_

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace herald::postgres {

// The absl::Status for a failed result (or, when `result` is null, for the
// connection's last error), prefixed with `what`:
// - Aborted: a serialization failure or deadlock (SQLSTATE 40001, 40P01),
//   which the store retries;
// - Unavailable: no connection, a server shutting down or a read-only
//   server (a standby, after a failover), so that callers answer 503;
// - AlreadyExists: an integrity constraint;
// - InvalidArgument: a value the database cannot hold (SQLSTATE class 22);
// - Internal: anything else.
absl::Status PgError(PGconn* conn, const PGresult* result,
                     absl::string_view what);

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// One connection to the database and the statements prepared on it.
struct Connection {
  explicit Connection(PGconn* c,
                      std::function<void(absl::string_view)> unreadable = {})
      : conn(c), on_unreadable(std::move(unreadable)) {}
  ~Connection() { PQfinish(conn); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // False once the server is gone: the store then opens a new connection.
  bool Healthy() const { return PQstatus(conn) == CONNECTION_OK; }

  PGconn* conn;
  // Each prepared statement's name, by its SQL and parameter types.
  std::unordered_map<std::string, std::string> prepared;
  // Set when a statement on it failed to serialize (SQLSTATE 40001) or was
  // chosen to break a deadlock (40P01): the transaction can only be run
  // again. The store clears it when it begins one.
  bool conflicted = false;
  // PostgresStoreOptions::on_unreadable_row; may be null.
  std::function<void(absl::string_view)> on_unreadable;
};

// InvalidArgument, without quoting it (it may hold a password), when `dsn`
// is not a libpq connection string or URI.
absl::Status CheckDsn(const std::string& dsn);

// Opens a connection to `dsn` (a libpq connection string or URI), with
// `password` when it is not empty. Unavailable, with libpq's reason, when
// it cannot.
absl::StatusOr<std::unique_ptr<Connection>> Connect(
    const std::string& dsn, const std::string& password,
    std::function<void(absl::string_view)> on_unreadable = {});

// Runs `sql` (one or more statements, no parameters).
absl::Status Exec(Connection* c, const char* sql);

// Commits the open transaction: OK only when PostgreSQL says COMMIT. A
// transaction in which a statement failed is rolled back by its COMMIT;
// that is an error here (Aborted when it had conflicted), never OK.
absl::Status Commit(Connection* c);

// `sql` with SQLite's parameters (`?`, `?N`) as PostgreSQL's (`$N`), numbered
// as SQLite numbers them; text inside quotes is left alone.
std::string ToPostgresParameters(absl::string_view sql);

// A statement: prepared once per connection, run on the first Step, its
// rows then read one by one.
class Statement {
 public:
  Statement(Connection* c, const char* sql) : Statement(c, std::string(sql)) {}
  Statement(Connection* c, const std::string& sql);
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int i, int64_t v);
  Statement& Bind(int i, const std::string& v);
  Statement& BindBlob(int i, absl::string_view v);
  // NULL, of whatever type the query gives it.
  Statement& BindNull(int i);
  // InvalidArgument, naming the field, for a record whose text is not valid
  // UTF-8: protobuf could not read it back, so it is never stored.
  Statement& BindProto(int i, const google::protobuf::Message& m);

  // Runs the statement on the first call; then true while a row is
  // available.
  absl::StatusOr<bool> Step();
  absl::Status Run() { return Step().status(); }
  // How many rows the statement, once run, inserted, updated or deleted.
  int64_t Changes() const;

  // The current row's columns; a NULL reads as 0 or "".
  int64_t Int(int col) const;
  std::string Text(int col) const;
  template <typename T>
  absl::StatusOr<T> Proto(int col) const {
    T m;
    if (!m.ParseFromArray(PQgetvalue(result_.get(), row_, col),
                          PQgetlength(result_.get(), row_, col))) {
      return absl::DataLossError(
          absl::StrCat("corrupt ", T::descriptor()->name(), " row"));
    }
    return m;
  }

  // Logs and reports (PostgresStoreOptions::on_unreadable_row) a row of
  // `record` that could not be read and is left out or set aside.
  void ReportUnreadable(absl::string_view record, absl::string_view key,
                        const absl::Status& why) const;

 private:
  struct Param {
    Oid type = 0;
    std::string value;
    bool bound = false;
    bool is_null = false;
  };
  Param& At(int i);
  absl::Status Execute();

  Connection* c_;
  std::string sql_;
  std::vector<Param> params_;
  Result result_;
  int row_ = -1;
  bool executed_ = false;
  absl::Status status_;
};

// The SQL store's (server/store/sql) view of PostgreSQL.
struct Dialect {
  using Connection = postgres::Connection;
  using Statement = postgres::Statement;
};

}  // namespace herald::postgres

#endif  // HERALD_SERVER_STORE_POSTGRES_CONNECTION_H_
