// SqlTxn's reads (txn.h); included only by a dialect's txn.cc, which
// instantiates them.
#ifndef HERALD_SERVER_STORE_SQL_TXN_READS_INL_H_
#define HERALD_SERVER_STORE_SQL_TXN_READS_INL_H_

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
absl::StatusOr<v1::Incident> SqlTxn<Db>::GetIncident(int64_t id) {
  Statement s(db_, "SELECT id, body FROM incidents WHERE id = ?");
  s.Bind(1, id);
  return OneRow<v1::Incident>(s, absl::StrCat("no incident ", id));
}

template <typename Db>
absl::StatusOr<v1::Incident> SqlTxn<Db>::FindOpenIncident(
    const std::string& group_key) {
  Statement s(db_,
              "SELECT i.id, i.body FROM incident_groups g JOIN incidents i "
              "ON i.id = g.incident_id WHERE g.group_key = ? AND i.open = 1 "
              "ORDER BY i.id DESC LIMIT 1");
  s.Bind(1, group_key);
  return OneRow<v1::Incident>(
      s, absl::StrCat("no open incident for group ", group_key));
}

template <typename Db>
absl::StatusOr<v1::Incident> SqlTxn<Db>::FindLatestIncident(
    const std::string& group_key) {
  Statement s(db_,
              "SELECT i.id, i.body FROM incident_groups g JOIN incidents i "
              "ON i.id = g.incident_id WHERE g.group_key = ? "
              "ORDER BY i.id DESC LIMIT 1");
  s.Bind(1, group_key);
  return OneRow<v1::Incident>(
      s, absl::StrCat("no incident for group ", group_key));
}

template <typename Db>
absl::StatusOr<std::vector<v1::Alert>> SqlTxn<Db>::ListUnroutedAlerts() {
  Statement s(db_,
              "SELECT body FROM alerts WHERE unrouted = 1 "
              "ORDER BY incident_id DESC, fingerprint");
  return CollectProtos<v1::Alert>(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::RotaOverride>> SqlTxn<Db>::ListOverrides(
    const std::string& rota_id, absl::Time after) {
  Statement s(
      db_,
      "SELECT id, body FROM rota_overrides WHERE (? = '' OR rota_id = ?) "
      "AND ends_at > ? ORDER BY id");
  s.Bind(1, rota_id).Bind(2, rota_id).Bind(3, absl::ToUnixMicros(after));
  return CollectRows<v1::RotaOverride>(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::Job>> SqlTxn<Db>::ListDueJobs(absl::Time now,
                                                             int limit) {
  // The due_at column holds a lease's end while one runs (LeaseJob); the
  // body keeps the job's own time.
  Statement s(db_,
              "SELECT id, body FROM jobs WHERE done = 0 AND due_at <= ? "
              "ORDER BY due_at, id LIMIT ?");
  s.Bind(1, absl::ToUnixMicros(now)).Bind(2, int64_t{limit});
  return CollectRows<v1::Job>(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::Incident>> SqlTxn<Db>::ListIncidents(
    const IncidentFilter& f) {
  Statement s(db_,
              "SELECT id, body FROM incidents WHERE (open = 1 OR ? = 1) AND "
              "id < ? ORDER BY id DESC LIMIT ?");
  s.Bind(1, int64_t{f.include_resolved})
      .Bind(2, f.before_id > 0 ? f.before_id : kNoId)
      .Bind(3, f.limit > 0 ? int64_t{f.limit} : kNoLimit);
  return CollectRows<v1::Incident>(s);
}

template <typename Db>
absl::StatusOr<v1::Alert> SqlTxn<Db>::GetAlert(const std::string& fingerprint) {
  Statement s(db_, "SELECT body FROM alerts WHERE fingerprint = ?");
  s.Bind(1, fingerprint);
  return OneProto<v1::Alert>(s, absl::StrCat("no alert ", fingerprint));
}

template <typename Db>
absl::StatusOr<std::vector<v1::Alert>> SqlTxn<Db>::ListAlerts(
    int64_t incident_id) {
  Statement s(
      db_,
      "SELECT body FROM alerts WHERE incident_id = ? ORDER BY fingerprint");
  s.Bind(1, incident_id);
  return CollectProtos<v1::Alert>(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::Alert>> SqlTxn<Db>::ListAlertsPage(
    int64_t incident_id, const std::string& after_fingerprint, int limit) {
  Statement s(db_,
              "SELECT body FROM alerts WHERE incident_id = ? AND "
              "fingerprint > ? ORDER BY fingerprint LIMIT ?");
  s.Bind(1, incident_id).Bind(2, after_fingerprint).Bind(3, int64_t{limit});
  return CollectProtos<v1::Alert>(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::Alert>> SqlTxn<Db>::ListUnroutedAlertsPage(
    int64_t after_incident_id, const std::string& after_fingerprint,
    int limit) {
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

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::CountAlerts(int64_t incident_id) {
  Statement s(db_,
              "SELECT coalesce((SELECT alerts FROM incident_alert_counts "
              "WHERE incident_id = ?), 0)");
  s.Bind(1, incident_id);
  return Count(s);
}

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::CountUnroutedAlerts() {
  Statement s(db_, "SELECT count(*) FROM alerts WHERE unrouted = 1");
  return Count(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::Update>> SqlTxn<Db>::ListUpdates(
    int64_t incident_id) {
  Statement s(db_,
              "SELECT id, body FROM updates WHERE incident_id = ? ORDER BY id");
  s.Bind(1, incident_id);
  return CollectRows<v1::Update>(s);
}

template <typename Db>
absl::StatusOr<v1::Message> SqlTxn<Db>::GetMessage(int64_t id) {
  Statement s(db_, "SELECT id, body FROM messages WHERE id = ?");
  s.Bind(1, id);
  return OneRow<v1::Message>(s, absl::StrCat("no message ", id));
}

template <typename Db>
absl::StatusOr<std::vector<v1::Message>> SqlTxn<Db>::ListMessages(
    const MessageFilter& f) {
  // One indexed lookup per (incident, state): an incident collects many
  // superseded and published messages, and a draft lookup must not read
  // them all.
  const int64_t limit = f.limit > 0 ? int64_t{f.limit} : kNoLimit;
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

template <typename Db>
absl::StatusOr<std::vector<v1::TimelineEvent>> SqlTxn<Db>::ListTimeline(
    int64_t incident_id) {
  Statement s(
      db_, "SELECT id, body FROM timeline WHERE incident_id = ? ORDER BY id");
  s.Bind(1, incident_id);
  return CollectRows<v1::TimelineEvent>(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::TimelineEvent>> SqlTxn<Db>::ListTimelinePage(
    int64_t incident_id, int64_t after_id, int limit) {
  Statement s(db_,
              "SELECT id, body FROM timeline WHERE incident_id = ? AND "
              "id > ? ORDER BY id LIMIT ?");
  s.Bind(1, incident_id).Bind(2, after_id).Bind(3, int64_t{limit});
  return CollectRows<v1::TimelineEvent>(s);
}

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::CountTimeline(int64_t incident_id) {
  Statement s(db_, "SELECT count(*) FROM timeline WHERE incident_id = ?");
  s.Bind(1, incident_id);
  return Count(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::MessageVersion>> SqlTxn<Db>::ListMessageVersions(
    int64_t message_id) {
  Statement s(db_,
              "SELECT body FROM message_versions WHERE message_id = ? "
              "ORDER BY version");
  s.Bind(1, message_id);
  return CollectProtos<v1::MessageVersion>(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::AuditEntry>> SqlTxn<Db>::ListAudit(
    int64_t incident_id) {
  Statement s(db_,
              "SELECT id, body FROM audit WHERE (? = 0 OR incident_id = ?) "
              "ORDER BY id");
  s.Bind(1, incident_id).Bind(2, incident_id);
  return CollectRows<v1::AuditEntry>(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::AuditEntry>> SqlTxn<Db>::ListAuditPage(
    int64_t incident_id, int64_t after_id, int limit) {
  Statement s(db_,
              "SELECT id, body FROM audit WHERE (? = 0 OR incident_id = ?) "
              "AND id > ? ORDER BY id LIMIT ?");
  s.Bind(1, incident_id)
      .Bind(2, incident_id)
      .Bind(3, after_id)
      .Bind(4, int64_t{limit});
  return CollectRows<v1::AuditEntry>(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::Subscriber>> SqlTxn<Db>::ListSubscribers(
    const SubscriberFilter& filter) {
  Statement s(
      db_,
      "SELECT body FROM subscribers WHERE (? = 1 OR status <> ?) AND (? = '' "
      "OR "
      "id IN (SELECT subscriber_id FROM subscriptions WHERE component_id = "
      "?)) AND id > ? ORDER BY id LIMIT ?");
  s.Bind(1, int64_t{filter.include_unsubscribed})
      .Bind(2, int64_t{v1::SUBSCRIBER_STATUS_UNSUBSCRIBED})
      .Bind(3, filter.component_id)
      .Bind(4, filter.component_id)
      .Bind(5, filter.after_id)
      .Bind(6, filter.limit > 0 ? int64_t{filter.limit} : kNoLimit);
  return CollectProtos<v1::Subscriber>(s);
}

template <typename Db>
absl::StatusOr<v1::Subscriber> SqlTxn<Db>::GetSubscriber(
    const std::string& id) {
  Statement s(db_, "SELECT body FROM subscribers WHERE id = ?");
  s.Bind(1, id);
  return OneProto<v1::Subscriber>(s,
                                  absl::StrCat("no subscriber \"", id, "\""));
}

template <typename Db>
absl::StatusOr<v1::Subscriber> SqlTxn<Db>::FindSubscriberByEmail(
    const std::string& email) {
  Statement s(db_, "SELECT body FROM subscribers WHERE email = ? LIMIT 1");
  s.Bind(1, absl::AsciiStrToLower(email));
  return OneProto<v1::Subscriber>(
      s, absl::StrCat("no subscriber with email ", email));
}

template <typename Db>
absl::StatusOr<std::vector<v1::Subscriber>>
SqlTxn<Db>::ListSubscribersByAccount(const std::vector<std::string>& accounts) {
  if (accounts.empty()) return std::vector<v1::Subscriber>{};
  Statement s(db_, absl::StrCat("SELECT body FROM subscribers WHERE account "
                                "<> '' AND account IN ",
                                InList(1, accounts.size()), " ORDER BY id"));
  for (size_t i = 0; i < accounts.size(); ++i) {
    s.Bind(static_cast<int>(i) + 1, accounts[i]);
  }
  return CollectProtos<v1::Subscriber>(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::Subscriber>>
SqlTxn<Db>::ListPendingSubscribers() {
  Statement s(db_, "SELECT body FROM subscribers WHERE status = ? ORDER BY id");
  s.Bind(1, int64_t{v1::SUBSCRIBER_STATUS_PENDING});
  return CollectProtos<v1::Subscriber>(s);
}

template <typename Db>
absl::StatusOr<int64_t> SqlTxn<Db>::CountAudience(
    const std::vector<std::string>& component_ids) {
  Statement s(db_,
              absl::StrCat("SELECT count(*) FROM subscribers WHERE ", kAudience,
                           InList(5, component_ids.size()), ")"));
  s.Bind(4, int64_t{v1::SUBSCRIBER_STATUS_ACTIVE});
  for (size_t i = 0; i < component_ids.size(); ++i) {
    s.Bind(static_cast<int>(i) + 5, component_ids[i]);
  }
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  return s.Int(0);
}

template <typename Db>
absl::StatusOr<std::vector<TokenRecord>> SqlTxn<Db>::ListTokens() {
  Statement s(db_, "SELECT sha256, person_id FROM api_tokens ORDER BY sha256");
  std::vector<TokenRecord> out;
  while (true) {
    absl::StatusOr<bool> row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back({s.Text(0), s.Text(1)});
  }
}

template <typename Db>
absl::StatusOr<std::string> SqlTxn<Db>::GetExpiring(const std::string& kind,
                                                    const std::string& name,
                                                    absl::Time now) {
  Statement s(db_,
              "SELECT value FROM expiring WHERE kind = ? AND name = ? AND "
              "expires_at > ?");
  s.Bind(1, kind).Bind(2, name).Bind(3, absl::ToUnixMicros(now));
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    return absl::NotFoundError(absl::StrCat("no ", kind, " \"", name, "\""));
  }
  return s.Text(0);
}

template <typename Db>
absl::StatusOr<std::string> SqlTxn<Db>::GetSetting(const std::string& name) {
  Statement s(db_, "SELECT value FROM settings WHERE name = ?");
  s.Bind(1, name);
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    return absl::NotFoundError(absl::StrCat("no setting \"", name, "\""));
  }
  return s.Text(0);
}

template <typename Db>
absl::StatusOr<std::vector<v1::Amends>> SqlTxn<Db>::ListAmends(
    int64_t incident_id) {
  Statement s(db_,
              "SELECT id, body FROM amends WHERE incident_id = ? "
              "ORDER BY subscriber_id");
  s.Bind(1, incident_id);
  return CollectRows<v1::Amends>(s);
}

template <typename Db>
absl::StatusOr<v1::Amends> SqlTxn<Db>::GetAmends(int64_t id) {
  Statement s(db_, "SELECT id, body FROM amends WHERE id = ?");
  s.Bind(1, id);
  return OneRow<v1::Amends>(s, absl::StrCat("no amends ", id));
}

template <typename Db>
absl::StatusOr<v1::Amends> SqlTxn<Db>::FindAmends(
    int64_t incident_id, const std::string& subscriber_id) {
  Statement s(db_,
              "SELECT id, body FROM amends WHERE incident_id = ? AND "
              "subscriber_id = ?");
  s.Bind(1, incident_id).Bind(2, subscriber_id);
  return OneRow<v1::Amends>(s, absl::StrCat("no amends for ", subscriber_id,
                                            " of incident ", incident_id));
}

template <typename Db>
absl::StatusOr<std::vector<v1::ComponentState>>
SqlTxn<Db>::ListComponentStates() {
  Statement s(db_, "SELECT body FROM component_states ORDER BY component_id");
  return CollectProtos<v1::ComponentState>(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::Delivery>> SqlTxn<Db>::ListDueDeliveries(
    absl::Time now, int limit) {
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

template <typename Db>
absl::StatusOr<v1::Delivery> SqlTxn<Db>::GetDelivery(int64_t id) {
  Statement s(db_, absl::StrCat("SELECT ", kDeliveryColumns,
                                " FROM deliveries WHERE id = ?"));
  s.Bind(1, id);
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("no delivery ", id));
  return DeliveryRow(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::Delivery>> SqlTxn<Db>::ListDeliveries(
    int64_t message_id, int64_t incident_id) {
  Statement s(db_, absl::StrCat("SELECT ", kDeliveryColumns,
                                " FROM deliveries WHERE message_id = ? AND "
                                "(? <> 0 OR incident_id = ?) ORDER BY id"));
  s.Bind(1, message_id).Bind(2, message_id).Bind(3, incident_id);
  return CollectDeliveries(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::Delivery>> SqlTxn<Db>::ListDeliveriesPage(
    int64_t message_id, int64_t after_id, int limit) {
  Statement s(db_, absl::StrCat("SELECT ", kDeliveryColumns,
                                " FROM deliveries WHERE message_id = ? AND "
                                "id > ? ORDER BY id LIMIT ?"));
  s.Bind(1, message_id).Bind(2, after_id).Bind(3, int64_t{limit});
  return CollectDeliveries(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::Delivery>> SqlTxn<Db>::ListRecipientDeliveries(
    int64_t incident_id, const std::string& recipient) {
  Statement s(db_, absl::StrCat("SELECT ", kDeliveryColumns,
                                " FROM deliveries WHERE incident_id = ? AND "
                                "recipient = ? ORDER BY id"));
  s.Bind(1, incident_id).Bind(2, recipient);
  return CollectDeliveries(s);
}

template <typename Db>
absl::StatusOr<std::vector<v1::Delivery>> SqlTxn<Db>::ListFailedDeliveries(
    int64_t before_id, int limit) {
  Statement s(db_, absl::StrCat("SELECT ", kDeliveryColumns,
                                " FROM deliveries WHERE state = ? AND "
                                "id < ? ORDER BY id DESC LIMIT ?"));
  s.Bind(1, int64_t{v1::DELIVERY_STATE_FAILED})
      .Bind(2, before_id > 0 ? before_id : kNoId)
      .Bind(3, int64_t{limit});
  return CollectDeliveries(s);
}

template <typename Db>
absl::StatusOr<OutboxStats> SqlTxn<Db>::GetOutboxStats() {
  OutboxStats stats;
  for (const v1::DeliveryState state :
       {v1::DELIVERY_STATE_QUEUED, v1::DELIVERY_STATE_RETRYING,
        v1::DELIVERY_STATE_SENDING}) {
    // Both answered from deliveries_by_state; ids grow with queuing time.
    Statement count(db_,
                    "SELECT count(*), min(id) FROM deliveries WHERE state = ?");
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

}  // namespace herald::sql

#endif  // HERALD_SERVER_STORE_SQL_TXN_READS_INL_H_
