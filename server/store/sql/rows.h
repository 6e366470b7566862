// The SQL store's rows as protos, for every SQL database herald runs on
// (SQLite, PostgreSQL): each table keeps a record as a serialized proto in
// `body`, beside the columns its queries need. These helpers are templates
// over a dialect's Statement (sqlite::Statement, postgres::Statement), which
// binds with Bind/BindBlob/BindProto, steps with Step/Run, reads with
// Int/Text/Proto and counts changed rows with Changes. Not thread-safe: a
// statement belongs to its connection's thread.
#ifndef HERALD_SERVER_STORE_SQL_ROWS_H_
#define HERALD_SERVER_STORE_SQL_ROWS_H_

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"
#include "herald/v1/domain.pb.h"
#include "server/base/proto_time.h"
#include "server/base/text.h"

namespace herald::sql {

// Above every id: "before" this is from the newest (a plain `id < ?` lets
// the database seek the id range, where `? = 0 OR id < ?` would not).
inline constexpr int64_t kNoId = std::numeric_limits<int64_t>::max();
// A LIMIT that limits nothing, in every dialect (PostgreSQL refuses
// SQLite's -1).
inline constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

// A timestamp as the integer microseconds the tables hold.
inline int64_t Micros(const google::protobuf::Timestamp& ts) {
  return absl::ToUnixMicros(FromProtoTime(ts));
}

// `record` serialized for a row's body. InvalidArgument, naming the field,
// for a record whose text is not valid UTF-8: protobuf could not read it
// back, so it is never stored.
inline absl::StatusOr<std::string> SerializeRecord(
    const google::protobuf::Message& record) {
  std::string bytes;
  record.SerializeToString(&bytes);
  // The wire check is cheap; the reflection walk that names the field runs
  // only when it fails.
  if (SerializedTextIsUtf8(bytes, *record.GetDescriptor())) return bytes;
  const std::string name(record.GetDescriptor()->name());
  absl::Status named = CheckUtf8Fields(record, absl::StrCat(name, "."));
  if (!named.ok()) return named;
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": not a well-formed record"));
}

// NotFound(`what`) when `stmt`, just run, changed no row.
template <typename Statement>
absl::Status RequireChange(const Statement& stmt, absl::string_view what) {
  if (stmt.Changes() == 0) return absl::NotFoundError(what);
  return absl::OkStatus();
}

// Runs `stmt`, a SELECT count(*), and returns the count.
template <typename Statement>
absl::StatusOr<int64_t> Count(Statement& stmt) {
  absl::StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  return *row ? stmt.Int(0) : 0;
}

// Runs `stmt` and collects column 0 of each row as a proto.
template <typename T, typename Statement>
absl::StatusOr<std::vector<T>> CollectProtos(Statement& stmt) {
  std::vector<T> out;
  while (true) {
    absl::StatusOr<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    absl::StatusOr<T> m = stmt.template Proto<T>(0);
    if (!m.ok()) {
      // One unreadable row must not hide every other one.
      stmt.ReportUnreadable(T::descriptor()->name(), "", m.status());
      continue;
    }
    out.push_back(*std::move(m));
  }
}

template <typename T, typename Statement>
absl::StatusOr<T> OneProto(Statement& stmt, absl::string_view not_found) {
  absl::StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(not_found);
  return stmt.template Proto<T>(0);
}

// For tables with an integer primary key: rows are selected as (id, body)
// and the id is taken from its column, so inserts need not rewrite the body.
template <typename T, typename Statement>
absl::StatusOr<T> RowWithId(const Statement& stmt) {
  absl::StatusOr<T> m = stmt.template Proto<T>(1);
  if (m.ok()) m->set_id(stmt.Int(0));
  return m;
}

template <typename T, typename Statement>
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

template <typename T, typename Statement>
absl::StatusOr<T> OneRow(Statement& stmt, absl::string_view not_found) {
  absl::StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(not_found);
  return RowWithId<T>(stmt);
}

// Deliveries are read with their columns, which win over the body: a fan-out
// queues rows with an empty body, and the columns always hold the truth.
inline constexpr const char* kDeliveryColumns =
    "id, body, message_id, incident_id, idempotency_key, state, "
    "next_attempt_at, recipient, created_at";

// A body that cannot be read leaves what the columns hold, with
// `unreadable` saying so: the outbox then fails the delivery with that
// reason rather than sending an empty one or stalling the queue.
template <typename Statement>
absl::StatusOr<v1::Delivery> DeliveryRow(const Statement& stmt) {
  absl::StatusOr<v1::Delivery> d = stmt.template Proto<v1::Delivery>(1);
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

template <typename Statement>
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

// A fan-out's audience, completed by an InList of the components and ")":
// the subscribers whose status is ?4 (active) of those components.
inline constexpr const char* kAudience =
    "status = ?4 AND id IN (SELECT subscriber_id FROM subscriptions WHERE "
    "component_id IN ";

// "(?first, ?first+1, ...)" for `n` parameters; "(NULL)" for none.
inline std::string InList(int first, size_t n) {
  if (n == 0) return "(NULL)";
  std::string out = "(";
  for (size_t i = 0; i < n; ++i) {
    absl::StrAppend(&out, i == 0 ? "?" : ", ?", first + static_cast<int>(i));
  }
  return absl::StrCat(out, ")");
}

// Stores `subscriber` with its queryable columns and subscriptions.
template <typename Statement, typename Connection>
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
                  "INSERT INTO subscriptions(component_id, subscriber_id) "
                  "VALUES(?, ?) ON CONFLICT DO NOTHING");
    add.Bind(1, component).Bind(2, subscriber.id());
    if (auto st = add.Run(); !st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace herald::sql

#endif  // HERALD_SERVER_STORE_SQL_ROWS_H_
