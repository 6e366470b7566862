#include "server/store/sqlite/rows.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace herald::sqlite {

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

std::string InList(int first, size_t n) {
  if (n == 0) return "(NULL)";
  std::string out = "(";
  for (size_t i = 0; i < n; ++i) {
    absl::StrAppend(&out, i == 0 ? "?" : ", ?", first + static_cast<int>(i));
  }
  return absl::StrCat(out, ")");
}

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
      fill.Bind(1, d.recipient()).Bind(2, Micros(d.created_at())).Bind(3, id);
      if (auto st = fill.Run(); !st.ok()) return st;
    }
    if (rows < kBatch) return absl::OkStatus();
  }
}

}  // namespace herald::sqlite
