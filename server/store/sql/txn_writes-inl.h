// SqlTxn's writes (txn.h); included only by a dialect's txn.cc, which
// instantiates them.
#ifndef HERALD_SERVER_STORE_SQL_TXN_WRITES_INL_H_
#define HERALD_SERVER_STORE_SQL_TXN_WRITES_INL_H_

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/store/sql/rows.h"
#include "server/store/sql/txn.h"

namespace herald::sql {

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::InsertIncident(
    const v1::Incident& incident) {
  Statement s(db_,
              "INSERT INTO incidents(group_key, open, body) VALUES(?, ?, ?) "
              "ON CONFLICT DO NOTHING RETURNING id");
  s.Bind(1, incident.group_key())
      .Bind(2, int64_t{!incident.has_resolved_at()})
      .BindProto(3, incident);
  absl::StatusOr<int64_t> id =
      InsertReturningId(s, absl::StrCat("an unresolved incident of group ",
                                        incident.group_key(), " exists"));
  if (!id.ok()) return id.status();
  v1::Incident stored = incident;
  stored.set_id(*id);
  if (auto st = IndexGroups(stored); !st.ok()) return st;
  return id;
}

template <typename Db>
absl::Status SqlTxn<Db>::UpdateIncident(const v1::Incident& incident) {
  Statement s(
      db_,
      "UPDATE incidents SET group_key = ?, open = ?, body = ? WHERE id = ?");
  s.Bind(1, incident.group_key())
      .Bind(2, int64_t{!incident.has_resolved_at()})
      .BindProto(3, incident)
      .Bind(4, incident.id());
  if (auto st = s.Run(); !st.ok()) return st;
  if (auto st = RequireChange(s, absl::StrCat("no incident ", incident.id()));
      !st.ok()) {
    return st;
  }
  return IndexGroups(incident);
}

template <typename Db>
absl::Status SqlTxn<Db>::PutAlert(const v1::Alert& alert) {
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

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::InsertUpdate(const v1::Update& update) {
  Statement s(
      db_, "INSERT INTO updates(incident_id, body) VALUES(?, ?) RETURNING id");
  s.Bind(1, update.incident_id()).BindProto(2, update);
  return InsertReturningId(s);
}

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::InsertMessage(const v1::Message& message) {
  Statement s(db_,
              "INSERT INTO messages(incident_id, state, body) VALUES(?, ?, "
              "?) RETURNING id");
  s.Bind(1, message.incident_id())
      .Bind(2, int64_t{message.state()})
      .BindProto(3, message);
  return InsertReturningId(s);
}

template <typename Db>
absl::Status SqlTxn<Db>::UpdateMessage(const v1::Message& message) {
  Statement s(db_,
              "UPDATE messages SET incident_id = ?, state = ?, body = ? "
              "WHERE id = ?");
  s.Bind(1, message.incident_id())
      .Bind(2, int64_t{message.state()})
      .BindProto(3, message)
      .Bind(4, message.id());
  if (auto st = s.Run(); !st.ok()) return st;
  return RequireChange(s, absl::StrCat("no message ", message.id()));
}

template <typename Db>
absl::Status SqlTxn<Db>::AppendTimeline(const v1::TimelineEvent& event) {
  Statement s(
      db_, "INSERT INTO timeline(incident_id, body) VALUES(?, ?) RETURNING id");
  s.Bind(1, event.incident_id()).BindProto(2, event);
  return InsertReturningId(s).status();
}

template <typename Db>
absl::Status SqlTxn<Db>::InsertMessageVersion(const v1::MessageVersion& v) {
  Statement s(db_,
              "INSERT INTO message_versions(message_id, version, body) "
              "VALUES(?, ?, ?) ON CONFLICT DO NOTHING");
  s.Bind(1, v.message_id()).Bind(2, int64_t{v.version()}).BindProto(3, v);
  if (auto st = s.Run(); !st.ok()) return st;
  if (s.Changes() == 0) {
    return absl::AlreadyExistsError(absl::StrCat(
        "message ", v.message_id(), " already has version ", v.version()));
  }
  return absl::OkStatus();
}

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::AppendAudit(const v1::AuditEntry& entry) {
  Statement s(db_,
              "INSERT INTO audit(incident_id, body) VALUES(?, ?) RETURNING id");
  s.Bind(1, entry.incident_id()).BindProto(2, entry);
  return InsertReturningId(s);
}

template <typename Db>
absl::Status SqlTxn<Db>::PutSubscriber(const v1::Subscriber& subscriber) {
  return WriteSubscriber<Statement>(db_, subscriber);
}

template <typename Db>
absl::Status SqlTxn<Db>::DeleteSubscriber(const std::string& id) {
  Statement clear(db_, "DELETE FROM subscriptions WHERE subscriber_id = ?");
  clear.Bind(1, id);
  if (auto st = clear.Run(); !st.ok()) return st;
  Statement s(db_, "DELETE FROM subscribers WHERE id = ?");
  s.Bind(1, id);
  if (auto st = s.Run(); !st.ok()) return st;
  return RequireChange(s, absl::StrCat("no subscriber \"", id, "\""));
}

template <typename Db>
absl::Status SqlTxn<Db>::PutToken(const TokenRecord& token) {
  Statement s(
      db_,
      "INSERT INTO api_tokens(sha256, person_id) VALUES(?, ?) "
      "ON CONFLICT(sha256) DO UPDATE SET person_id = excluded.person_id");
  s.Bind(1, token.sha256_hex).Bind(2, token.person_id);
  return s.Run();
}

template <typename Db>
absl::Status SqlTxn<Db>::PutSetting(const std::string& name,
                                    const std::string& value) {
  // A blob: a setting may be raw bytes (a key), which text may not hold.
  Statement s(db_,
              "INSERT INTO settings(name, value) VALUES(?, ?) "
              "ON CONFLICT(name) DO UPDATE SET value = excluded.value");
  s.Bind(1, name).BindBlob(2, value);
  return s.Run();
}

template <typename Db>
absl::Status SqlTxn<Db>::PutExpiring(const std::string& kind,
                                     const std::string& name,
                                     const std::string& value,
                                     absl::Time expires) {
  Statement s(db_,
              "INSERT INTO expiring(kind, name, value, expires_at) "
              "VALUES(?, ?, ?, ?) ON CONFLICT(kind, name) DO UPDATE SET "
              "value = excluded.value, expires_at = excluded.expires_at");
  s.Bind(1, kind).Bind(2, name).BindBlob(3, value).Bind(
      4, absl::ToUnixMicros(expires));
  return s.Run();
}

template <typename Db>
absl::Status SqlTxn<Db>::DeleteExpiring(const std::string& kind,
                                        const std::string& name) {
  Statement s(db_, "DELETE FROM expiring WHERE kind = ? AND name = ?");
  s.Bind(1, kind).Bind(2, name);
  return s.Run();
}

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::PurgeExpired(absl::Time now, int limit) {
  Statement s(db_,
              "DELETE FROM expiring WHERE (kind, name) IN (SELECT kind, name "
              "FROM expiring WHERE expires_at <= ? LIMIT ?)");
  s.Bind(1, absl::ToUnixMicros(now)).Bind(2, int64_t{limit});
  if (auto st = s.Run(); !st.ok()) return st;
  return s.Changes();
}

template <typename Db>
absl::Status SqlTxn<Db>::PutComponentState(const v1::ComponentState& state) {
  Statement s(db_,
              "INSERT INTO component_states(component_id, body) VALUES(?, ?) "
              "ON CONFLICT(component_id) DO UPDATE SET body = excluded.body");
  s.Bind(1, state.component_id()).BindProto(2, state);
  return s.Run();
}

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::InsertAmends(const v1::Amends& amends) {
  Statement s(db_,
              "INSERT INTO amends(incident_id, subscriber_id, voucher_code, "
              "body) VALUES(?, ?, NULLIF(?, ''), ?) ON CONFLICT DO NOTHING "
              "RETURNING id");
  s.Bind(1, amends.incident_id())
      .Bind(2, amends.subscriber_id())
      .Bind(3, amends.credit().voucher_code())
      .BindProto(4, amends);
  return InsertReturningId(s, absl::StrCat("incident ", amends.incident_id(),
                                           " already has amends "
                                           "for ",
                                           amends.subscriber_id(),
                                           ", or its voucher "
                                           "code is taken"));
}

template <typename Db>
absl::Status SqlTxn<Db>::UpdateAmends(const v1::Amends& amends) {
  Statement s(db_,
              "UPDATE amends SET voucher_code = NULLIF(?, ''), body = ? "
              "WHERE id = ?");
  s.Bind(1, amends.credit().voucher_code())
      .BindProto(2, amends)
      .Bind(3, amends.id());
  if (auto st = s.Run(); !st.ok()) return st;
  return RequireChange(s, absl::StrCat("no amends ", amends.id()));
}

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::InsertOverride(
    const v1::RotaOverride& override) {
  Statement s(db_,
              "INSERT INTO rota_overrides(rota_id, ends_at, body) "
              "VALUES(?, ?, ?) RETURNING id");
  s.Bind(1, override.rota_id())
      .Bind(2, Micros(override.ends_at()))
      .BindProto(3, override);
  return InsertReturningId(s);
}

template <typename Db>
absl::Status SqlTxn<Db>::DeleteOverride(int64_t id) {
  Statement s(db_, "DELETE FROM rota_overrides WHERE id = ?");
  s.Bind(1, id);
  if (auto st = s.Run(); !st.ok()) return st;
  return RequireChange(s, absl::StrCat("no override ", id));
}

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::InsertJob(const v1::Job& job) {
  Statement s(db_,
              "INSERT INTO jobs(done, due_at, body) VALUES(?, ?, ?) "
              "RETURNING id");
  s.Bind(1, int64_t{job.done()})
      .Bind(2, Micros(job.due_at()))
      .BindProto(3, job);
  return InsertReturningId(s);
}

template <typename Db>
absl::Status SqlTxn<Db>::UpdateJob(const v1::Job& job) {
  Statement s(db_,
              "UPDATE jobs SET done = ?, due_at = ?, body = ? WHERE id = ?");
  s.Bind(1, int64_t{job.done()})
      .Bind(2, Micros(job.due_at()))
      .BindProto(3, job)
      .Bind(4, job.id());
  if (auto st = s.Run(); !st.ok()) return st;
  return RequireChange(s, absl::StrCat("no job ", job.id()));
}

template <typename Db>
absl::Status SqlTxn<Db>::LeaseJob(int64_t id, absl::Time until) {
  Statement s(db_, "UPDATE jobs SET due_at = ? WHERE id = ?");
  s.Bind(1, absl::ToUnixMicros(until)).Bind(2, id);
  if (auto st = s.Run(); !st.ok()) return st;
  return RequireChange(s, absl::StrCat("no job ", id));
}

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::InsertDelivery(
    const v1::Delivery& delivery) {
  Statement s(
      db_,
      "INSERT INTO deliveries(message_id, incident_id, "
      "idempotency_key, state, next_attempt_at, body, recipient, "
      "created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING "
      "RETURNING id");
  s.Bind(1, delivery.message_id())
      .Bind(2, delivery.incident_id())
      .Bind(3, delivery.idempotency_key())
      .Bind(4, int64_t{delivery.state()})
      .Bind(5, Micros(delivery.next_attempt_at()))
      .BindProto(6, delivery)
      .Bind(7, delivery.recipient())
      .Bind(8, Micros(delivery.created_at()));
  return InsertReturningId(s,
                           absl::StrCat("a delivery with idempotency key ",
                                        delivery.idempotency_key(), " exists"));
}

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::EnqueueFanOut(const FanOut& fan_out) {
  // The audience, as the rows of subscribers s: ?1 message, ?2 incident,
  // ?4 active, ?6.. the components.
  std::string audience;
  if (fan_out.to_amends) {
    audience =
        "subscribers s JOIN amends a ON a.subscriber_id = s.id WHERE "
        "a.incident_id = ?2 AND s.status = ?4";
  } else if (fan_out.to_told) {
    audience = absl::StrCat(
        "subscribers s WHERE s.status = ?4 AND EXISTS (SELECT 1 FROM "
        "deliveries d WHERE d.incident_id = ?2 AND d.recipient = "
        "'subscriber:' || s.id AND d.message_id <> ?1 AND d.state NOT IN (",
        int64_t{v1::DELIVERY_STATE_FAILED}, ", ",
        int64_t{v1::DELIVERY_STATE_CANCELLED}, ", ",
        int64_t{v1::DELIVERY_STATE_SUPERSEDED}, "))");
  } else {
    audience = absl::StrCat("subscribers s WHERE ", kAudience,
                            InList(6, fan_out.component_ids.size()), ")");
  }
  // ?3 now, ?5 the body: none, the columns say all.
  Statement s(
      db_,
      absl::StrCat(
          "INSERT INTO deliveries(message_id, incident_id, "
          "idempotency_key, state, next_attempt_at, body, recipient, "
          "created_at) SELECT ?1, ?2, 'msg-' || ?1 || '-subscriber-' || s.id, ",
          int64_t{v1::DELIVERY_STATE_QUEUED},
          ", ?3, ?5, 'subscriber:' || s.id, ?3 FROM ", audience,
          " ORDER BY s.id ON CONFLICT DO NOTHING"));
  s.Bind(1, fan_out.message_id)
      .Bind(2, fan_out.incident_id)
      .Bind(3, absl::ToUnixMicros(fan_out.now))
      .Bind(4, int64_t{v1::SUBSCRIBER_STATUS_ACTIVE})
      .BindBlob(5, "");
  if (!fan_out.to_amends && !fan_out.to_told) {
    for (size_t i = 0; i < fan_out.component_ids.size(); ++i) {
      s.Bind(static_cast<int>(i) + 6, fan_out.component_ids[i]);
    }
  }
  if (auto st = s.Run(); !st.ok()) return st;
  return s.Changes();
}

template <typename Db>
absl::Status SqlTxn<Db>::UpdateDelivery(const v1::Delivery& delivery) {
  Statement s(db_,
              "UPDATE deliveries SET state = ?, next_attempt_at = ?, body = "
              "?, waiting_on = ? WHERE id = ?");
  s.Bind(1, int64_t{delivery.state()})
      .Bind(2, Micros(delivery.next_attempt_at()))
      .BindProto(3, delivery)
      .Bind(4, int64_t{delivery.waiting_on()})
      .Bind(5, delivery.id());
  if (auto st = s.Run(); !st.ok()) return st;
  return RequireChange(s, absl::StrCat("no delivery ", delivery.id()));
}

template <typename Db>
absl::StatusOr<int> SqlTxn<Db>::ReleaseWaitingDeliveries(
    v1::ChannelKind channel, absl::Time now) {
  // The column wins over the body's next_attempt_at (DeliveryRow).
  Statement s(db_,
              "UPDATE deliveries SET next_attempt_at = ? WHERE waiting_on = "
              "? AND waiting_on <> 0 AND state = ?");  // deliveries_waiting
  s.Bind(1, absl::ToUnixMicros(now))
      .Bind(2, int64_t{channel})
      .Bind(3, int64_t{v1::DELIVERY_STATE_RETRYING});
  if (auto st = s.Run(); !st.ok()) return st;
  return static_cast<int>(s.Changes());
}

template <typename Db>
absl::StatusOr<int> SqlTxn<Db>::RequeueInterruptedDeliveries(absl::Time now) {
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

template <typename Db>
absl::Status SqlTxn<Db>::IndexGroups(const v1::Incident& incident) {
  const auto& attached = incident.attached_group_keys();
  const int64_t total =
      attached.size() + (incident.group_key().empty() ? 0 : 1);
  Statement count(db_,
                  "SELECT count(*) FROM incident_groups WHERE incident_id = ?");
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
        "INSERT INTO incident_groups(group_key, incident_id) VALUES(?, ?) "
        "ON CONFLICT DO NOTHING");
    add.Bind(1, key).Bind(2, incident.id());
    if (auto st = add.Run(); !st.ok()) return st;
  }
  return absl::OkStatus();
}

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::InsertReturningId(
    Statement& s, absl::string_view conflict) {
  absl::StatusOr<bool> stepped = s.Step();
  if (!stepped.ok()) return stepped.status();
  if (!*stepped) return absl::AlreadyExistsError(conflict);
  const int64_t id = s.Int(0);
  if (absl::StatusOr<bool> done = s.Step(); !done.ok()) return done.status();
  return id;
}

}  // namespace herald::sql

#endif  // HERALD_SERVER_STORE_SQL_TXN_WRITES_INL_H_
