// Benchmark set-up on PostgreSQL: a fresh database per run, dropped when
// done, and an audience of N subscribers loaded with COPY, far faster than
// N PutSubscriber calls (three round trips each). Set-up only: what a
// benchmark times still goes through the Store. Exits on any error, as the
// other bench helpers do. Not thread-safe.
#ifndef HERALD_TESTS_BENCH_SCRATCH_POSTGRES_H_
#define HERALD_TESTS_BENCH_SCRATCH_POSTGRES_H_

#include <libpq-fe.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "herald/v1/domain.pb.h"

namespace herald::bench {

// Runs `sql` on a new connection to `dsn`; exits, naming `what`, on error.
inline void PostgresExec(const std::string& dsn, const std::string& sql,
                         const char* what) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  PGresult* res =
      PQstatus(conn) == CONNECTION_OK ? PQexec(conn, sql.c_str()) : nullptr;
  const bool ok = res != nullptr && (PQresultStatus(res) == PGRES_COMMAND_OK ||
                                     PQresultStatus(res) == PGRES_TUPLES_OK);
  if (!ok) std::fprintf(stderr, "%s: %s", what, PQerrorMessage(conn));
  PQclear(res);
  PQfinish(conn);
  if (!ok) std::exit(1);
}

// A database created on the server `admin_dsn` connects to, named
// `prefix`_PID_K, and dropped (with whoever is still connected) when this
// goes: destroy the Store on it first.
class ScratchPostgresDatabase {
 public:
  ScratchPostgresDatabase(std::string admin_dsn, const std::string& prefix)
      : admin_dsn_(std::move(admin_dsn)),
        name_(absl::StrCat(prefix, "_", getpid(), "_", ++Count())) {
    PostgresExec(admin_dsn_, absl::StrCat("CREATE DATABASE ", name_),
                 "create database");
    dsn_ = WithDatabase(admin_dsn_, name_);
  }
  ~ScratchPostgresDatabase() {
    PostgresExec(
        admin_dsn_,
        absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"),
        "drop database");
  }
  ScratchPostgresDatabase(const ScratchPostgresDatabase&) = delete;
  ScratchPostgresDatabase& operator=(const ScratchPostgresDatabase&) = delete;

  // A connection string for the new database: `admin_dsn` (key=value or
  // URI) with its dbname replaced.
  const std::string& dsn() const { return dsn_; }

 private:
  static int& Count() {
    static int count = 0;
    return count;
  }
  static std::string WithDatabase(const std::string& dsn,
                                  const std::string& db) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
    if (options == nullptr) {
      std::fprintf(stderr, "bad DSN: %s\n", error ? error : "out of memory");
      std::exit(1);
    }
    std::string out = absl::StrCat("dbname='", db, "'");
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (o->val == nullptr || std::string(o->keyword) == "dbname") continue;
      std::string value;
      for (const char c : std::string(o->val)) {
        if (c == '\'' || c == '\\') value += '\\';
        value += c;
      }
      absl::StrAppend(&out, " ", o->keyword, "='", value, "'");
    }
    PQconninfoFree(options);
    return out;
  }

  std::string admin_dsn_;
  std::string name_;
  std::string dsn_;
};

// Loads `n` subscribers of checkout, "sub0" to "sub<n-1>", each filled in by
// `fill(i, subscriber)`, into the database `dsn` names with COPY: the rows
// PutSubscriber would write (sql/rows.h WriteSubscriber). Then ANALYZE, as
// autovacuum would have done on a database that grew to this size.
template <typename Fill>
void CopyCheckoutAudience(const std::string& dsn, int64_t n, Fill fill) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  const auto check = [&](bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "%s: %s", what, PQerrorMessage(conn));
    std::exit(1);
  };
  check(PQstatus(conn) == CONNECTION_OK, "connect");
  const auto exec = [&](const std::string& sql, ExecStatusType want) {
    PGresult* res = PQexec(conn, sql.c_str());
    const bool ok = PQresultStatus(res) == want;
    PQclear(res);
    check(ok, sql.c_str());
  };
  // COPY's text format: tab-separated, backslash escapes.
  const auto text = [](const std::string& s) {
    std::string out;
    for (const char c : s) {
      if (c == '\\' || c == '\t' || c == '\n' || c == '\r') out += '\\';
      out += c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
    }
    return out;
  };
  // Streams `row(i)` for every subscriber through COPY ... FROM STDIN.
  const auto copy = [&](const char* sql, const auto& row) {
    exec(sql, PGRES_COPY_IN);
    std::string buf;
    for (int64_t i = 0; i < n; ++i) {
      row(i, buf);
      if (buf.size() > (1 << 20) || i + 1 == n) {
        check(
            PQputCopyData(conn, buf.data(), static_cast<int>(buf.size())) == 1,
            "copy data");
        buf.clear();
      }
    }
    check(PQputCopyEnd(conn, nullptr) == 1, "copy end");
    PGresult* res = PQgetResult(conn);
    const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    check(ok, sql);
    while ((res = PQgetResult(conn)) != nullptr) PQclear(res);
  };
  exec("BEGIN", PGRES_COMMAND_OK);
  copy("COPY subscribers(id, body, email, status, account) FROM STDIN",
       [&](int64_t i, std::string& buf) {
         v1::Subscriber s;
         s.set_id(absl::StrCat("sub", i));
         s.add_component_ids("checkout");
         fill(i, s);
         const v1::SubscriberStatus status =
             s.status() == v1::SUBSCRIBER_STATUS_UNSPECIFIED
                 ? v1::SUBSCRIBER_STATUS_ACTIVE
                 : s.status();
         absl::StrAppend(&buf, text(s.id()), "\t\\\\x",
                         absl::BytesToHexString(s.SerializeAsString()), "\t",
                         text(absl::AsciiStrToLower(s.email())), "\t",
                         int64_t{status}, "\t", text(s.account()), "\n");
       });
  copy("COPY subscriptions(component_id, subscriber_id) FROM STDIN",
       [&](int64_t i, std::string& buf) {
         absl::StrAppend(&buf, "checkout\tsub", i, "\n");
       });
  exec("COMMIT", PGRES_COMMAND_OK);
  exec("ANALYZE", PGRES_COMMAND_OK);
  PQfinish(conn);
}

}  // namespace herald::bench

#endif  // HERALD_TESTS_BENCH_SCRATCH_POSTGRES_H_
