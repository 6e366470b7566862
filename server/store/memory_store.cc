#include "server/store/memory_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/base/proto_time.h"
#include "server/base/text.h"

namespace herald {
namespace {

// As the SQLite store: a record whose text is not valid UTF-8 is refused
// (InvalidArgument naming the field), never stored.
absl::Status Storable(const google::protobuf::Message& record) {
  return CheckUtf8Fields(record,
                         absl::StrCat(record.GetDescriptor()->name(), "."));
}

struct State {
  // One id sequence per table, as SQL's INTEGER PRIMARY KEY gives.
  struct {
    int64_t incidents = 0, updates = 0, messages = 0, timeline = 0,
            deliveries = 0, overrides = 0, jobs = 0, audit = 0, amends = 0;
  } last_id;
  std::map<int64_t, v1::Incident> incidents;
  std::map<std::string, v1::Alert> alerts;
  std::map<int64_t, v1::Update> updates;
  std::map<int64_t, v1::Message> messages;
  std::map<int64_t, v1::TimelineEvent> timeline;
  std::map<std::string, v1::Subscriber> subscribers;
  std::map<std::string, std::string> tokens;
  std::map<std::string, std::string> settings;  // by name
  std::map<std::string, v1::ComponentState> components;
  std::map<int64_t, v1::Delivery> deliveries;
  std::map<int64_t, v1::RotaOverride> overrides;
  std::map<int64_t, v1::Job> jobs;
  std::map<int64_t, absl::Time> job_leases;  // LeaseJob: held till then
  std::map<std::pair<int64_t, int32_t>, v1::MessageVersion> versions;
  std::map<int64_t, v1::AuditEntry> audit;
  std::map<int64_t, v1::Amends> amends;
};

bool SubscribesToAny(const v1::Subscriber& s,
                     const std::vector<std::string>& component_ids) {
  for (const std::string& c : s.component_ids()) {
    if (std::find(component_ids.begin(), component_ids.end(), c) !=
        component_ids.end()) {
      return true;
    }
  }
  return false;
}

bool IsActive(const v1::Subscriber& s) {
  return s.status() == v1::SUBSCRIBER_STATUS_ACTIVE ||
         s.status() == v1::SUBSCRIBER_STATUS_UNSPECIFIED;
}

bool InAudience(const v1::Subscriber& s,
                const std::vector<std::string>& component_ids) {
  return IsActive(s) && SubscribesToAny(s, component_ids);
}

template <typename T, typename Pred>
std::vector<T> Select(const std::map<int64_t, T>& rows, Pred pred) {
  std::vector<T> out;
  for (const auto& [id, row] : rows) {
    if (pred(row)) out.push_back(row);
  }
  return out;
}

// `rows` cut to its first `limit` (0: all, as the filters' limits).
template <typename T>
std::vector<T> Limited(std::vector<T> rows, int limit) {
  if (limit > 0 && rows.size() > static_cast<size_t>(limit)) rows.resize(limit);
  return rows;
}

// `rows` cut to its first `limit`, taken literally (as SQL's LIMIT, for the
// page reads).
template <typename T>
std::vector<T> First(std::vector<T> rows, int limit) {
  rows.resize(std::min(rows.size(), static_cast<size_t>(std::max(limit, 0))));
  return rows;
}

bool IsOpen(const v1::Incident& i) { return !i.has_resolved_at(); }

bool HasGroup(const v1::Incident& i, const std::string& group_key) {
  if (i.group_key() == group_key) return true;
  for (const auto& g : i.attached_group_keys()) {
    if (g == group_key) return true;
  }
  return false;
}

class MemoryTxn final : public StoreTxn {
 public:
  explicit MemoryTxn(State& s) : s_(s) {}

  absl::StatusOr<v1::Incident> GetIncident(int64_t id) override {
    auto it = s_.incidents.find(id);
    if (it == s_.incidents.end())
      return absl::NotFoundError(absl::StrCat("no incident ", id));
    return it->second;
  }
  absl::StatusOr<v1::Incident> FindOpenIncident(
      const std::string& group_key) override {
    for (const auto& [id, i] : s_.incidents) {
      if (IsOpen(i) && HasGroup(i, group_key)) return i;
    }
    return absl::NotFoundError(
        absl::StrCat("no open incident for group ", group_key));
  }
  absl::StatusOr<v1::Incident> FindLatestIncident(
      const std::string& group_key) override {
    for (auto it = s_.incidents.rbegin(); it != s_.incidents.rend(); ++it) {
      if (HasGroup(it->second, group_key)) return it->second;
    }
    return absl::NotFoundError(
        absl::StrCat("no incident for group ", group_key));
  }
  absl::StatusOr<std::vector<v1::Alert>> ListUnroutedAlerts() override {
    std::vector<v1::Alert> out;
    for (const auto& [fp, a] : s_.alerts) {
      if (a.unrouted()) out.push_back(a);
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const v1::Alert& a, const v1::Alert& b) {
                       return a.incident_id() > b.incident_id();
                     });
    return out;
  }
  absl::StatusOr<std::vector<v1::Amends>> ListAmends(
      int64_t incident_id) override {
    std::vector<v1::Amends> out = Select(s_.amends, [&](const v1::Amends& a) {
      return a.incident_id() == incident_id;
    });
    std::sort(out.begin(), out.end(),
              [](const v1::Amends& a, const v1::Amends& b) {
                return a.subscriber_id() < b.subscriber_id();
              });
    return out;
  }
  absl::StatusOr<v1::Amends> GetAmends(int64_t id) override {
    auto it = s_.amends.find(id);
    if (it == s_.amends.end()) {
      return absl::NotFoundError(absl::StrCat("no amends ", id));
    }
    return it->second;
  }
  absl::StatusOr<v1::Amends> FindAmends(
      int64_t incident_id, const std::string& subscriber_id) override {
    for (const auto& [id, a] : s_.amends) {
      if (a.incident_id() == incident_id && a.subscriber_id() == subscriber_id)
        return a;
    }
    return absl::NotFoundError(absl::StrCat("no amends for ", subscriber_id,
                                            " of incident ", incident_id));
  }
  absl::StatusOr<std::vector<v1::RotaOverride>> ListOverrides(
      const std::string& rota_id, absl::Time after) override {
    return Select(s_.overrides, [&](const v1::RotaOverride& o) {
      return (rota_id.empty() || o.rota_id() == rota_id) &&
             FromProtoTime(o.ends_at()) > after;
    });
  }
  absl::StatusOr<std::vector<v1::Job>> ListDueJobs(absl::Time now,
                                                   int limit) override {
    auto out = Select(s_.jobs, [&](const v1::Job& j) {
      const auto lease = s_.job_leases.find(j.id());
      return !j.done() && FromProtoTime(j.due_at()) <= now &&
             (lease == s_.job_leases.end() || lease->second <= now);
    });
    std::stable_sort(
        out.begin(), out.end(), [](const v1::Job& a, const v1::Job& b) {
          return FromProtoTime(a.due_at()) < FromProtoTime(b.due_at());
        });
    if (static_cast<int>(out.size()) > limit) out.resize(limit);
    return out;
  }
  absl::StatusOr<OutboxStats> GetOutboxStats() override {
    OutboxStats stats;
    for (const auto& [id, d] : s_.deliveries) {
      if (d.state() != v1::DELIVERY_STATE_QUEUED &&
          d.state() != v1::DELIVERY_STATE_RETRYING &&
          d.state() != v1::DELIVERY_STATE_SENDING) {
        continue;
      }
      if (stats.pending++ == 0) {
        stats.oldest_queued_at = FromProtoTime(d.created_at());
      }
    }
    return stats;
  }
  absl::StatusOr<std::vector<v1::Incident>> ListIncidents(
      const IncidentFilter& f) override {
    auto out = Select(s_.incidents, [&](const v1::Incident& i) {
      return (f.include_resolved || IsOpen(i)) &&
             (f.before_id == 0 || i.id() < f.before_id);
    });
    std::reverse(out.begin(), out.end());
    return Limited(std::move(out), f.limit);
  }
  absl::StatusOr<v1::Alert> GetAlert(const std::string& fingerprint) override {
    auto it = s_.alerts.find(fingerprint);
    if (it == s_.alerts.end())
      return absl::NotFoundError(absl::StrCat("no alert ", fingerprint));
    return it->second;
  }
  absl::StatusOr<std::vector<v1::Alert>> ListAlerts(
      int64_t incident_id) override {
    std::vector<v1::Alert> out;
    for (const auto& [fp, a] : s_.alerts) {
      if (a.incident_id() == incident_id) out.push_back(a);
    }
    return out;
  }
  absl::StatusOr<std::vector<v1::Alert>> ListAlertsPage(
      int64_t incident_id, const std::string& after_fingerprint,
      int limit) override {
    std::vector<v1::Alert> out;
    for (auto it = s_.alerts.upper_bound(after_fingerprint);
         it != s_.alerts.end() && static_cast<int>(out.size()) < limit; ++it) {
      if (it->second.incident_id() == incident_id) out.push_back(it->second);
    }
    return out;
  }
  absl::StatusOr<std::vector<v1::Alert>> ListUnroutedAlertsPage(
      int64_t after_incident_id, const std::string& after_fingerprint,
      int limit) override {
    absl::StatusOr<std::vector<v1::Alert>> all = ListUnroutedAlerts();
    if (!all.ok()) return all.status();
    std::vector<v1::Alert> out;
    for (v1::Alert& a : *all) {
      if (static_cast<int>(out.size()) >= limit) break;
      const bool after = after_fingerprint.empty() ||
                         a.incident_id() < after_incident_id ||
                         (a.incident_id() == after_incident_id &&
                          a.fingerprint() > after_fingerprint);
      if (after) out.push_back(std::move(a));
    }
    return out;
  }
  absl::StatusOr<int64_t> CountAlerts(int64_t incident_id) override {
    int64_t n = 0;
    for (const auto& [fp, a] : s_.alerts) n += a.incident_id() == incident_id;
    return n;
  }
  absl::StatusOr<int64_t> CountUnroutedAlerts() override {
    int64_t n = 0;
    for (const auto& [fp, a] : s_.alerts) n += a.unrouted();
    return n;
  }
  absl::StatusOr<std::vector<v1::Update>> ListUpdates(
      int64_t incident_id) override {
    return Select(s_.updates, [&](const v1::Update& u) {
      return u.incident_id() == incident_id;
    });
  }
  absl::StatusOr<v1::Message> GetMessage(int64_t id) override {
    auto it = s_.messages.find(id);
    if (it == s_.messages.end())
      return absl::NotFoundError(absl::StrCat("no message ", id));
    return it->second;
  }
  absl::StatusOr<std::vector<v1::Message>> ListMessages(
      const MessageFilter& f) override {
    return Limited(
        Select(s_.messages,
               [&](const v1::Message& m) {
                 if (m.id() <= f.after_id) return false;
                 if (f.incident_id != 0 && m.incident_id() != f.incident_id)
                   return false;
                 return f.states.empty() ||
                        std::find(f.states.begin(), f.states.end(),
                                  m.state()) != f.states.end();
               }),
        f.limit);
  }
  absl::StatusOr<std::vector<v1::TimelineEvent>> ListTimeline(
      int64_t incident_id) override {
    return Select(s_.timeline, [&](const v1::TimelineEvent& e) {
      return e.incident_id() == incident_id;
    });
  }
  absl::StatusOr<std::vector<v1::TimelineEvent>> ListTimelinePage(
      int64_t incident_id, int64_t after_id, int limit) override {
    std::vector<v1::TimelineEvent> out;
    for (auto it = s_.timeline.upper_bound(after_id);
         it != s_.timeline.end() && static_cast<int>(out.size()) < limit;
         ++it) {
      if (it->second.incident_id() == incident_id) out.push_back(it->second);
    }
    return out;
  }
  absl::StatusOr<int64_t> CountTimeline(int64_t incident_id) override {
    int64_t n = 0;
    for (const auto& [id, e] : s_.timeline) n += e.incident_id() == incident_id;
    return n;
  }
  absl::StatusOr<std::vector<v1::MessageVersion>> ListMessageVersions(
      int64_t message_id) override {
    std::vector<v1::MessageVersion> out;
    for (auto it = s_.versions.lower_bound({message_id, 0});
         it != s_.versions.end() && it->first.first == message_id; ++it) {
      out.push_back(it->second);
    }
    return out;
  }
  absl::StatusOr<std::vector<v1::AuditEntry>> ListAudit(
      int64_t incident_id) override {
    return Select(s_.audit, [&](const v1::AuditEntry& e) {
      return incident_id == 0 || e.incident_id() == incident_id;
    });
  }
  absl::StatusOr<std::vector<v1::AuditEntry>> ListAuditPage(
      int64_t incident_id, int64_t after_id, int limit) override {
    return First(
        Select(s_.audit,
               [&](const v1::AuditEntry& e) {
                 return e.id() > after_id &&
                        (incident_id == 0 || e.incident_id() == incident_id);
               }),
        limit);
  }
  absl::StatusOr<std::vector<v1::Subscriber>> ListSubscribers(
      const SubscriberFilter& filter) override {
    std::vector<v1::Subscriber> out;
    for (auto it = s_.subscribers.upper_bound(filter.after_id);
         it != s_.subscribers.end(); ++it) {
      const v1::Subscriber& s = it->second;
      if (filter.limit > 0 && static_cast<int>(out.size()) >= filter.limit) {
        break;
      }
      if (!filter.include_unsubscribed &&
          s.status() == v1::SUBSCRIBER_STATUS_UNSUBSCRIBED) {
        continue;
      }
      if (!filter.component_id.empty() &&
          !SubscribesToAny(s, {filter.component_id})) {
        continue;
      }
      out.push_back(s);
    }
    return out;
  }
  absl::StatusOr<v1::Subscriber> GetSubscriber(const std::string& id) override {
    auto it = s_.subscribers.find(id);
    if (it == s_.subscribers.end())
      return absl::NotFoundError(absl::StrCat("no subscriber \"", id, "\""));
    return it->second;
  }
  absl::StatusOr<v1::Subscriber> FindSubscriberByEmail(
      const std::string& email) override {
    for (const auto& [id, s] : s_.subscribers) {
      if (!s.email().empty() && absl::EqualsIgnoreCase(s.email(), email)) {
        return s;
      }
    }
    return absl::NotFoundError(
        absl::StrCat("no subscriber with email ", email));
  }
  absl::StatusOr<std::vector<v1::Subscriber>> ListSubscribersByAccount(
      const std::vector<std::string>& accounts) override {
    std::vector<v1::Subscriber> out;
    for (const auto& [id, s] : s_.subscribers) {
      if (!s.account().empty() && std::find(accounts.begin(), accounts.end(),
                                            s.account()) != accounts.end()) {
        out.push_back(s);
      }
    }
    return out;
  }
  absl::StatusOr<std::vector<v1::Subscriber>> ListPendingSubscribers()
      override {
    std::vector<v1::Subscriber> out;
    for (const auto& [id, s] : s_.subscribers) {
      if (s.status() == v1::SUBSCRIBER_STATUS_PENDING) out.push_back(s);
    }
    return out;
  }
  absl::StatusOr<int64_t> CountAudience(
      const std::vector<std::string>& component_ids) override {
    int64_t n = 0;
    for (const auto& [id, s] : s_.subscribers) {
      if (InAudience(s, component_ids)) ++n;
    }
    return n;
  }
  absl::StatusOr<std::vector<TokenRecord>> ListTokens() override {
    std::vector<TokenRecord> out;
    for (const auto& [hash, person] : s_.tokens) out.push_back({hash, person});
    return out;
  }
  absl::StatusOr<std::string> GetSetting(const std::string& name) override {
    auto it = s_.settings.find(name);
    if (it == s_.settings.end()) {
      return absl::NotFoundError(absl::StrCat("no setting \"", name, "\""));
    }
    return it->second;
  }
  absl::StatusOr<std::vector<v1::ComponentState>> ListComponentStates()
      override {
    std::vector<v1::ComponentState> out;
    for (const auto& [id, c] : s_.components) out.push_back(c);
    return out;
  }
  absl::StatusOr<std::vector<v1::Delivery>> ListDueDeliveries(
      absl::Time now, int limit) override {
    auto out = Select(s_.deliveries, [&](const v1::Delivery& d) {
      return (d.state() == v1::DELIVERY_STATE_QUEUED ||
              d.state() == v1::DELIVERY_STATE_RETRYING ||
              d.state() == v1::DELIVERY_STATE_SENDING) &&
             FromProtoTime(d.next_attempt_at()) <= now;
    });
    std::stable_sort(out.begin(), out.end(),
                     [](const v1::Delivery& a, const v1::Delivery& b) {
                       return FromProtoTime(a.next_attempt_at()) <
                              FromProtoTime(b.next_attempt_at());
                     });
    if (static_cast<int>(out.size()) > limit) out.resize(limit);
    return out;
  }
  absl::StatusOr<v1::Delivery> GetDelivery(int64_t id) override {
    auto it = s_.deliveries.find(id);
    if (it == s_.deliveries.end())
      return absl::NotFoundError(absl::StrCat("no delivery ", id));
    return it->second;
  }
  absl::StatusOr<std::vector<v1::Delivery>> ListDeliveries(
      int64_t message_id, int64_t incident_id) override {
    return Select(s_.deliveries, [&](const v1::Delivery& d) {
      return d.message_id() == message_id &&
             (message_id != 0 || d.incident_id() == incident_id);
    });
  }

  absl::StatusOr<std::vector<v1::Delivery>> ListDeliveriesPage(
      int64_t message_id, int64_t after_id, int limit) override {
    return First(Select(s_.deliveries,
                        [&](const v1::Delivery& d) {
                          return d.message_id() == message_id &&
                                 d.id() > after_id;
                        }),
                 limit);
  }

  absl::StatusOr<std::vector<v1::Delivery>> ListRecipientDeliveries(
      int64_t incident_id, const std::string& recipient) override {
    return Select(s_.deliveries, [&](const v1::Delivery& d) {
      return d.incident_id() == incident_id && d.recipient() == recipient;
    });
  }

  absl::StatusOr<std::vector<v1::Delivery>> ListFailedDeliveries(
      int64_t before_id, int limit) override {
    auto out = Select(s_.deliveries, [&](const v1::Delivery& d) {
      return d.state() == v1::DELIVERY_STATE_FAILED &&
             (before_id == 0 || d.id() < before_id);
    });
    std::reverse(out.begin(), out.end());
    return First(std::move(out), limit);
  }

  absl::StatusOr<int64_t> InsertIncident(
      const v1::Incident& incident) override {
    if (auto st = Storable(incident); !st.ok()) return st;
    if (!incident.group_key().empty() &&
        FindOpenIncident(incident.group_key()).ok()) {
      return absl::AlreadyExistsError("an open incident exists for this group");
    }
    const int64_t id = ++s_.last_id.incidents;
    v1::Incident row = incident;
    row.set_id(id);
    s_.incidents[id] = std::move(row);
    return id;
  }
  absl::Status UpdateIncident(const v1::Incident& incident) override {
    if (auto st = Storable(incident); !st.ok()) return st;
    auto it = s_.incidents.find(incident.id());
    if (it == s_.incidents.end())
      return absl::NotFoundError(absl::StrCat("no incident ", incident.id()));
    it->second = incident;
    return absl::OkStatus();
  }
  absl::Status PutAlert(const v1::Alert& alert) override {
    if (auto st = Storable(alert); !st.ok()) return st;
    s_.alerts[alert.fingerprint()] = alert;
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> InsertUpdate(const v1::Update& update) override {
    if (auto st = Storable(update); !st.ok()) return st;
    return Insert(s_.updates, s_.last_id.updates, update);
  }
  absl::StatusOr<int64_t> InsertMessage(const v1::Message& message) override {
    if (auto st = Storable(message); !st.ok()) return st;
    return Insert(s_.messages, s_.last_id.messages, message);
  }
  absl::Status UpdateMessage(const v1::Message& message) override {
    if (auto st = Storable(message); !st.ok()) return st;
    auto it = s_.messages.find(message.id());
    if (it == s_.messages.end())
      return absl::NotFoundError(absl::StrCat("no message ", message.id()));
    it->second = message;
    return absl::OkStatus();
  }
  absl::Status AppendTimeline(const v1::TimelineEvent& event) override {
    if (auto st = Storable(event); !st.ok()) return st;
    Insert(s_.timeline, s_.last_id.timeline, event);
    return absl::OkStatus();
  }
  absl::Status InsertMessageVersion(const v1::MessageVersion& v) override {
    if (auto st = Storable(v); !st.ok()) return st;
    if (!s_.versions.try_emplace({v.message_id(), v.version()}, v).second) {
      return absl::AlreadyExistsError(absl::StrCat(
          "message ", v.message_id(), " already has version ", v.version()));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> AppendAudit(const v1::AuditEntry& entry) override {
    if (auto st = Storable(entry); !st.ok()) return st;
    return Insert(s_.audit, s_.last_id.audit, entry);
  }
  absl::StatusOr<int64_t> EnqueueFanOut(const FanOut& fan_out) override {
    std::set<std::string> amended;
    if (fan_out.to_amends) {
      for (const auto& [id, a] : s_.amends) {
        if (a.incident_id() == fan_out.incident_id) {
          amended.insert(a.subscriber_id());
        }
      }
    }
    int64_t queued = 0;
    for (const auto& [id, s] : s_.subscribers) {
      if (fan_out.to_amends ? !(IsActive(s) && amended.contains(id))
                            : !InAudience(s, fan_out.component_ids)) {
        continue;
      }
      v1::Delivery d;
      d.set_message_id(fan_out.message_id);
      d.set_incident_id(fan_out.incident_id);
      d.set_recipient(absl::StrCat("subscriber:", id));
      d.set_idempotency_key(
          absl::StrCat("msg-", fan_out.message_id, "-subscriber-", id));
      d.set_state(v1::DELIVERY_STATE_QUEUED);
      *d.mutable_created_at() = ToProtoTime(fan_out.now);
      *d.mutable_next_attempt_at() = ToProtoTime(fan_out.now);
      if (InsertDelivery(d).ok()) ++queued;
    }
    return queued;
  }
  absl::Status PutSubscriber(const v1::Subscriber& subscriber) override {
    if (auto st = Storable(subscriber); !st.ok()) return st;
    s_.subscribers[subscriber.id()] = subscriber;
    return absl::OkStatus();
  }
  absl::Status DeleteSubscriber(const std::string& id) override {
    if (s_.subscribers.erase(id) == 0) {
      return absl::NotFoundError(absl::StrCat("no subscriber \"", id, "\""));
    }
    return absl::OkStatus();
  }
  absl::Status PutToken(const TokenRecord& token) override {
    s_.tokens[token.sha256_hex] = token.person_id;
    return absl::OkStatus();
  }
  absl::Status PutSetting(const std::string& name,
                          const std::string& value) override {
    s_.settings[name] = value;
    return absl::OkStatus();
  }
  absl::Status PutComponentState(const v1::ComponentState& state) override {
    if (auto st = Storable(state); !st.ok()) return st;
    s_.components[state.component_id()] = state;
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> InsertAmends(const v1::Amends& amends) override {
    if (auto st = Storable(amends); !st.ok()) return st;
    for (const auto& [id, a] : s_.amends) {
      if (a.incident_id() == amends.incident_id() &&
          a.subscriber_id() == amends.subscriber_id()) {
        return absl::AlreadyExistsError(
            absl::StrCat("amends for ", amends.subscriber_id(), " exist"));
      }
      if (!amends.credit().voucher_code().empty() &&
          a.credit().voucher_code() == amends.credit().voucher_code()) {
        return absl::AlreadyExistsError("voucher code taken");
      }
    }
    return Insert(s_.amends, s_.last_id.amends, amends);
  }
  absl::Status UpdateAmends(const v1::Amends& amends) override {
    if (auto st = Storable(amends); !st.ok()) return st;
    auto it = s_.amends.find(amends.id());
    if (it == s_.amends.end()) {
      return absl::NotFoundError(absl::StrCat("no amends ", amends.id()));
    }
    it->second = amends;
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> InsertOverride(
      const v1::RotaOverride& override) override {
    if (auto st = Storable(override); !st.ok()) return st;
    return Insert(s_.overrides, s_.last_id.overrides, override);
  }
  absl::Status DeleteOverride(int64_t id) override {
    if (s_.overrides.erase(id) == 0) {
      return absl::NotFoundError(absl::StrCat("no override ", id));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> InsertJob(const v1::Job& job) override {
    if (auto st = Storable(job); !st.ok()) return st;
    return Insert(s_.jobs, s_.last_id.jobs, job);
  }
  absl::Status UpdateJob(const v1::Job& job) override {
    if (auto st = Storable(job); !st.ok()) return st;
    auto it = s_.jobs.find(job.id());
    if (it == s_.jobs.end()) {
      return absl::NotFoundError(absl::StrCat("no job ", job.id()));
    }
    it->second = job;
    s_.job_leases.erase(job.id());
    return absl::OkStatus();
  }
  absl::Status LeaseJob(int64_t id, absl::Time until) override {
    if (!s_.jobs.contains(id)) {
      return absl::NotFoundError(absl::StrCat("no job ", id));
    }
    s_.job_leases[id] = until;
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> InsertDelivery(
      const v1::Delivery& delivery) override {
    if (auto st = Storable(delivery); !st.ok()) return st;
    for (const auto& [id, d] : s_.deliveries) {
      if (d.idempotency_key() == delivery.idempotency_key()) {
        return absl::AlreadyExistsError(
            absl::StrCat("delivery ", delivery.idempotency_key(), " exists"));
      }
    }
    return Insert(s_.deliveries, s_.last_id.deliveries, delivery);
  }
  absl::Status UpdateDelivery(const v1::Delivery& delivery) override {
    if (auto st = Storable(delivery); !st.ok()) return st;
    auto it = s_.deliveries.find(delivery.id());
    if (it == s_.deliveries.end())
      return absl::NotFoundError(absl::StrCat("no delivery ", delivery.id()));
    it->second = delivery;
    return absl::OkStatus();
  }
  absl::StatusOr<int> RequeueInterruptedDeliveries(absl::Time now) override {
    int n = 0;
    for (auto& [id, d] : s_.deliveries) {
      if (d.state() == v1::DELIVERY_STATE_SENDING) {
        d.set_state(v1::DELIVERY_STATE_QUEUED);
        *d.mutable_next_attempt_at() = ToProtoTime(now);
        ++n;
      }
    }
    return n;
  }
  absl::StatusOr<int> ReleaseWaitingDeliveries(v1::ChannelKind channel,
                                               absl::Time now) override {
    int n = 0;
    for (auto& [id, d] : s_.deliveries) {
      if (d.state() == v1::DELIVERY_STATE_RETRYING &&
          d.waiting_on() == channel) {
        *d.mutable_next_attempt_at() = ToProtoTime(now);
        ++n;
      }
    }
    return n;
  }

 private:
  template <typename T>
  static int64_t Insert(std::map<int64_t, T>& rows, int64_t& last_id,
                        const T& row) {
    const int64_t id = ++last_id;
    T copy = row;
    copy.set_id(id);
    rows[id] = std::move(copy);
    return id;
  }

  State& s_;
};

class MemoryStore final : public Store {
 public:
  absl::Status Read(absl::FunctionRef<absl::Status(StoreReader&)> fn) override {
    absl::ReaderMutexLock lock(&mu_);
    MemoryTxn txn(state_);
    return fn(txn);
  }
  absl::Status Write(absl::FunctionRef<absl::Status(StoreTxn&)> fn) override {
    absl::MutexLock lock(&mu_);
    State copy = state_;
    MemoryTxn txn(copy);
    absl::Status s = fn(txn);
    if (s.ok()) state_ = std::move(copy);
    return s;
  }
  void WriteAsync(WriteFn fn, WriteDone done) override {
    done(Write([&fn](StoreTxn& txn) { return fn(txn); }));
  }

 private:
  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<Store> NewMemoryStore() {
  return std::make_unique<MemoryStore>();
}

}  // namespace herald
