// SqlTxn: the StoreReader and StoreTxn of every SQL database herald runs on,
// over one connection, inside the transaction the store opened. Its queries
// are written once, in the SQL that SQLite and PostgreSQL share; `Db` is a
// dialect (sqlite::Dialect, postgres::Dialect) naming the Connection and
// the Statement that runs them. The definitions are in txn_reads-inl.h and
// txn_writes-inl.h, instantiated once per dialect (sqlite/txn.cc,
// postgres/txn.cc). Not thread-safe: the connection's thread only.
#ifndef HERALD_SERVER_STORE_SQL_TXN_H_
#define HERALD_SERVER_STORE_SQL_TXN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/store/store.h"

namespace herald::sql {

template <typename Db>
class SqlTxn final : public StoreTxn {
 public:
  using Connection = typename Db::Connection;
  using Statement = typename Db::Statement;

  explicit SqlTxn(Connection* db) : db_(db) {}

  absl::StatusOr<v1::Incident> GetIncident(int64_t id) override;
  absl::StatusOr<v1::Incident> FindOpenIncident(
      const std::string& group_key) override;
  absl::StatusOr<v1::Incident> FindLatestIncident(
      const std::string& group_key) override;
  absl::StatusOr<std::vector<v1::Alert>> ListUnroutedAlerts() override;
  absl::StatusOr<std::vector<v1::RotaOverride>> ListOverrides(
      const std::string& rota_id, absl::Time after) override;
  absl::StatusOr<std::vector<v1::Job>> ListDueJobs(absl::Time now,
                                                   int limit) override;
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
  absl::StatusOr<std::vector<v1::Amends>> ListAmends(
      int64_t incident_id) override;
  absl::StatusOr<v1::Amends> GetAmends(int64_t id) override;
  absl::StatusOr<v1::Amends> FindAmends(
      int64_t incident_id, const std::string& subscriber_id) override;
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
  absl::StatusOr<OutboxStats> GetOutboxStats() override;

  absl::StatusOr<int64_t> InsertIncident(const v1::Incident& incident) override;
  absl::Status UpdateIncident(const v1::Incident& incident) override;
  absl::Status PutAlert(const v1::Alert& alert) override;
  absl::StatusOr<int64_t> InsertUpdate(const v1::Update& update) override;
  absl::StatusOr<int64_t> InsertMessage(const v1::Message& message) override;
  absl::Status UpdateMessage(const v1::Message& message) override;
  absl::Status AppendTimeline(const v1::TimelineEvent& event) override;
  absl::Status InsertMessageVersion(const v1::MessageVersion& v) override;
  absl::StatusOr<int64_t> AppendAudit(const v1::AuditEntry& entry) override;
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
  absl::StatusOr<int64_t> EnqueueFanOut(const FanOut& fan_out) override;
  absl::Status UpdateDelivery(const v1::Delivery& delivery) override;
  absl::StatusOr<int> ReleaseWaitingDeliveries(v1::ChannelKind channel,
                                               absl::Time now) override;
  absl::StatusOr<int> RequeueInterruptedDeliveries(absl::Time now) override;

 private:
  // Keeps incident_groups equal to the incident's group keys. Keys are only
  // ever added, and attached ones only appended, so an unchanged count means
  // nothing to do (the common case: an update that touched no group) and
  // otherwise only the newest keys are missing: inserting just those keeps
  // an incident with many groups from rewriting all of them each time.
  absl::Status IndexGroups(const v1::Incident& incident);

  // Steps an INSERT ... RETURNING id and returns the id; AlreadyExists
  // (`conflict`) when it inserted nothing (ON CONFLICT DO NOTHING).
  //
  // Every insert that may meet a unique key says ON CONFLICT, rather than
  // failing on it: a caller may go on after AlreadyExists, and PostgreSQL
  // aborts the whole transaction on a failed statement.
  static absl::StatusOr<int64_t> InsertReturningId(
      Statement& s, absl::string_view conflict = "");

  Connection* db_;
};

}  // namespace herald::sql

#endif  // HERALD_SERVER_STORE_SQL_TXN_H_
