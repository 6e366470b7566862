// MemoryTxn: the StoreReader and StoreTxn over the in-memory store's State
// (reads in memory_txn_reads.cc, writes in memory_txn_writes.cc). Not
// thread-safe: the store holds its lock around every transaction.
#ifndef HERALD_SERVER_STORE_MEMORY_TXN_H_
#define HERALD_SERVER_STORE_MEMORY_TXN_H_

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/base/proto_time.h"
#include "server/base/text.h"
#include "server/store/store.h"

namespace herald::memory {

// As the SQLite store: a record whose text is not valid UTF-8 is refused
// (InvalidArgument naming the field), never stored.
inline absl::Status Storable(const google::protobuf::Message& record) {
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
  struct Expiring {
    std::string value;
    absl::Time expires;
  };
  std::map<std::pair<std::string, std::string>, Expiring> expiring;
  std::map<std::string, v1::ComponentState> components;
  std::map<int64_t, v1::Delivery> deliveries;
  std::map<int64_t, v1::RotaOverride> overrides;
  std::map<int64_t, v1::Job> jobs;
  std::map<int64_t, absl::Time> job_leases;  // LeaseJob: held till then
  std::map<std::pair<int64_t, int32_t>, v1::MessageVersion> versions;
  std::map<int64_t, v1::AuditEntry> audit;
  std::map<int64_t, v1::Amends> amends;
};

inline bool SubscribesToAny(const v1::Subscriber& s,
                            const std::vector<std::string>& component_ids) {
  for (const std::string& c : s.component_ids()) {
    if (std::find(component_ids.begin(), component_ids.end(), c) !=
        component_ids.end()) {
      return true;
    }
  }
  return false;
}

inline bool IsActive(const v1::Subscriber& s) {
  return s.status() == v1::SUBSCRIBER_STATUS_ACTIVE ||
         s.status() == v1::SUBSCRIBER_STATUS_UNSPECIFIED;
}

inline bool InAudience(const v1::Subscriber& s,
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

inline bool IsOpen(const v1::Incident& i) { return !i.has_resolved_at(); }

inline bool HasGroup(const v1::Incident& i, const std::string& group_key) {
  if (i.group_key() == group_key) return true;
  for (const auto& g : i.attached_group_keys()) {
    if (g == group_key) return true;
  }
  return false;
}

class MemoryTxn final : public StoreTxn {
 public:
  explicit MemoryTxn(State& s) : s_(s) {}

  absl::StatusOr<v1::Incident> GetIncident(int64_t id) override;
  absl::StatusOr<v1::Incident> FindOpenIncident(
      const std::string& group_key) override;
  absl::StatusOr<v1::Incident> FindLatestIncident(
      const std::string& group_key) override;
  absl::StatusOr<std::vector<v1::Alert>> ListUnroutedAlerts() override;
  absl::StatusOr<std::vector<v1::Amends>> ListAmends(
      int64_t incident_id) override;
  absl::StatusOr<v1::Amends> GetAmends(int64_t id) override;
  absl::StatusOr<v1::Amends> FindAmends(
      int64_t incident_id, const std::string& subscriber_id) override;
  absl::StatusOr<std::vector<v1::RotaOverride>> ListOverrides(
      const std::string& rota_id, absl::Time after) override;
  absl::StatusOr<std::vector<v1::Job>> ListDueJobs(absl::Time now,
                                                   int limit) override;
  absl::StatusOr<OutboxStats> GetOutboxStats() override;
  absl::StatusOr<std::vector<v1::Incident>> ListIncidents(
      const IncidentFilter& f) override;
  absl::StatusOr<v1::Alert> GetAlert(const std::string& fingerprint) override;
  absl::StatusOr<std::vector<v1::Alert>> ListAlerts(
      int64_t incident_id) override;
  absl::StatusOr<std::vector<v1::Alert>> ListAlertsPage(
      int64_t incident_id, const std::string& after_fingerprint,
      int limit) override;
  absl::StatusOr<std::vector<v1::Alert>> ListUnroutedAlertsPage(
      int64_t after_incident_id, const std::string& after_fingerprint,
      int limit) override;
  absl::StatusOr<int64_t> CountAlerts(int64_t incident_id) override;
  absl::StatusOr<int64_t> CountUnroutedAlerts() override;
  absl::StatusOr<std::vector<v1::Update>> ListUpdates(
      int64_t incident_id) override;
  absl::StatusOr<v1::Message> GetMessage(int64_t id) override;
  absl::StatusOr<std::vector<v1::Message>> ListMessages(
      const MessageFilter& f) override;
  absl::StatusOr<std::vector<v1::TimelineEvent>> ListTimeline(
      int64_t incident_id) override;
  absl::StatusOr<std::vector<v1::TimelineEvent>> ListTimelinePage(
      int64_t incident_id, int64_t after_id, int limit) override;
  absl::StatusOr<int64_t> CountTimeline(int64_t incident_id) override;
  absl::StatusOr<std::vector<v1::MessageVersion>> ListMessageVersions(
      int64_t message_id) override;
  absl::StatusOr<std::vector<v1::AuditEntry>> ListAudit(
      int64_t incident_id) override;
  absl::StatusOr<std::vector<v1::AuditEntry>> ListAuditPage(int64_t incident_id,
                                                            int64_t after_id,
                                                            int limit) override;
  absl::StatusOr<std::vector<v1::Subscriber>> ListSubscribers(
      const SubscriberFilter& filter) override;
  absl::StatusOr<v1::Subscriber> GetSubscriber(const std::string& id) override;
  absl::StatusOr<v1::Subscriber> FindSubscriberByEmail(
      const std::string& email) override;
  absl::StatusOr<std::vector<v1::Subscriber>> ListSubscribersByAccount(
      const std::vector<std::string>& accounts) override;
  absl::StatusOr<std::vector<v1::Subscriber>> ListPendingSubscribers() override;
  absl::StatusOr<int64_t> CountAudience(
      const std::vector<std::string>& component_ids) override;
  absl::StatusOr<std::vector<TokenRecord>> ListTokens() override;
  absl::StatusOr<std::string> GetSetting(const std::string& name) override;
  absl::StatusOr<std::string> GetExpiring(const std::string& kind,
                                          const std::string& name,
                                          absl::Time now) override;
  absl::StatusOr<std::vector<v1::ComponentState>> ListComponentStates()
      override;
  absl::StatusOr<std::vector<v1::Delivery>> ListDueDeliveries(
      absl::Time now, int limit) override;
  absl::StatusOr<v1::Delivery> GetDelivery(int64_t id) override;
  absl::StatusOr<std::vector<v1::Delivery>> ListDeliveries(
      int64_t message_id, int64_t incident_id) override;

  absl::StatusOr<std::vector<v1::Delivery>> ListDeliveriesPage(
      int64_t message_id, int64_t after_id, int limit) override;

  absl::StatusOr<std::vector<v1::Delivery>> ListRecipientDeliveries(
      int64_t incident_id, const std::string& recipient) override;

  absl::StatusOr<std::vector<v1::Delivery>> ListFailedDeliveries(
      int64_t before_id, int limit) override;

  absl::StatusOr<int64_t> InsertIncident(const v1::Incident& incident) override;
  absl::Status UpdateIncident(const v1::Incident& incident) override;
  absl::Status PutAlert(const v1::Alert& alert) override;
  absl::StatusOr<int64_t> InsertUpdate(const v1::Update& update) override;
  absl::StatusOr<int64_t> InsertMessage(const v1::Message& message) override;
  absl::Status UpdateMessage(const v1::Message& message) override;
  absl::Status AppendTimeline(const v1::TimelineEvent& event) override;
  absl::Status InsertMessageVersion(const v1::MessageVersion& v) override;
  absl::StatusOr<int64_t> AppendAudit(const v1::AuditEntry& entry) override;
  absl::StatusOr<int64_t> EnqueueFanOut(const FanOut& fan_out) override;
  absl::Status PutSubscriber(const v1::Subscriber& subscriber) override;
  absl::Status DeleteSubscriber(const std::string& id) override;
  absl::Status PutToken(const TokenRecord& token) override;
  absl::Status PutSetting(const std::string& name,
                          const std::string& value) override;
  absl::Status PutExpiring(const std::string& kind, const std::string& name,
                           const std::string& value,
                           absl::Time expires) override;
  absl::Status DeleteExpiring(const std::string& kind,
                              const std::string& name) override;
  absl::StatusOr<int64_t> PurgeExpired(absl::Time now, int limit) override;
  absl::Status PutComponentState(const v1::ComponentState& state) override;
  absl::StatusOr<int64_t> InsertAmends(const v1::Amends& amends) override;
  absl::Status UpdateAmends(const v1::Amends& amends) override;
  absl::StatusOr<int64_t> InsertOverride(
      const v1::RotaOverride& override) override;
  absl::Status DeleteOverride(int64_t id) override;
  absl::StatusOr<int64_t> InsertJob(const v1::Job& job) override;
  absl::Status UpdateJob(const v1::Job& job) override;
  absl::Status LeaseJob(int64_t id, absl::Time until) override;
  absl::StatusOr<int64_t> InsertDelivery(const v1::Delivery& delivery) override;
  absl::Status UpdateDelivery(const v1::Delivery& delivery) override;
  absl::StatusOr<int> RequeueInterruptedDeliveries(absl::Time now) override;
  absl::StatusOr<int> ReleaseWaitingDeliveries(v1::ChannelKind channel,
                                               absl::Time now) override;

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

}  // namespace herald::memory

#endif  // HERALD_SERVER_STORE_MEMORY_TXN_H_
