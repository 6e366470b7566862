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

namespace herald {
namespace {

// Each entry moves the schema from version i to i + 1. Never edit a shipped
// entry; append a new one.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE incidents (
  id INTEGER PRIMARY KEY,
  group_key TEXT NOT NULL,
  open INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE UNIQUE INDEX incidents_open_group ON incidents(group_key)
  WHERE open = 1 AND group_key <> '';
CREATE TABLE alerts (
  fingerprint TEXT PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX alerts_by_incident ON alerts(incident_id);
CREATE TABLE updates (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX updates_by_incident ON updates(incident_id);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  state INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX messages_by_incident ON messages(incident_id);
CREATE TABLE timeline (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX timeline_by_incident ON timeline(incident_id);
CREATE TABLE subscribers (
  id TEXT PRIMARY KEY,
  body BLOB NOT NULL);
CREATE TABLE api_tokens (
  sha256 TEXT PRIMARY KEY,
  person_id TEXT NOT NULL);
CREATE TABLE component_states (
  component_id TEXT PRIMARY KEY,
  body BLOB NOT NULL);
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL,
  incident_id INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  state INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
CREATE INDEX deliveries_by_message ON deliveries(message_id, incident_id);
)sql",
    R"sql(
CREATE TABLE incident_groups (
  group_key TEXT NOT NULL,
  incident_id INTEGER NOT NULL,
  PRIMARY KEY (group_key, incident_id));
INSERT INTO incident_groups(group_key, incident_id)
  SELECT group_key, id FROM incidents WHERE group_key <> '';
ALTER TABLE alerts ADD COLUMN unrouted INTEGER NOT NULL DEFAULT 0;
CREATE INDEX alerts_unrouted ON alerts(unrouted) WHERE unrouted = 1;
CREATE TABLE rota_overrides (
  id INTEGER PRIMARY KEY,
  rota_id TEXT NOT NULL,
  ends_at INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  done INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX jobs_due ON jobs(done, due_at);
)sql",
    R"sql(
CREATE TABLE message_versions (
  message_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY (message_id, version));
CREATE TRIGGER message_versions_immutable BEFORE UPDATE ON message_versions
  BEGIN SELECT RAISE(ABORT, 'message versions are never rewritten'); END;
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX audit_by_incident ON audit(incident_id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql",
    R"sql(
CREATE INDEX messages_by_incident_state ON messages(incident_id, state);
CREATE INDEX messages_by_state ON messages(state);
)sql",
    // Subscribers become queryable (a fan-out is one INSERT ... SELECT);
    // BackfillSubscriptions fills the new columns from the stored rows.
    // Deliveries may be queued without a body: the columns then say all.
    R"sql(
ALTER TABLE subscribers ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE subscribers ADD COLUMN status INTEGER NOT NULL DEFAULT 1;
CREATE INDEX subscribers_by_email ON subscribers(email) WHERE email <> '';
CREATE TABLE subscriptions (
  component_id TEXT NOT NULL,
  subscriber_id TEXT NOT NULL,
  PRIMARY KEY (component_id, subscriber_id)) WITHOUT ROWID;
CREATE INDEX subscriptions_by_subscriber ON subscriptions(subscriber_id);
ALTER TABLE deliveries ADD COLUMN recipient TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_by_state ON deliveries(state);
)sql",
    R"sql(
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value BLOB NOT NULL) WITHOUT ROWID;
)sql",
    R"sql(
ALTER TABLE subscribers ADD COLUMN account TEXT NOT NULL DEFAULT '';
CREATE INDEX subscribers_by_account ON subscribers(account) WHERE account <> '';
)sql",
    R"sql(
CREATE TABLE amends (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  subscriber_id TEXT NOT NULL,
  voucher_code TEXT,
  body BLOB NOT NULL,
  UNIQUE (incident_id, subscriber_id));
CREATE UNIQUE INDEX amends_by_voucher ON amends(voucher_code)
  WHERE voucher_code IS NOT NULL;
)sql",
    // An incident's alerts are read a page at a time, by fingerprint.
    R"sql(
CREATE INDEX alerts_by_incident_page ON alerts(incident_id, fingerprint);
)sql",
    // Intake checks an incident's alert count on every notification:
    // count(*) would read every alert of it each time (quadratic over a
    // storm), so triggers keep the count. PutAlert is an upsert, so an
    // alert's row is inserted once and only ever updated after.
    R"sql(
CREATE TABLE incident_alert_counts (
  incident_id INTEGER PRIMARY KEY,
  alerts INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO incident_alert_counts(incident_id, alerts)
  SELECT incident_id, count(*) FROM alerts GROUP BY incident_id;
CREATE TRIGGER alerts_counted_on_insert AFTER INSERT ON alerts BEGIN
  INSERT INTO incident_alert_counts(incident_id, alerts)
    VALUES (NEW.incident_id, 1)
    ON CONFLICT(incident_id) DO UPDATE SET alerts = alerts + 1;
END;
CREATE TRIGGER alerts_counted_on_delete AFTER DELETE ON alerts BEGIN
  UPDATE incident_alert_counts SET alerts = alerts - 1
    WHERE incident_id = OLD.incident_id;
END;
CREATE TRIGGER alerts_counted_on_move AFTER UPDATE OF incident_id ON alerts
  WHEN OLD.incident_id <> NEW.incident_id BEGIN
  UPDATE incident_alert_counts SET alerts = alerts - 1
    WHERE incident_id = OLD.incident_id;
  INSERT INTO incident_alert_counts(incident_id, alerts)
    VALUES (NEW.incident_id, 1)
    ON CONFLICT(incident_id) DO UPDATE SET alerts = alerts + 1;
END;
)sql",
    // A message's deliveries are read a page at a time, by id.
    R"sql(
CREATE INDEX deliveries_by_message_page ON deliveries(message_id, id);
)sql",
    // Deliveries waiting for a channel that is down, sent as soon as it is
    // back (the channel kind; 0: not waiting).
    R"sql(
ALTER TABLE deliveries ADD COLUMN waiting_on INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_waiting ON deliveries(waiting_on, state)
  WHERE waiting_on <> 0;
)sql",
    // Whether a newer update of the incident went to the same recipient.
    R"sql(
CREATE INDEX deliveries_by_recipient ON deliveries(incident_id, recipient);
)sql",
};
// A database older than this has subscribers whose queryable columns
// (email, status, account, subscriptions) only their stored rows can fill:
// the last migration step rewrites every subscriber.
constexpr int kSubscriberColumnsComplete = 7;

constexpr int kReaderPoolSize = 4;

// Above every id: "before" this is from the newest (a plain `id < ?` lets
// SQLite seek the id range, where `? = 0 OR id < ?` would not).
constexpr int64_t kNoId = std::numeric_limits<int64_t>::max();

absl::Status SqliteError(sqlite3* db, absl::string_view what) {
  const int code = sqlite3_extended_errcode(db);
  std::string msg = absl::StrCat(what, ": ", sqlite3_errmsg(db));
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

// A prepared statement, finalized on destruction.
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
  // InvalidArgument, naming the field, for a record whose text is not valid
  // UTF-8: protobuf could not read it back, so it is never stored.
  Statement& BindProto(int i, const google::protobuf::Message& m) {
    if (!status_.ok()) return *this;
    std::string bytes;
    m.SerializeToString(&bytes);
    // The wire check is cheap; the reflection walk that names the field
    // runs only when it fails.
    if (!SerializedTextIsUtf8(bytes, *m.GetDescriptor())) {
      status_ =
          CheckUtf8Fields(m, absl::StrCat(m.GetDescriptor()->name(), "."));
      if (status_.ok()) {
        status_ = absl::InvalidArgumentError(absl::StrCat(
            m.GetDescriptor()->name(), ": not a well-formed record"));
      }
      return *this;
    }
    if (sqlite3_bind_blob(stmt_, i, bytes.data(),
                          static_cast<int>(bytes.size()),
                          SQLITE_TRANSIENT) != SQLITE_OK) {
      status_ = SqliteError(db_, "bind");
    }
    return *this;
  }

  // Steps once: true while a row is available.
  absl::StatusOr<bool> Step() {
    if (!status_.ok()) return status_;
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, "step");
  }
  absl::Status Run() { return Step().status(); }

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
};

// Runs `stmt` and collects column 0 of each row as a proto.
template <typename T>
absl::StatusOr<std::vector<T>> CollectProtos(Statement& stmt) {
  std::vector<T> out;
  while (true) {
    absl::StatusOr<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    absl::StatusOr<T> m = stmt.Proto<T>(0);
    if (!m.ok()) {
      // One unreadable row must not hide every other one.
      stmt.ReportUnreadable(T::descriptor()->name(), "", m.status());
      continue;
    }
    out.push_back(*std::move(m));
  }
}

// Runs `stmt`, a SELECT count(*), and returns the count.
absl::StatusOr<int64_t> Count(Statement& stmt) {
  absl::StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  return *row ? stmt.Int(0) : 0;
}

template <typename T>
absl::StatusOr<T> OneProto(Statement& stmt, absl::string_view not_found) {
  absl::StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(not_found);
  return stmt.Proto<T>(0);
}

// For tables with an INTEGER PRIMARY KEY: rows are selected as (id, body)
// and the id is taken from its column, so inserts need not rewrite the body.
template <typename T>
absl::StatusOr<T> RowWithId(const Statement& stmt) {
  absl::StatusOr<T> m = stmt.template Proto<T>(1);
  if (m.ok()) m->set_id(stmt.Int(0));
  return m;
}

template <typename T>
absl::StatusOr<std::vector<T>> CollectRows(Statement& stmt) {
  std::vector<T> out;
  while (true) {
    absl::StatusOr<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    absl::StatusOr<T> m = RowWithId<T>(stmt);
    if (!m.ok()) {
      stmt.ReportUnreadable(T::descriptor()->name(), absl::StrCat(stmt.Int(0)),
                            m.status());
      continue;
    }
    out.push_back(*std::move(m));
  }
}

template <typename T>
absl::StatusOr<T> OneRow(Statement& stmt, absl::string_view not_found) {
  absl::StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(not_found);
  return RowWithId<T>(stmt);
}

// Deliveries are read with their columns, which win over the body: a fan-out
// queues rows with an empty body, and the columns always hold the truth.
constexpr const char* kDeliveryColumns =
    "id, body, message_id, incident_id, idempotency_key, state, "
    "next_attempt_at, recipient, created_at";

// A body that cannot be read leaves what the columns hold, with
// `unreadable` saying so: the outbox then fails the delivery with that
// reason rather than sending an empty one or stalling the queue.
absl::StatusOr<v1::Delivery> DeliveryRow(const Statement& stmt) {
  absl::StatusOr<v1::Delivery> d = stmt.Proto<v1::Delivery>(1);
  if (!d.ok()) {
    stmt.ReportUnreadable("Delivery", absl::StrCat(stmt.Int(0)), d.status());
    v1::Delivery columns;
    columns.set_unreadable(absl::StrCat("its stored record cannot be read (",
                                        d.status().message(), "); set aside"));
    d = std::move(columns);
  }
  d->set_id(stmt.Int(0));
  d->set_message_id(stmt.Int(2));
  d->set_incident_id(stmt.Int(3));
  d->set_idempotency_key(stmt.Text(4));
  d->set_state(static_cast<v1::DeliveryState>(stmt.Int(5)));
  *d->mutable_next_attempt_at() =
      ToProtoTime(absl::FromUnixMicros(stmt.Int(6)));
  if (std::string recipient = stmt.Text(7); !recipient.empty()) {
    d->set_recipient(std::move(recipient));
  }
  if (stmt.Int(8) != 0) {
    *d->mutable_created_at() = ToProtoTime(absl::FromUnixMicros(stmt.Int(8)));
  }
  return d;
}

absl::StatusOr<std::vector<v1::Delivery>> CollectDeliveries(Statement& stmt) {
  std::vector<v1::Delivery> out;
  while (true) {
    absl::StatusOr<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    absl::StatusOr<v1::Delivery> d = DeliveryRow(stmt);
    if (!d.ok()) return d.status();
    out.push_back(*std::move(d));
  }
}

// A fan-out's audience, completed by InList(5, n) and ")": the subscribers
// whose status is ?4 (active) of the components bound from ?5 on.
constexpr const char* kAudience =
    "status = ?4 AND id IN (SELECT subscriber_id FROM subscriptions WHERE "
    "component_id IN ";

// "(?first, ?first+1, ...)" for `n` parameters; "(NULL)" for none.
std::string InList(int first, size_t n) {
  if (n == 0) return "(NULL)";
  std::string out = "(";
  for (size_t i = 0; i < n; ++i) {
    absl::StrAppend(&out, i == 0 ? "?" : ", ?", first + static_cast<int>(i));
  }
  return absl::StrCat(out, ")");
}

// Stores `subscriber` with its queryable columns and subscriptions.
absl::Status WriteSubscriber(Connection* db, const v1::Subscriber& subscriber) {
  const v1::SubscriberStatus status =
      subscriber.status() == v1::SUBSCRIBER_STATUS_UNSPECIFIED
          ? v1::SUBSCRIBER_STATUS_ACTIVE
          : subscriber.status();
  Statement put(db,
                "INSERT INTO subscribers(id, body, email, status, account) "
                "VALUES(?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "body = excluded.body, email = excluded.email, "
                "status = excluded.status, account = excluded.account");
  put.Bind(1, subscriber.id())
      .BindProto(2, subscriber)
      .Bind(3, absl::AsciiStrToLower(subscriber.email()))
      .Bind(4, int64_t{status})
      .Bind(5, subscriber.account());
  if (auto st = put.Run(); !st.ok()) return st;
  Statement clear(db, "DELETE FROM subscriptions WHERE subscriber_id = ?");
  clear.Bind(1, subscriber.id());
  if (auto st = clear.Run(); !st.ok()) return st;
  for (const std::string& component : subscriber.component_ids()) {
    Statement add(db,
                  "INSERT OR IGNORE INTO subscriptions(component_id, "
                  "subscriber_id) VALUES(?, ?)");
    add.Bind(1, component).Bind(2, subscriber.id());
    if (auto st = add.Run(); !st.ok()) return st;
  }
  return absl::OkStatus();
}

// Rewrites every subscriber, filling the columns migrations added.
absl::Status BackfillSubscriberColumns(Connection* db) {
  Statement s(db, "SELECT body FROM subscribers");
  absl::StatusOr<std::vector<v1::Subscriber>> all =
      CollectProtos<v1::Subscriber>(s);
  if (!all.ok()) return all.status();
  for (const v1::Subscriber& sub : *all) {
    if (auto st = WriteSubscriber(db, sub); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    absl::Status s = SqliteError(db, err ? err : sql);
    sqlite3_free(err);
    return s;
  }
  return absl::OkStatus();
}

// Exec for the transaction-control statements run on every write; they are
// prepared once per connection instead of parsed each time.
absl::Status ExecPrepared(Connection* c, const char* sql) {
  return Statement(c, sql).Run();
}

absl::Status RequireChange(sqlite3* db, absl::string_view what) {
  if (sqlite3_changes(db) == 0) return absl::NotFoundError(what);
  return absl::OkStatus();
}

int64_t Micros(const google::protobuf::Timestamp& ts) {
  return absl::ToUnixMicros(FromProtoTime(ts));
}

class SqliteTxn final : public StoreTxn {
 public:
  explicit SqliteTxn(Connection* db) : db_(db) {}

  absl::StatusOr<v1::Incident> GetIncident(int64_t id) override {
    Statement s(db_, "SELECT id, body FROM incidents WHERE id = ?");
    s.Bind(1, id);
    return OneRow<v1::Incident>(s, absl::StrCat("no incident ", id));
  }
  absl::StatusOr<v1::Incident> FindOpenIncident(
      const std::string& group_key) override {
    Statement s(db_,
                "SELECT i.id, i.body FROM incident_groups g JOIN incidents i "
                "ON i.id = g.incident_id WHERE g.group_key = ? AND i.open = 1 "
                "ORDER BY i.id DESC LIMIT 1");
    s.Bind(1, group_key);
    return OneRow<v1::Incident>(
        s, absl::StrCat("no open incident for group ", group_key));
  }
  absl::StatusOr<v1::Incident> FindLatestIncident(
      const std::string& group_key) override {
    Statement s(db_,
                "SELECT i.id, i.body FROM incident_groups g JOIN incidents i "
                "ON i.id = g.incident_id WHERE g.group_key = ? "
                "ORDER BY i.id DESC LIMIT 1");
    s.Bind(1, group_key);
    return OneRow<v1::Incident>(
        s, absl::StrCat("no incident for group ", group_key));
  }
  absl::StatusOr<std::vector<v1::Alert>> ListUnroutedAlerts() override {
    Statement s(db_,
                "SELECT body FROM alerts WHERE unrouted = 1 "
                "ORDER BY incident_id DESC, fingerprint");
    return CollectProtos<v1::Alert>(s);
  }
  absl::StatusOr<std::vector<v1::RotaOverride>> ListOverrides(
      const std::string& rota_id, absl::Time after) override {
    Statement s(
        db_,
        "SELECT id, body FROM rota_overrides WHERE (? = '' OR rota_id = ?) "
        "AND ends_at > ? ORDER BY id");
    s.Bind(1, rota_id).Bind(2, rota_id).Bind(3, absl::ToUnixMicros(after));
    return CollectRows<v1::RotaOverride>(s);
  }
  absl::StatusOr<std::vector<v1::Job>> ListDueJobs(absl::Time now,
                                                   int limit) override {
    // The due_at column holds a lease's end while one runs (LeaseJob); the
    // body keeps the job's own time.
    Statement s(db_,
                "SELECT id, body FROM jobs WHERE done = 0 AND due_at <= ? "
                "ORDER BY due_at, id LIMIT ?");
    s.Bind(1, absl::ToUnixMicros(now)).Bind(2, int64_t{limit});
    return CollectRows<v1::Job>(s);
  }
  absl::StatusOr<std::vector<v1::Incident>> ListIncidents(
      const IncidentFilter& f) override {
    Statement s(db_,
                "SELECT id, body FROM incidents WHERE (open = 1 OR ?) AND "
                "id < ? ORDER BY id DESC LIMIT ?");
    s.Bind(1, int64_t{f.include_resolved})
        .Bind(2, f.before_id > 0 ? f.before_id : kNoId)
        .Bind(3, int64_t{f.limit > 0 ? f.limit : -1});
    return CollectRows<v1::Incident>(s);
  }
  absl::StatusOr<v1::Alert> GetAlert(const std::string& fingerprint) override {
    Statement s(db_, "SELECT body FROM alerts WHERE fingerprint = ?");
    s.Bind(1, fingerprint);
    return OneProto<v1::Alert>(s, absl::StrCat("no alert ", fingerprint));
  }
  absl::StatusOr<std::vector<v1::Alert>> ListAlerts(
      int64_t incident_id) override {
    Statement s(
        db_,
        "SELECT body FROM alerts WHERE incident_id = ? ORDER BY fingerprint");
    s.Bind(1, incident_id);
    return CollectProtos<v1::Alert>(s);
  }
  absl::StatusOr<std::vector<v1::Alert>> ListAlertsPage(
      int64_t incident_id, const std::string& after_fingerprint,
      int limit) override {
    Statement s(db_,
                "SELECT body FROM alerts WHERE incident_id = ? AND "
                "fingerprint > ? ORDER BY fingerprint LIMIT ?");
    s.Bind(1, incident_id).Bind(2, after_fingerprint).Bind(3, int64_t{limit});
    return CollectProtos<v1::Alert>(s);
  }
  absl::StatusOr<std::vector<v1::Alert>> ListUnroutedAlertsPage(
      int64_t after_incident_id, const std::string& after_fingerprint,
      int limit) override {
    Statement s(db_,
                "SELECT body FROM alerts WHERE unrouted = 1 AND (? = '' OR "
                "incident_id < ? OR (incident_id = ? AND fingerprint > ?)) "
                "ORDER BY incident_id DESC, fingerprint LIMIT ?");
    s.Bind(1, after_fingerprint)
        .Bind(2, after_incident_id)
        .Bind(3, after_incident_id)
        .Bind(4, after_fingerprint)
        .Bind(5, int64_t{limit});
    return CollectProtos<v1::Alert>(s);
  }
  absl::StatusOr<int64_t> CountAlerts(int64_t incident_id) override {
    Statement s(db_,
                "SELECT coalesce((SELECT alerts FROM incident_alert_counts "
                "WHERE incident_id = ?), 0)");
    s.Bind(1, incident_id);
    return Count(s);
  }
  absl::StatusOr<int64_t> CountUnroutedAlerts() override {
    Statement s(db_, "SELECT count(*) FROM alerts WHERE unrouted = 1");
    return Count(s);
  }
  absl::StatusOr<std::vector<v1::Update>> ListUpdates(
      int64_t incident_id) override {
    Statement s(
        db_, "SELECT id, body FROM updates WHERE incident_id = ? ORDER BY id");
    s.Bind(1, incident_id);
    return CollectRows<v1::Update>(s);
  }
  absl::StatusOr<v1::Message> GetMessage(int64_t id) override {
    Statement s(db_, "SELECT id, body FROM messages WHERE id = ?");
    s.Bind(1, id);
    return OneRow<v1::Message>(s, absl::StrCat("no message ", id));
  }
  absl::StatusOr<std::vector<v1::Message>> ListMessages(
      const MessageFilter& f) override {
    // One indexed lookup per (incident, state): an incident collects many
    // superseded and published messages, and a draft lookup must not read
    // them all.
    const int64_t limit = f.limit > 0 ? f.limit : -1;
    if (f.states.empty()) {
      if (f.incident_id == 0) {
        Statement s(db_,
                    "SELECT id, body FROM messages WHERE id > ? ORDER BY id "
                    "LIMIT ?");
        s.Bind(1, f.after_id).Bind(2, limit);
        return CollectRows<v1::Message>(s);
      }
      Statement s(db_,
                  "SELECT id, body FROM messages WHERE incident_id = ? AND "
                  "id > ? ORDER BY id LIMIT ?");
      s.Bind(1, f.incident_id).Bind(2, f.after_id).Bind(3, limit);
      return CollectRows<v1::Message>(s);
    }
    std::vector<v1::Message> out;
    for (v1::MessageState state :
         std::set<v1::MessageState>(f.states.begin(), f.states.end())) {
      absl::StatusOr<std::vector<v1::Message>> some;
      if (f.incident_id == 0) {
        Statement s(db_,
                    "SELECT id, body FROM messages WHERE state = ? AND id > ? "
                    "ORDER BY id LIMIT ?");
        s.Bind(1, int64_t{state}).Bind(2, f.after_id).Bind(3, limit);
        some = CollectRows<v1::Message>(s);
      } else {
        Statement s(db_,
                    "SELECT id, body FROM messages WHERE incident_id = ? AND "
                    "state = ? AND id > ? ORDER BY id LIMIT ?");
        s.Bind(1, f.incident_id)
            .Bind(2, int64_t{state})
            .Bind(3, f.after_id)
            .Bind(4, limit);
        some = CollectRows<v1::Message>(s);
      }
      if (!some.ok()) return some.status();
      for (v1::Message& m : *some) out.push_back(std::move(m));
    }
    std::sort(out.begin(), out.end(),
              [](const v1::Message& a, const v1::Message& b) {
                return a.id() < b.id();
              });
    if (f.limit > 0 && out.size() > static_cast<size_t>(f.limit)) {
      out.resize(f.limit);
    }
    return out;
  }
  absl::StatusOr<std::vector<v1::TimelineEvent>> ListTimeline(
      int64_t incident_id) override {
    Statement s(
        db_, "SELECT id, body FROM timeline WHERE incident_id = ? ORDER BY id");
    s.Bind(1, incident_id);
    return CollectRows<v1::TimelineEvent>(s);
  }
  absl::StatusOr<std::vector<v1::TimelineEvent>> ListTimelinePage(
      int64_t incident_id, int64_t after_id, int limit) override {
    Statement s(db_,
                "SELECT id, body FROM timeline WHERE incident_id = ? AND "
                "id > ? ORDER BY id LIMIT ?");
    s.Bind(1, incident_id).Bind(2, after_id).Bind(3, int64_t{limit});
    return CollectRows<v1::TimelineEvent>(s);
  }
  absl::StatusOr<int64_t> CountTimeline(int64_t incident_id) override {
    Statement s(db_, "SELECT count(*) FROM timeline WHERE incident_id = ?");
    s.Bind(1, incident_id);
    return Count(s);
  }
  absl::StatusOr<std::vector<v1::MessageVersion>> ListMessageVersions(
      int64_t message_id) override {
    Statement s(db_,
                "SELECT body FROM message_versions WHERE message_id = ? "
                "ORDER BY version");
    s.Bind(1, message_id);
    return CollectProtos<v1::MessageVersion>(s);
  }
  absl::StatusOr<std::vector<v1::AuditEntry>> ListAudit(
      int64_t incident_id) override {
    Statement s(db_,
                "SELECT id, body FROM audit WHERE (? = 0 OR incident_id = ?) "
                "ORDER BY id");
    s.Bind(1, incident_id).Bind(2, incident_id);
    return CollectRows<v1::AuditEntry>(s);
  }
  absl::StatusOr<std::vector<v1::AuditEntry>> ListAuditPage(
      int64_t incident_id, int64_t after_id, int limit) override {
    Statement s(db_,
                "SELECT id, body FROM audit WHERE (? = 0 OR incident_id = ?) "
                "AND id > ? ORDER BY id LIMIT ?");
    s.Bind(1, incident_id)
        .Bind(2, incident_id)
        .Bind(3, after_id)
        .Bind(4, int64_t{limit});
    return CollectRows<v1::AuditEntry>(s);
  }
  absl::StatusOr<std::vector<v1::Subscriber>> ListSubscribers(
      const SubscriberFilter& filter) override {
    Statement s(
        db_,
        "SELECT body FROM subscribers WHERE (? OR status <> ?) AND (? = '' OR "
        "id IN (SELECT subscriber_id FROM subscriptions WHERE component_id = "
        "?)) AND id > ? ORDER BY id LIMIT ?");
    s.Bind(1, int64_t{filter.include_unsubscribed})
        .Bind(2, int64_t{v1::SUBSCRIBER_STATUS_UNSUBSCRIBED})
        .Bind(3, filter.component_id)
        .Bind(4, filter.component_id)
        .Bind(5, filter.after_id)
        .Bind(6, int64_t{filter.limit > 0 ? filter.limit : -1});
    return CollectProtos<v1::Subscriber>(s);
  }
  absl::StatusOr<v1::Subscriber> GetSubscriber(const std::string& id) override {
    Statement s(db_, "SELECT body FROM subscribers WHERE id = ?");
    s.Bind(1, id);
    return OneProto<v1::Subscriber>(s,
                                    absl::StrCat("no subscriber \"", id, "\""));
  }
  absl::StatusOr<v1::Subscriber> FindSubscriberByEmail(
      const std::string& email) override {
    Statement s(db_, "SELECT body FROM subscribers WHERE email = ? LIMIT 1");
    s.Bind(1, absl::AsciiStrToLower(email));
    return OneProto<v1::Subscriber>(
        s, absl::StrCat("no subscriber with email ", email));
  }
  absl::StatusOr<std::vector<v1::Subscriber>> ListSubscribersByAccount(
      const std::vector<std::string>& accounts) override {
    if (accounts.empty()) return std::vector<v1::Subscriber>{};
    Statement s(db_, absl::StrCat("SELECT body FROM subscribers WHERE account "
                                  "<> '' AND account IN ",
                                  InList(1, accounts.size()), " ORDER BY id"));
    for (size_t i = 0; i < accounts.size(); ++i) {
      s.Bind(static_cast<int>(i) + 1, accounts[i]);
    }
    return CollectProtos<v1::Subscriber>(s);
  }
  absl::StatusOr<std::vector<v1::Subscriber>> ListPendingSubscribers()
      override {
    Statement s(db_,
                "SELECT body FROM subscribers WHERE status = ? ORDER BY id");
    s.Bind(1, int64_t{v1::SUBSCRIBER_STATUS_PENDING});
    return CollectProtos<v1::Subscriber>(s);
  }
  absl::StatusOr<int64_t> CountAudience(
      const std::vector<std::string>& component_ids) override {
    Statement s(
        db_, absl::StrCat("SELECT count(*) FROM subscribers WHERE ", kAudience,
                          InList(5, component_ids.size()), ")"));
    s.Bind(4, int64_t{v1::SUBSCRIBER_STATUS_ACTIVE});
    for (size_t i = 0; i < component_ids.size(); ++i) {
      s.Bind(static_cast<int>(i) + 5, component_ids[i]);
    }
    absl::StatusOr<bool> row = s.Step();
    if (!row.ok()) return row.status();
    return s.Int(0);
  }
  absl::StatusOr<std::vector<TokenRecord>> ListTokens() override {
    Statement s(db_,
                "SELECT sha256, person_id FROM api_tokens ORDER BY sha256");
    std::vector<TokenRecord> out;
    while (true) {
      absl::StatusOr<bool> row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      out.push_back({s.Text(0), s.Text(1)});
    }
  }
  absl::StatusOr<std::string> GetSetting(const std::string& name) override {
    Statement s(db_, "SELECT value FROM settings WHERE name = ?");
    s.Bind(1, name);
    absl::StatusOr<bool> row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) {
      return absl::NotFoundError(absl::StrCat("no setting \"", name, "\""));
    }
    return s.Text(0);
  }
  absl::StatusOr<std::vector<v1::Amends>> ListAmends(
      int64_t incident_id) override {
    Statement s(db_,
                "SELECT id, body FROM amends WHERE incident_id = ? "
                "ORDER BY subscriber_id");
    s.Bind(1, incident_id);
    return CollectRows<v1::Amends>(s);
  }
  absl::StatusOr<v1::Amends> GetAmends(int64_t id) override {
    Statement s(db_, "SELECT id, body FROM amends WHERE id = ?");
    s.Bind(1, id);
    return OneRow<v1::Amends>(s, absl::StrCat("no amends ", id));
  }
  absl::StatusOr<v1::Amends> FindAmends(
      int64_t incident_id, const std::string& subscriber_id) override {
    Statement s(db_,
                "SELECT id, body FROM amends WHERE incident_id = ? AND "
                "subscriber_id = ?");
    s.Bind(1, incident_id).Bind(2, subscriber_id);
    return OneRow<v1::Amends>(s, absl::StrCat("no amends for ", subscriber_id,
                                              " of incident ", incident_id));
  }
  absl::StatusOr<std::vector<v1::ComponentState>> ListComponentStates()
      override {
    Statement s(db_, "SELECT body FROM component_states ORDER BY component_id");
    return CollectProtos<v1::ComponentState>(s);
  }
  absl::StatusOr<std::vector<v1::Delivery>> ListDueDeliveries(
      absl::Time now, int limit) override {
    Statement s(db_, absl::StrCat("SELECT ", kDeliveryColumns,
                                  " FROM deliveries WHERE state IN (?, ?, ?) "
                                  "AND next_attempt_at <= ? "
                                  "ORDER BY next_attempt_at, id LIMIT ?"));
    s.Bind(1, int64_t{v1::DELIVERY_STATE_QUEUED})
        .Bind(2, int64_t{v1::DELIVERY_STATE_RETRYING})
        .Bind(3, int64_t{v1::DELIVERY_STATE_SENDING})
        .Bind(4, absl::ToUnixMicros(now))
        .Bind(5, int64_t{limit});
    return CollectDeliveries(s);
  }
  absl::StatusOr<v1::Delivery> GetDelivery(int64_t id) override {
    Statement s(db_, absl::StrCat("SELECT ", kDeliveryColumns,
                                  " FROM deliveries WHERE id = ?"));
    s.Bind(1, id);
    absl::StatusOr<bool> row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::NotFoundError(absl::StrCat("no delivery ", id));
    return DeliveryRow(s);
  }
  absl::StatusOr<std::vector<v1::Delivery>> ListDeliveries(
      int64_t message_id, int64_t incident_id) override {
    Statement s(db_, absl::StrCat("SELECT ", kDeliveryColumns,
                                  " FROM deliveries WHERE message_id = ? AND "
                                  "(? <> 0 OR incident_id = ?) ORDER BY id"));
    s.Bind(1, message_id).Bind(2, message_id).Bind(3, incident_id);
    return CollectDeliveries(s);
  }
  absl::StatusOr<std::vector<v1::Delivery>> ListDeliveriesPage(
      int64_t message_id, int64_t after_id, int limit) override {
    Statement s(db_, absl::StrCat("SELECT ", kDeliveryColumns,
                                  " FROM deliveries WHERE message_id = ? AND "
                                  "id > ? ORDER BY id LIMIT ?"));
    s.Bind(1, message_id).Bind(2, after_id).Bind(3, int64_t{limit});
    return CollectDeliveries(s);
  }
  absl::StatusOr<std::vector<v1::Delivery>> ListRecipientDeliveries(
      int64_t incident_id, const std::string& recipient) override {
    Statement s(db_, absl::StrCat("SELECT ", kDeliveryColumns,
                                  " FROM deliveries WHERE incident_id = ? AND "
                                  "recipient = ? ORDER BY id"));
    s.Bind(1, incident_id).Bind(2, recipient);
    return CollectDeliveries(s);
  }
  absl::StatusOr<std::vector<v1::Delivery>> ListFailedDeliveries(
      int64_t before_id, int limit) override {
    Statement s(db_, absl::StrCat("SELECT ", kDeliveryColumns,
                                  " FROM deliveries WHERE state = ? AND "
                                  "id < ? ORDER BY id DESC LIMIT ?"));
    s.Bind(1, int64_t{v1::DELIVERY_STATE_FAILED})
        .Bind(2, before_id > 0 ? before_id : kNoId)
        .Bind(3, int64_t{limit});
    return CollectDeliveries(s);
  }
  absl::StatusOr<OutboxStats> GetOutboxStats() override {
    OutboxStats stats;
    for (const v1::DeliveryState state :
         {v1::DELIVERY_STATE_QUEUED, v1::DELIVERY_STATE_RETRYING,
          v1::DELIVERY_STATE_SENDING}) {
      // Both answered from deliveries_by_state; ids grow with queuing time.
      Statement count(
          db_, "SELECT count(*), min(id) FROM deliveries WHERE state = ?");
      count.Bind(1, int64_t{state});
      absl::StatusOr<bool> row = count.Step();
      if (!row.ok()) return row.status();
      if (count.Int(0) == 0) continue;
      stats.pending += count.Int(0);
      Statement oldest(db_, "SELECT created_at FROM deliveries WHERE id = ?");
      oldest.Bind(1, count.Int(1));
      row = oldest.Step();
      if (!row.ok()) return row.status();
      const absl::Time at = absl::FromUnixMicros(oldest.Int(0));
      if (stats.oldest_queued_at == absl::InfinitePast() ||
          at < stats.oldest_queued_at) {
        stats.oldest_queued_at = at;
      }
    }
    return stats;
  }

  absl::StatusOr<int64_t> InsertIncident(
      const v1::Incident& incident) override {
    Statement s(db_,
                "INSERT INTO incidents(group_key, open, body) VALUES(?, ?, ?) "
                "RETURNING id");
    s.Bind(1, incident.group_key())
        .Bind(2, int64_t{!incident.has_resolved_at()})
        .BindProto(3, incident);
    absl::StatusOr<int64_t> id = InsertReturningId(s);
    if (!id.ok()) return id.status();
    v1::Incident stored = incident;
    stored.set_id(*id);
    if (auto st = IndexGroups(stored); !st.ok()) return st;
    return id;
  }
  absl::Status UpdateIncident(const v1::Incident& incident) override {
    Statement s(
        db_,
        "UPDATE incidents SET group_key = ?, open = ?, body = ? WHERE id = ?");
    s.Bind(1, incident.group_key())
        .Bind(2, int64_t{!incident.has_resolved_at()})
        .BindProto(3, incident)
        .Bind(4, incident.id());
    if (auto st = s.Run(); !st.ok()) return st;
    if (auto st =
            RequireChange(db_->db, absl::StrCat("no incident ", incident.id()));
        !st.ok()) {
      return st;
    }
    return IndexGroups(incident);
  }
  absl::Status PutAlert(const v1::Alert& alert) override {
    // An upsert, not INSERT OR REPLACE: REPLACE deletes without firing
    // the delete trigger that keeps incident_alert_counts.
    Statement s(db_,
                "INSERT INTO alerts(fingerprint, incident_id, unrouted, body) "
                "VALUES(?, ?, ?, ?) ON CONFLICT(fingerprint) DO UPDATE SET "
                "incident_id = excluded.incident_id, "
                "unrouted = excluded.unrouted, body = excluded.body");
    s.Bind(1, alert.fingerprint())
        .Bind(2, alert.incident_id())
        .Bind(3, int64_t{alert.unrouted()})
        .BindProto(4, alert);
    return s.Run();
  }
  absl::StatusOr<int64_t> InsertUpdate(const v1::Update& update) override {
    Statement s(
        db_,
        "INSERT INTO updates(incident_id, body) VALUES(?, ?) RETURNING id");
    s.Bind(1, update.incident_id()).BindProto(2, update);
    return InsertReturningId(s);
  }
  absl::StatusOr<int64_t> InsertMessage(const v1::Message& message) override {
    Statement s(db_,
                "INSERT INTO messages(incident_id, state, body) VALUES(?, ?, "
                "?) RETURNING id");
    s.Bind(1, message.incident_id())
        .Bind(2, int64_t{message.state()})
        .BindProto(3, message);
    return InsertReturningId(s);
  }
  absl::Status UpdateMessage(const v1::Message& message) override {
    Statement s(db_,
                "UPDATE messages SET incident_id = ?, state = ?, body = ? "
                "WHERE id = ?");
    s.Bind(1, message.incident_id())
        .Bind(2, int64_t{message.state()})
        .BindProto(3, message)
        .Bind(4, message.id());
    if (auto st = s.Run(); !st.ok()) return st;
    return RequireChange(db_->db, absl::StrCat("no message ", message.id()));
  }
  absl::Status AppendTimeline(const v1::TimelineEvent& event) override {
    Statement s(
        db_,
        "INSERT INTO timeline(incident_id, body) VALUES(?, ?) RETURNING id");
    s.Bind(1, event.incident_id()).BindProto(2, event);
    return InsertReturningId(s).status();
  }
  absl::Status InsertMessageVersion(const v1::MessageVersion& v) override {
    Statement s(db_,
                "INSERT INTO message_versions(message_id, version, body) "
                "VALUES(?, ?, ?)");
    s.Bind(1, v.message_id()).Bind(2, int64_t{v.version()}).BindProto(3, v);
    return s.Run();  // a second row for the version: AlreadyExists
  }
  absl::StatusOr<int64_t> AppendAudit(const v1::AuditEntry& entry) override {
    Statement s(
        db_, "INSERT INTO audit(incident_id, body) VALUES(?, ?) RETURNING id");
    s.Bind(1, entry.incident_id()).BindProto(2, entry);
    return InsertReturningId(s);
  }
  absl::Status PutSubscriber(const v1::Subscriber& subscriber) override {
    return WriteSubscriber(db_, subscriber);
  }
  absl::Status DeleteSubscriber(const std::string& id) override {
    Statement clear(db_, "DELETE FROM subscriptions WHERE subscriber_id = ?");
    clear.Bind(1, id);
    if (auto st = clear.Run(); !st.ok()) return st;
    Statement s(db_, "DELETE FROM subscribers WHERE id = ?");
    s.Bind(1, id);
    if (auto st = s.Run(); !st.ok()) return st;
    return RequireChange(db_->db, absl::StrCat("no subscriber \"", id, "\""));
  }
  absl::Status PutToken(const TokenRecord& token) override {
    Statement s(
        db_,
        "INSERT OR REPLACE INTO api_tokens(sha256, person_id) VALUES(?, ?)");
    s.Bind(1, token.sha256_hex).Bind(2, token.person_id);
    return s.Run();
  }
  absl::Status PutSetting(const std::string& name,
                          const std::string& value) override {
    Statement s(db_,
                "INSERT OR REPLACE INTO settings(name, value) VALUES(?, ?)");
    s.Bind(1, name).Bind(2, value);
    return s.Run();
  }
  absl::Status PutComponentState(const v1::ComponentState& state) override {
    Statement s(db_,
                "INSERT OR REPLACE INTO component_states(component_id, body) "
                "VALUES(?, ?)");
    s.Bind(1, state.component_id()).BindProto(2, state);
    return s.Run();
  }
  absl::StatusOr<int64_t> InsertAmends(const v1::Amends& amends) override {
    Statement s(db_,
                "INSERT INTO amends(incident_id, subscriber_id, voucher_code, "
                "body) VALUES(?, ?, NULLIF(?, ''), ?) RETURNING id");
    s.Bind(1, amends.incident_id())
        .Bind(2, amends.subscriber_id())
        .Bind(3, amends.credit().voucher_code())
        .BindProto(4, amends);
    return InsertReturningId(s);
  }
  absl::Status UpdateAmends(const v1::Amends& amends) override {
    Statement s(db_,
                "UPDATE amends SET voucher_code = NULLIF(?, ''), body = ? "
                "WHERE id = ?");
    s.Bind(1, amends.credit().voucher_code())
        .BindProto(2, amends)
        .Bind(3, amends.id());
    if (auto st = s.Run(); !st.ok()) return st;
    return RequireChange(db_->db, absl::StrCat("no amends ", amends.id()));
  }
  absl::StatusOr<int64_t> InsertOverride(
      const v1::RotaOverride& override) override {
    Statement s(db_,
                "INSERT INTO rota_overrides(rota_id, ends_at, body) "
                "VALUES(?, ?, ?) RETURNING id");
    s.Bind(1, override.rota_id())
        .Bind(2, Micros(override.ends_at()))
        .BindProto(3, override);
    return InsertReturningId(s);
  }
  absl::Status DeleteOverride(int64_t id) override {
    Statement s(db_, "DELETE FROM rota_overrides WHERE id = ?");
    s.Bind(1, id);
    if (auto st = s.Run(); !st.ok()) return st;
    return RequireChange(db_->db, absl::StrCat("no override ", id));
  }
  absl::StatusOr<int64_t> InsertJob(const v1::Job& job) override {
    Statement s(db_,
                "INSERT INTO jobs(done, due_at, body) VALUES(?, ?, ?) "
                "RETURNING id");
    s.Bind(1, int64_t{job.done()})
        .Bind(2, Micros(job.due_at()))
        .BindProto(3, job);
    return InsertReturningId(s);
  }
  absl::Status UpdateJob(const v1::Job& job) override {
    Statement s(db_,
                "UPDATE jobs SET done = ?, due_at = ?, body = ? WHERE id = ?");
    s.Bind(1, int64_t{job.done()})
        .Bind(2, Micros(job.due_at()))
        .BindProto(3, job)
        .Bind(4, job.id());
    if (auto st = s.Run(); !st.ok()) return st;
    return RequireChange(db_->db, absl::StrCat("no job ", job.id()));
  }
  absl::Status LeaseJob(int64_t id, absl::Time until) override {
    Statement s(db_, "UPDATE jobs SET due_at = ? WHERE id = ?");
    s.Bind(1, absl::ToUnixMicros(until)).Bind(2, id);
    if (auto st = s.Run(); !st.ok()) return st;
    return RequireChange(db_->db, absl::StrCat("no job ", id));
  }
  absl::StatusOr<int64_t> InsertDelivery(
      const v1::Delivery& delivery) override {
    Statement s(db_,
                "INSERT INTO deliveries(message_id, incident_id, "
                "idempotency_key, state, next_attempt_at, body, recipient, "
                "created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
    s.Bind(1, delivery.message_id())
        .Bind(2, delivery.incident_id())
        .Bind(3, delivery.idempotency_key())
        .Bind(4, int64_t{delivery.state()})
        .Bind(5, Micros(delivery.next_attempt_at()))
        .BindProto(6, delivery)
        .Bind(7, delivery.recipient())
        .Bind(8, Micros(delivery.created_at()));
    return InsertReturningId(s);
  }
  absl::StatusOr<int64_t> EnqueueFanOut(const FanOut& fan_out) override {
    if (fan_out.to_amends) return EnqueueAmendsFanOut(fan_out);
    // ?1 message, ?2 incident, ?3 now, ?4 active, ?5.. the components.
    Statement s(
        db_,
        absl::StrCat(
            "INSERT OR IGNORE INTO deliveries(message_id, incident_id, "
            "idempotency_key, state, next_attempt_at, body, recipient, "
            "created_at) SELECT ?1, ?2, 'msg-' || ?1 || '-subscriber-' || id, ",
            int64_t{v1::DELIVERY_STATE_QUEUED},
            ", ?3, x'', 'subscriber:' || id, ?3 FROM subscribers WHERE ",
            kAudience, InList(5, fan_out.component_ids.size()),
            ") ORDER BY id"));
    s.Bind(1, fan_out.message_id)
        .Bind(2, fan_out.incident_id)
        .Bind(3, absl::ToUnixMicros(fan_out.now))
        .Bind(4, int64_t{v1::SUBSCRIBER_STATUS_ACTIVE});
    for (size_t i = 0; i < fan_out.component_ids.size(); ++i) {
      s.Bind(static_cast<int>(i) + 5, fan_out.component_ids[i]);
    }
    if (auto st = s.Run(); !st.ok()) return st;
    return sqlite3_changes64(db_->db);
  }
  absl::StatusOr<int64_t> EnqueueAmendsFanOut(const FanOut& fan_out) {
    Statement s(
        db_,
        absl::StrCat(
            "INSERT OR IGNORE INTO deliveries(message_id, incident_id, "
            "idempotency_key, state, next_attempt_at, body, recipient, "
            "created_at) SELECT ?1, ?2, 'msg-' || ?1 || '-subscriber-' || "
            "a.subscriber_id, ",
            int64_t{v1::DELIVERY_STATE_QUEUED},
            ", ?3, x'', 'subscriber:' || a.subscriber_id, ?3 FROM amends a "
            "JOIN subscribers s ON s.id = a.subscriber_id WHERE "
            "a.incident_id = ?2 AND s.status = ?4 ORDER BY a.subscriber_id"));
    s.Bind(1, fan_out.message_id)
        .Bind(2, fan_out.incident_id)
        .Bind(3, absl::ToUnixMicros(fan_out.now))
        .Bind(4, int64_t{v1::SUBSCRIBER_STATUS_ACTIVE});
    if (auto st = s.Run(); !st.ok()) return st;
    return sqlite3_changes64(db_->db);
  }
  absl::Status UpdateDelivery(const v1::Delivery& delivery) override {
    Statement s(db_,
                "UPDATE deliveries SET state = ?, next_attempt_at = ?, body = "
                "?, waiting_on = ? WHERE id = ?");
    s.Bind(1, int64_t{delivery.state()})
        .Bind(2, Micros(delivery.next_attempt_at()))
        .BindProto(3, delivery)
        .Bind(4, int64_t{delivery.waiting_on()})
        .Bind(5, delivery.id());
    if (auto st = s.Run(); !st.ok()) return st;
    return RequireChange(db_->db, absl::StrCat("no delivery ", delivery.id()));
  }
  absl::StatusOr<int> ReleaseWaitingDeliveries(v1::ChannelKind channel,
                                               absl::Time now) override {
    // The column wins over the body's next_attempt_at (DeliveryRow).
    Statement s(db_,
                "UPDATE deliveries SET next_attempt_at = ? WHERE waiting_on = "
                "? AND waiting_on <> 0 AND state = ?");  // deliveries_waiting
    s.Bind(1, absl::ToUnixMicros(now))
        .Bind(2, int64_t{channel})
        .Bind(3, int64_t{v1::DELIVERY_STATE_RETRYING});
    if (auto st = s.Run(); !st.ok()) return st;
    return static_cast<int>(sqlite3_changes64(db_->db));
  }
  absl::StatusOr<int> RequeueInterruptedDeliveries(absl::Time now) override {
    Statement s(db_, absl::StrCat("SELECT ", kDeliveryColumns,
                                  " FROM deliveries WHERE state = ?"));
    s.Bind(1, int64_t{v1::DELIVERY_STATE_SENDING});
    absl::StatusOr<std::vector<v1::Delivery>> stuck = CollectDeliveries(s);
    if (!stuck.ok()) return stuck.status();
    for (v1::Delivery& d : *stuck) {
      d.set_state(v1::DELIVERY_STATE_QUEUED);
      *d.mutable_next_attempt_at() = ToProtoTime(now);
      if (auto st = UpdateDelivery(d); !st.ok()) return st;
    }
    return static_cast<int>(stuck->size());
  }

 private:
  // Keeps incident_groups equal to the incident's group keys. Keys are only
  // ever added, and attached ones only appended, so an unchanged count means
  // nothing to do (the common case: an update that touched no group) and
  // otherwise only the newest keys are missing: inserting just those keeps
  // an incident with many groups from rewriting all of them each time.
  absl::Status IndexGroups(const v1::Incident& incident) {
    const auto& attached = incident.attached_group_keys();
    const int64_t total =
        attached.size() + (incident.group_key().empty() ? 0 : 1);
    Statement count(
        db_, "SELECT count(*) FROM incident_groups WHERE incident_id = ?");
    count.Bind(1, incident.id());
    absl::StatusOr<int64_t> indexed = Count(count);
    if (!indexed.ok()) return indexed.status();
    if (*indexed == total) return absl::OkStatus();
    // The missing ones (and one more, in case the main key is among them).
    const int64_t missing = std::min<int64_t>(
        attached.size(), std::max<int64_t>(0, total - *indexed) + 1);
    std::vector<std::string> keys(attached.end() - missing, attached.end());
    if (!incident.group_key().empty()) keys.push_back(incident.group_key());
    for (const std::string& key : keys) {
      Statement add(
          db_,
          "INSERT OR IGNORE INTO incident_groups(group_key, incident_id) "
          "VALUES(?, ?)");
      add.Bind(1, key).Bind(2, incident.id());
      if (auto st = add.Run(); !st.ok()) return st;
    }
    return absl::OkStatus();
  }

  // Steps an INSERT ... RETURNING id and returns the id.
  static absl::StatusOr<int64_t> InsertReturningId(Statement& s) {
    absl::StatusOr<bool> stepped = s.Step();
    if (!stepped.ok()) return stepped.status();
    const int64_t id = s.Int(0);
    if (absl::StatusOr<bool> done = s.Step(); !done.ok()) return done.status();
    return id;
  }

  Connection* db_;
};

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

// Writes are group-committed: concurrent Write() calls queue up, and one of
// them (the leader) runs the whole queue in a single transaction, each
// caller's function inside its own savepoint, then commits once: one fsync
// for the batch. A function that fails rolls back to its savepoint and
// fails alone; a failed COMMIT fails every write in the batch. Nobody
// returns before the commit that holds their write is durable.
// Writes go through one writer thread, which does group commit: it takes
// every write queued so far, runs each in its own savepoint of one
// transaction (so one write's failure undoes only that write), commits once
// (one fsync for all of them) and then reports each outcome.
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

absl::Status Migrate(Connection* conn) {
  sqlite3* db = conn->db;
  Statement version(db, "PRAGMA user_version");
  absl::StatusOr<bool> row = version.Step();
  if (!row.ok()) return row.status();
  const int64_t current = version.Int(0);
  const int64_t target = SqliteSchemaVersion();
  if (current > target) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database schema version ", current,
        " is newer than this herald supports (", target, "); upgrade herald"));
  }
  for (int64_t v = current; v < target; ++v) {
    absl::Status s =
        Exec(db, absl::StrCat("BEGIN IMMEDIATE;", kMigrations[v]).c_str());
    if (s.ok() && v + 1 == target && current < kSubscriberColumnsComplete) {
      s = BackfillSubscriberColumns(conn);
    }
    if (s.ok()) {
      s = Exec(
          db,
          absl::StrCat("PRAGMA user_version = ", v + 1, "; COMMIT;").c_str());
    }
    if (!s.ok()) {
      Exec(db, "ROLLBACK").IgnoreError();
      return absl::Status(s.code(),
                          absl::StrCat("migration ", v + 1, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int SqliteSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const std::string& path, SqliteStoreOptions options) {
  if (absl::Status s = PrepareDatabaseFile(path); !s.ok()) return s;
  absl::StatusOr<sqlite3*> writer = OpenConnection(path);
  if (!writer.ok()) return writer.status();
  auto writer_conn =
      std::make_unique<Connection>(*writer, options.on_unreadable_row);
  absl::Status s = Exec(*writer, "PRAGMA journal_mode = WAL;");
  if (s.ok()) s = Migrate(writer_conn.get());
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
