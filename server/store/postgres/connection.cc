#include "server/store/postgres/connection.h"

#include <endian.h>

#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "server/base/log.h"
#include "server/store/sql/rows.h"

namespace herald::postgres {
namespace {

// Type OIDs (pg_type.dat) of the values herald binds and reads.
constexpr Oid kBool = 16;
constexpr Oid kBytea = 17;
constexpr Oid kInt8 = 20;
constexpr Oid kInt2 = 21;
constexpr Oid kInt4 = 23;
constexpr Oid kText = 25;

std::string Sqlstate(const PGresult* result) {
  const char* state =
      result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return state ? state : "";
}

}  // namespace

absl::Status PgError(PGconn* conn, const PGresult* result,
                     absl::string_view what) {
  const std::string state = Sqlstate(result);
  // The primary message only: DETAIL and CONTEXT may quote stored values
  // (a key that conflicted), and this message can reach a client.
  const char* primary =
      result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message(primary ? primary : "");
  if (message.empty()) message = PQerrorMessage(conn);
  std::string msg = absl::StrCat(
      what, ": ", absl::StripTrailingAsciiWhitespace(message),
      state.empty() ? "" : absl::StrCat(" (SQLSTATE ", state, ")"));
  if (state == "40001" || state == "40P01") return absl::AbortedError(msg);
  if (state.empty() || PQstatus(conn) != CONNECTION_OK ||
      absl::StartsWith(state, "08") || state == "57P01" || state == "57P02" ||
      state == "57P03" || state == "25006" || state == "53300") {
    return absl::UnavailableError(msg);
  }
  if (absl::StartsWith(state, "23")) return absl::AlreadyExistsError(msg);
  if (absl::StartsWith(state, "22")) return absl::InvalidArgumentError(msg);
  return absl::InternalError(msg);
}

absl::Status CheckDsn(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(dsn.c_str(), &error);
  PQfreemem(error);  // it may quote the DSN
  if (parsed == nullptr) {
    return absl::InvalidArgumentError(
        "not a libpq connection string or URI (see "
        "https://www.postgresql.org/docs/15/libpq-connect.html)");
  }
  PQconninfoFree(parsed);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Connection>> Connect(
    const std::string& dsn, const std::string& password,
    std::function<void(absl::string_view)> on_unreadable) {
  // libpq quotes a DSN it cannot parse in its message, password and all:
  // say only that it is not one.
  if (absl::Status s = CheckDsn(dsn); !s.ok()) return s;
  // The DSN may be a connection string or a URI (expand_dbname); what it
  // sets wins over the defaults before it. A server's pg_stat_activity
  // shows herald's connections as heraldd unless the DSN names them. The
  // defaults bound how long a dead server (a failover, a network cut) can
  // hold a connection: 5 s to connect, keepalives, and 15 s of
  // unacknowledged data; and a transaction left idle by a stalled heraldd
  // ends after a minute instead of holding its locks.
  const char* keywords[] = {"connect_timeout",
                            "keepalives",
                            "keepalives_idle",
                            "keepalives_interval",
                            "keepalives_count",
                            "tcp_user_timeout",
                            "options",
                            "dbname",
                            "fallback_application_name",
                            password.empty() ? nullptr : "password",
                            nullptr};
  const char* values[] = {"5",
                          "1",
                          "10",
                          "5",
                          "3",
                          "15000",
                          "-c idle_in_transaction_session_timeout=60000",
                          dsn.c_str(),
                          "heraldd",
                          password.c_str(),
                          nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return absl::UnavailableError("libpq: out of memory");
  auto c = std::make_unique<Connection>(conn, std::move(on_unreadable));
  // The server's notices ("relation already exists, skipping") are not
  // herald's to print.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names the host and the reason, never the password.
    return absl::UnavailableError(
        absl::StrCat("cannot connect to PostgreSQL: ",
                     absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn))));
  }
  // Texts are bound as UTF-8 and times are integers of microseconds, so
  // nothing else of the server's settings matters but durability: a commit
  // is on disk (and on any synchronous standby) before it is acknowledged,
  // whatever the role's or database's default.
  if (absl::Status s = Exec(c.get(),
                            "SET client_encoding = 'UTF8'; "
                            "SET synchronous_commit = on");
      !s.ok()) {
    return s;
  }
  return c;
}

absl::Status Exec(Connection* c, const char* sql) {
  Result r(PQexec(c->conn, sql));
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return absl::OkStatus();
  absl::Status s = PgError(c->conn, r.get(), "exec");
  if (absl::IsAborted(s)) c->conflicted = true;
  return s;
}

absl::Status Commit(Connection* c) {
  if (PQtransactionStatus(c->conn) == PQTRANS_INERROR) {
    return c->conflicted
               ? absl::AbortedError("the write conflicted with another")
               : absl::InternalError(
                     "a statement of this write failed; nothing was "
                     "committed");
  }
  Result r(PQexec(c->conn, "COMMIT"));
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK) {
    absl::Status s = PgError(c->conn, r.get(), "commit");
    if (absl::IsAborted(s)) c->conflicted = true;
    return s;
  }
  if (absl::string_view(PQcmdStatus(r.get())) != "COMMIT") {
    return absl::InternalError(absl::StrCat("commit: PostgreSQL answered ",
                                            PQcmdStatus(r.get()),
                                            "; nothing was committed"));
  }
  return absl::OkStatus();
}

std::string ToPostgresParameters(absl::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 1;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char ch = sql[i];
    if (quote != 0) {
      if (ch == quote) quote = 0;
      out.push_back(ch);
      continue;
    }
    if (ch == '\'' || ch == '"') {
      quote = ch;
      out.push_back(ch);
      continue;
    }
    if (ch != '?') {
      out.push_back(ch);
      continue;
    }
    size_t end = i + 1;
    while (end < sql.size() && absl::ascii_isdigit(sql[end])) ++end;
    int n = next;
    if (end > i + 1) n = std::stoi(std::string(sql.substr(i + 1, end - i - 1)));
    // SQLite gives a bare `?` the number after the largest so far.
    next = std::max(next, n + 1);
    absl::StrAppend(&out, "$", n);
    i = end - 1;
  }
  return out;
}

Statement::Statement(Connection* c, const std::string& sql)
    : c_(c), sql_(ToPostgresParameters(sql)) {}

Statement::Param& Statement::At(int i) {
  if (static_cast<size_t>(i) > params_.size()) params_.resize(i);
  Param& p = params_[i - 1];
  p.bound = true;
  p.is_null = false;
  return p;
}

Statement& Statement::Bind(int i, int64_t v) {
  Param& p = At(i);
  p.type = kInt8;
  const uint64_t be = htobe64(static_cast<uint64_t>(v));
  p.value.assign(reinterpret_cast<const char*>(&be), sizeof(be));
  return *this;
}

Statement& Statement::Bind(int i, const std::string& v) {
  Param& p = At(i);
  p.type = kText;
  p.value = v;
  return *this;
}

Statement& Statement::BindBlob(int i, absl::string_view v) {
  Param& p = At(i);
  p.type = kBytea;
  p.value.assign(v.data(), v.size());
  return *this;
}

Statement& Statement::BindNull(int i) {
  Param& p = At(i);
  p.type = 0;  // unknown: the server infers it
  p.value.clear();
  p.is_null = true;
  return *this;
}

Statement& Statement::BindProto(int i, const google::protobuf::Message& m) {
  if (!status_.ok()) return *this;
  absl::StatusOr<std::string> bytes = sql::SerializeRecord(m);
  if (!bytes.ok()) {
    status_ = bytes.status();
    return *this;
  }
  Param& p = At(i);
  p.type = kBytea;
  p.value = *std::move(bytes);
  return *this;
}

absl::Status Statement::Execute() {
  const int n = static_cast<int>(params_.size());
  std::vector<Oid> types(n);
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  std::vector<int> formats(n, 1);
  std::string key = sql_;
  for (int i = 0; i < n; ++i) {
    // A number the query does not use (SQLite's numbering allows gaps) is
    // sent as a NULL bigint: PostgreSQL wants a type for every one.
    const Param& p = params_[i];
    types[i] = p.bound ? p.type : kInt8;
    values[i] = p.bound && !p.is_null ? p.value.data() : nullptr;
    lengths[i] = static_cast<int>(p.value.size());
    absl::StrAppend(&key, "\x1f", types[i]);
  }
  auto [it, inserted] = c_->prepared.try_emplace(key);
  if (inserted) {
    it->second = absl::StrCat("herald_", c_->prepared.size());
    Result prepared(
        PQprepare(c_->conn, it->second.c_str(), sql_.c_str(), n, types.data()));
    if (!prepared || PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      absl::Status s = PgError(c_->conn, prepared.get(), "prepare");
      c_->prepared.erase(it);
      return s;
    }
  }
  result_.reset(PQexecPrepared(c_->conn, it->second.c_str(), n, values.data(),
                               lengths.data(), formats.data(),
                               /*resultFormat=*/1));
  const ExecStatusType st =
      result_ ? PQresultStatus(result_.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    absl::Status s = PgError(c_->conn, result_.get(), "step");
    if (absl::IsAborted(s)) c_->conflicted = true;
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Statement::Step() {
  if (!status_.ok()) return status_;
  if (!executed_) {
    executed_ = true;
    status_ = Execute();
    if (!status_.ok()) return status_;
  }
  if (row_ + 1 < PQntuples(result_.get())) {
    ++row_;
    return true;
  }
  row_ = PQntuples(result_.get());
  return false;
}

int64_t Statement::Changes() const {
  if (!result_) return 0;
  const char* tuples = PQcmdTuples(result_.get());
  return tuples[0] == '\0' ? 0 : std::strtoll(tuples, nullptr, 10);
}

int64_t Statement::Int(int col) const {
  if (PQgetisnull(result_.get(), row_, col)) return 0;
  const char* v = PQgetvalue(result_.get(), row_, col);
  switch (PQftype(result_.get(), col)) {
    case kInt8: {
      uint64_t be;
      std::memcpy(&be, v, sizeof(be));
      return static_cast<int64_t>(be64toh(be));
    }
    case kInt4: {
      uint32_t be;
      std::memcpy(&be, v, sizeof(be));
      return static_cast<int32_t>(be32toh(be));
    }
    case kInt2: {
      uint16_t be;
      std::memcpy(&be, v, sizeof(be));
      return static_cast<int16_t>(be16toh(be));
    }
    case kBool:
      return v[0] != 0;
    default:
      LogError("an integer column of an unexpected type",
               {{"type", absl::StrCat(PQftype(result_.get(), col))}});
      return 0;
  }
}

std::string Statement::Text(int col) const {
  if (PQgetisnull(result_.get(), row_, col)) return "";
  return std::string(PQgetvalue(result_.get(), row_, col),
                     PQgetlength(result_.get(), row_, col));
}

void Statement::ReportUnreadable(absl::string_view record,
                                 absl::string_view key,
                                 const absl::Status& why) const {
  LogWarn("stored record unreadable; left out",
          {{"record", std::string(record)},
           {"key", std::string(key)},
           {"error", std::string(why.message())}});
  if (c_->on_unreadable) c_->on_unreadable(record);
}

}  // namespace herald::postgres
