#include "server/store/sqlite/schema.h"

#include <iterator>

#include "absl/strings/str_cat.h"
#include "server/store/sql/rows.h"

namespace herald::sqlite {
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
    // Deliveries queued before schema 5 kept recipient '' and created_at 0:
    // this step fills them from their stored records
    // (BackfillDeliveryColumns), on every database, whatever it was.
    R"sql(
SELECT 1;
)sql",
    // Short-lived records every process on the store shares: console
    // sessions, self-service rate limits.
    R"sql(
CREATE TABLE expiring (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  value BLOB NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (kind, name)) WITHOUT ROWID;
CREATE INDEX expiring_by_expiry ON expiring(expires_at);
)sql",
};
// A database older than this has subscribers whose queryable columns
// (email, status, account, subscriptions) only their stored rows can fill:
// the last migration step rewrites every subscriber.
constexpr int kSubscriberColumnsComplete = 7;
// The migration (its version once applied) whose step also fills the
// deliveries' recipient and created_at columns.
constexpr int kDeliveryColumnsBackfilled = 14;

// Rewrites every subscriber, filling the columns migrations added.
absl::Status BackfillSubscriberColumns(Connection* db) {
  Statement s(db, "SELECT body FROM subscribers");
  absl::StatusOr<std::vector<v1::Subscriber>> all =
      sql::CollectProtos<v1::Subscriber>(s);
  if (!all.ok()) return all.status();
  for (const v1::Subscriber& sub : *all) {
    if (auto st = sql::WriteSubscriber<Statement>(db, sub); !st.ok()) return st;
  }
  return absl::OkStatus();
}

// Fills the recipient and created_at columns (schema 5) of deliveries
// queued before them, from their stored records.
absl::Status BackfillDeliveryColumns(Connection* db) {
  // A batch at a time, by id, read before it is written: SQLite leaves
  // undefined whether a running SELECT sees what an UPDATE on its connection
  // changes. A stored record does not always hold its own id (it is
  // assigned on insert); one that cannot be read keeps its columns and is
  // reported wherever it is read.
  constexpr int kBatch = 1000;
  int64_t after = 0;
  while (true) {
    std::vector<std::pair<int64_t, v1::Delivery>> batch;
    Statement read(db,
                   "SELECT id, body FROM deliveries WHERE id > ? AND "
                   "(recipient = '' OR created_at = 0) ORDER BY id LIMIT ?");
    read.Bind(1, after).Bind(2, int64_t{kBatch});
    int rows = 0;
    while (true) {
      absl::StatusOr<bool> row = read.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      ++rows;
      after = read.Int(0);
      absl::StatusOr<v1::Delivery> d = read.Proto<v1::Delivery>(1);
      if (d.ok()) batch.emplace_back(after, *std::move(d));
    }
    for (const auto& [id, d] : batch) {
      Statement fill(db,
                     "UPDATE deliveries SET recipient = ?, created_at = ? "
                     "WHERE id = ?");
      fill.Bind(1, d.recipient())
          .Bind(2, sql::Micros(d.created_at()))
          .Bind(3, id);
      if (auto st = fill.Run(); !st.ok()) return st;
    }
    if (rows < kBatch) return absl::OkStatus();
  }
}

}  // namespace

int SchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

absl::Status Migrate(Connection* conn) {
  return MigrateTo(conn, SchemaVersion());
}

absl::Status MigrateTo(Connection* conn, int version) {
  if (version < 0 || version > SchemaVersion()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no schema version ", version, "; this herald knows 0 to ",
                     SchemaVersion()));
  }
  sqlite3* db = conn->db;
  Statement pragma(db, "PRAGMA user_version");
  absl::StatusOr<bool> row = pragma.Step();
  if (!row.ok()) return row.status();
  const int64_t current = pragma.Int(0);
  const int64_t target = version;
  if (current > target) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database schema version ", current,
        " is newer than this herald supports (", target, "); upgrade herald"));
  }
  for (int64_t v = current; v < target; ++v) {
    absl::Status s =
        Exec(db, absl::StrCat("BEGIN IMMEDIATE;", kMigrations[v]).c_str());
    // Only a migration to this build's schema: before it, WriteSubscriber's
    // columns may not all exist yet.
    if (s.ok() && v + 1 == target && target == SchemaVersion() &&
        current < kSubscriberColumnsComplete) {
      s = BackfillSubscriberColumns(conn);
    }
    if (s.ok() && v + 1 == kDeliveryColumnsBackfilled) {
      s = BackfillDeliveryColumns(conn);
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

}  // namespace herald::sqlite
