// Store is herald's durable state behind one narrow interface, so that the
// SQLite implementation, the in-memory fake and a later PostgreSQL one are
// interchangeable. Callers see a consistent snapshot in Read() and make
// atomic changes in Write(); Write() returns OK only once the change is
// durable. Implementations are thread-safe.
#ifndef HERALD_SERVER_STORE_STORE_H_
#define HERALD_SERVER_STORE_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"

namespace herald {

struct IncidentFilter {
  bool include_resolved = false;
  int64_t before_id = 0;  // only incidents older than this one; 0: any
  int limit = 0;          // 0: no limit
};

struct MessageFilter {
  int64_t incident_id = 0;               // 0: every incident
  std::vector<v1::MessageState> states;  // empty: every state
  int64_t after_id = 0;                  // only messages after this one
  int limit = 0;                         // 0: no limit
};

struct SubscriberFilter {
  std::string component_id;  // empty: every component
  // Unsubscribed subscribers are kept (so that nothing re-adds them
  // silently) but listed only on request. Pending ones are always listed.
  bool include_unsubscribed = false;
  std::string after_id;  // only subscribers whose id sorts after this
  int limit = 0;         // 0: no limit
};

// One published message's fan-out: to the subscribers of its components, or
// to the customers whose amends the incident's apology fixed.
struct FanOut {
  int64_t message_id = 0;
  int64_t incident_id = 0;
  std::vector<std::string> component_ids;
  absl::Time now;
  // True: the audience is the incident's amends (its affected customers),
  // and component_ids is ignored.
  bool to_amends = false;
  // True: the audience is the active subscribers an earlier message of the
  // incident reached or is still on its way to (every delivery but a
  // failed, cancelled or superseded one), and component_ids is ignored:
  // "it will not happen" goes to those who were told it would, and to
  // those still waiting to be told, whose pending copy it supersedes.
  bool to_told = false;
};

struct OutboxStats {
  int64_t pending = 0;  // queued, retrying or sending
  // When the oldest pending delivery was queued; InfinitePast when none is.
  absl::Time oldest_queued_at = absl::InfinitePast();
};

struct TokenRecord {
  std::string sha256_hex;
  std::string person_id;
};

// Read access. Lists come in ascending id order unless stated otherwise.
class StoreReader {
 public:
  virtual ~StoreReader() = default;

  // NotFound when there is no incident `id`.
  virtual absl::StatusOr<v1::Incident> GetIncident(int64_t id) = 0;
  // The unresolved incident that `group_key` opened or was attached to, or
  // NotFound.
  virtual absl::StatusOr<v1::Incident> FindOpenIncident(
      const std::string& group_key) = 0;
  // The newest incident, resolved or not, that `group_key` opened or was
  // attached to, or NotFound.
  virtual absl::StatusOr<v1::Incident> FindLatestIncident(
      const std::string& group_key) = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<v1::Incident>> ListIncidents(
      const IncidentFilter& filter) = 0;

  // NotFound when no alert has `fingerprint`.
  virtual absl::StatusOr<v1::Alert> GetAlert(
      const std::string& fingerprint) = 0;
  virtual absl::StatusOr<std::vector<v1::Alert>> ListAlerts(
      int64_t incident_id) = 0;
  // Alerts that matched no component, newest incident first.
  virtual absl::StatusOr<std::vector<v1::Alert>> ListUnroutedAlerts() = 0;
  // One page of the alerts of `incident_id`, by fingerprint: at most `limit`
  // whose fingerprint sorts after `after_fingerprint` ("" for the first
  // page). Reads only that page.
  virtual absl::StatusOr<std::vector<v1::Alert>> ListAlertsPage(
      int64_t incident_id, const std::string& after_fingerprint, int limit) = 0;
  // One page of ListUnroutedAlerts: at most `limit` that come after the alert
  // (`after_incident_id`, `after_fingerprint`) in its order; any id and ""
  // for the first page.
  virtual absl::StatusOr<std::vector<v1::Alert>> ListUnroutedAlertsPage(
      int64_t after_incident_id, const std::string& after_fingerprint,
      int limit) = 0;
  // How many alerts `incident_id` has (0 for an unknown incident).
  virtual absl::StatusOr<int64_t> CountAlerts(int64_t incident_id) = 0;
  virtual absl::StatusOr<int64_t> CountUnroutedAlerts() = 0;

  virtual absl::StatusOr<std::vector<v1::Update>> ListUpdates(
      int64_t incident_id) = 0;

  // NotFound when there is no message `id`.
  virtual absl::StatusOr<v1::Message> GetMessage(int64_t id) = 0;
  virtual absl::StatusOr<std::vector<v1::Message>> ListMessages(
      const MessageFilter& filter) = 0;

  virtual absl::StatusOr<std::vector<v1::TimelineEvent>> ListTimeline(
      int64_t incident_id) = 0;
  // One page of the timeline of `incident_id`: at most `limit` events with
  // an id above `after_id` (0 for the first page), oldest first.
  virtual absl::StatusOr<std::vector<v1::TimelineEvent>> ListTimelinePage(
      int64_t incident_id, int64_t after_id, int limit) = 0;
  // How many timeline events `incident_id` has.
  virtual absl::StatusOr<int64_t> CountTimeline(int64_t incident_id) = 0;

  // Every version of `message_id`, oldest first.
  virtual absl::StatusOr<std::vector<v1::MessageVersion>> ListMessageVersions(
      int64_t message_id) = 0;
  // The audit log of `incident_id` (0: of every incident), oldest first.
  virtual absl::StatusOr<std::vector<v1::AuditEntry>> ListAudit(
      int64_t incident_id) = 0;
  // One page of it: at most `limit` entries with an id above `after_id`.
  virtual absl::StatusOr<std::vector<v1::AuditEntry>> ListAuditPage(
      int64_t incident_id, int64_t after_id, int limit) = 0;

  // Ordered by id.
  virtual absl::StatusOr<std::vector<v1::Subscriber>> ListSubscribers(
      const SubscriberFilter& filter) = 0;
  // NotFound when there is no subscriber `id`.
  virtual absl::StatusOr<v1::Subscriber> GetSubscriber(
      const std::string& id) = 0;
  // The subscriber whose `email` is `email` (compared in lower case), or
  // NotFound.
  virtual absl::StatusOr<v1::Subscriber> FindSubscriberByEmail(
      const std::string& email) = 0;
  // Subscribers (any status) whose `account` is one of `accounts`, by id.
  virtual absl::StatusOr<std::vector<v1::Subscriber>> ListSubscribersByAccount(
      const std::vector<std::string>& accounts) = 0;
  // Subscribers waiting for their confirmation (status pending), by id.
  virtual absl::StatusOr<std::vector<v1::Subscriber>>
  ListPendingSubscribers() = 0;
  // Active subscribers of any of `component_ids`, each counted once.
  virtual absl::StatusOr<int64_t> CountAudience(
      const std::vector<std::string>& component_ids) = 0;
  virtual absl::StatusOr<std::vector<TokenRecord>> ListTokens() = 0;
  // A server-wide value (a signing key, say), or NotFound.
  virtual absl::StatusOr<std::string> GetSetting(const std::string& name) = 0;
  // The value of the short-lived record `name` of `kind` (a console
  // session, a rate limit's count), kept here so that every process on the
  // store sees it, unless it expired by `now`; NotFound otherwise.
  virtual absl::StatusOr<std::string> GetExpiring(const std::string& kind,
                                                  const std::string& name,
                                                  absl::Time now) = 0;
  // Each affected customer's amends for `incident_id`, by subscriber id.
  virtual absl::StatusOr<std::vector<v1::Amends>> ListAmends(
      int64_t incident_id) = 0;
  // NotFound when there is no amends `id`.
  virtual absl::StatusOr<v1::Amends> GetAmends(int64_t id) = 0;
  // The amends of `subscriber_id` for `incident_id`, or NotFound.
  virtual absl::StatusOr<v1::Amends> FindAmends(
      int64_t incident_id, const std::string& subscriber_id) = 0;
  // Components whose status was ever set; the others are operational.
  virtual absl::StatusOr<std::vector<v1::ComponentState>>
  ListComponentStates() = 0;

  // Overrides of `rota_id` (empty: every rota) that end after `after`.
  virtual absl::StatusOr<std::vector<v1::RotaOverride>> ListOverrides(
      const std::string& rota_id, absl::Time after) = 0;

  // Jobs not yet done whose time has come at `now`, and whose claim's lease
  // (LeaseJob) is not running, oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<v1::Job>> ListDueJobs(absl::Time now,
                                                           int limit) = 0;

  // Deliveries due at `now`, oldest due first, at most `limit`: queued or
  // retrying ones whose next attempt has come, and `sending` ones whose
  // claim's lease ran out (next_attempt_at holds a claim's end: its claimer
  // died or stopped without saying).
  virtual absl::StatusOr<std::vector<v1::Delivery>> ListDueDeliveries(
      absl::Time now, int limit) = 0;
  // NotFound when there is no delivery `id`.
  virtual absl::StatusOr<v1::Delivery> GetDelivery(int64_t id) = 0;
  // Every delivery of `message_id` (0: staff notifications of `incident_id`).
  virtual absl::StatusOr<std::vector<v1::Delivery>> ListDeliveries(
      int64_t message_id, int64_t incident_id) = 0;
  // One page of the deliveries of `message_id`: at most `limit` with an id
  // above `after_id`.
  virtual absl::StatusOr<std::vector<v1::Delivery>> ListDeliveriesPage(
      int64_t message_id, int64_t after_id, int limit) = 0;
  // Every delivery to `recipient` of `incident_id`'s messages, by id.
  virtual absl::StatusOr<std::vector<v1::Delivery>> ListRecipientDeliveries(
      int64_t incident_id, const std::string& recipient) = 0;
  // Deliveries that gave up (every attempt failed), newest first, at most
  // `limit`, older than delivery `before_id` (0: from the newest).
  virtual absl::StatusOr<std::vector<v1::Delivery>> ListFailedDeliveries(
      int64_t before_id, int limit) = 0;
  virtual absl::StatusOr<OutboxStats> GetOutboxStats() = 0;
};

// Changes, inside one atomic transaction.
class StoreTxn : public StoreReader {
 public:
  // Stores a new incident and returns its id. The incident's `id` is ignored.
  // AlreadyExists when another unresolved incident has the same group_key.
  virtual absl::StatusOr<int64_t> InsertIncident(
      const v1::Incident& incident) = 0;
  // NotFound when there is no incident with that id.
  virtual absl::Status UpdateIncident(const v1::Incident& incident) = 0;

  // Inserts or replaces the alert with that fingerprint.
  virtual absl::Status PutAlert(const v1::Alert& alert) = 0;

  virtual absl::StatusOr<int64_t> InsertUpdate(const v1::Update& update) = 0;

  virtual absl::StatusOr<int64_t> InsertMessage(const v1::Message& message) = 0;
  // NotFound when there is no message with that id.
  virtual absl::Status UpdateMessage(const v1::Message& message) = 0;

  virtual absl::Status AppendTimeline(const v1::TimelineEvent& event) = 0;

  // AlreadyExists when the message already has that version: versions are
  // never rewritten.
  virtual absl::Status InsertMessageVersion(
      const v1::MessageVersion& version) = 0;
  // Appends to the audit log, which has no way to change or remove an entry.
  // The entry's `id` is ignored; returns the new id.
  virtual absl::StatusOr<int64_t> AppendAudit(const v1::AuditEntry& entry) = 0;

  // Inserts or replaces by id.
  virtual absl::Status PutSubscriber(const v1::Subscriber& subscriber) = 0;
  // Removes subscriber `id` and their subscriptions (for pending ones who
  // never confirmed); NotFound when there is none. Deliveries queued for
  // them stay, and find no recipient when sent.
  virtual absl::Status DeleteSubscriber(const std::string& id) = 0;
  // Inserts or replaces by hash.
  virtual absl::Status PutToken(const TokenRecord& token) = 0;
  // Inserts or replaces by name.
  virtual absl::Status PutSetting(const std::string& name,
                                  const std::string& value) = 0;
  // Inserts or replaces the record `name` of `kind`, which reads as absent
  // from `expires` on.
  virtual absl::Status PutExpiring(const std::string& kind,
                                   const std::string& name,
                                   const std::string& value,
                                   absl::Time expires) = 0;
  // Removes the record `name` of `kind`; OK when there is none.
  virtual absl::Status DeleteExpiring(const std::string& kind,
                                      const std::string& name) = 0;
  // Removes up to `limit` records that expired by `now`; returns how many.
  virtual absl::StatusOr<int64_t> PurgeExpired(absl::Time now, int limit) = 0;
  virtual absl::Status PutComponentState(const v1::ComponentState& state) = 0;

  // AlreadyExists when the incident already has amends for that subscriber,
  // or another amends has the same voucher code. Returns the new id.
  virtual absl::StatusOr<int64_t> InsertAmends(const v1::Amends& amends) = 0;
  // NotFound when there is no amends with that id.
  virtual absl::Status UpdateAmends(const v1::Amends& amends) = 0;

  virtual absl::StatusOr<int64_t> InsertOverride(
      const v1::RotaOverride& override) = 0;
  // NotFound when there is no override `id`.
  virtual absl::Status DeleteOverride(int64_t id) = 0;

  virtual absl::StatusOr<int64_t> InsertJob(const v1::Job& job) = 0;
  // NotFound when there is no job with that id. Ends any lease on it.
  virtual absl::Status UpdateJob(const v1::Job& job) = 0;
  // Holds job `id` for its claimer until `until`: ListDueJobs skips it till
  // then. NotFound when there is no such job.
  virtual absl::Status LeaseJob(int64_t id, absl::Time until) = 0;

  // AlreadyExists when a delivery with the same idempotency key exists.
  virtual absl::StatusOr<int64_t> InsertDelivery(
      const v1::Delivery& delivery) = 0;
  // NotFound when there is no delivery with that id.
  virtual absl::Status UpdateDelivery(const v1::Delivery& delivery) = 0;
  // Queues one delivery per active subscriber of any of the fan-out's
  // components (or, with to_amends, per active subscriber with amends for
  // the incident), in one set-based statement: recipient
  // "subscriber:<id>", idempotency key "msg-<message_id>-subscriber-<id>",
  // no content (it is rendered per contact when sent). A key that is already
  // queued is left alone. Returns how many were queued.
  virtual absl::StatusOr<int64_t> EnqueueFanOut(const FanOut& fan_out) = 0;
  // Puts deliveries left in `sending` by a crash back to `queued`, due at
  // `now`, whatever their lease; returns how many. Only for a store that
  // one process alone serves: elsewhere, leases bring claims back.
  virtual absl::StatusOr<int> RequeueInterruptedDeliveries(absl::Time now) = 0;
  // Makes every retrying delivery that waits for `channel` to come back
  // (Delivery.waiting_on) due at `now`. Returns how many.
  virtual absl::StatusOr<int> ReleaseWaitingDeliveries(v1::ChannelKind channel,
                                                       absl::Time now) = 0;
};

// What a worker asks ClaimDueDeliveries or ClaimDueJobs for.
struct ClaimRequest {
  absl::Time now;
  // How long the claim holds. A claimer that dies gives nothing back: its
  // claims return to the others once the lease runs out, so it must be
  // longer than a claimer ever holds a claim while alive.
  absl::Duration lease;
  int limit = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Claims up to `claim.limit` deliveries that are due (ListDueDeliveries),
  // each now `sending`, with one more attempt counted (`attempts` and
  // `contact_attempts`) and next_attempt_at at the lease's end. While a
  // lease runs no other claimer gets that delivery, in this process or
  // another sharing the store. The claimer ends it with UpdateDelivery.
  virtual absl::StatusOr<std::vector<v1::Delivery>> ClaimDueDeliveries(
      const ClaimRequest& claim);
  // Claims up to `claim.limit` due jobs (ListDueJobs), each leased
  // (LeaseJob) till `claim.now + claim.lease`. The claimer ends the lease
  // with UpdateJob (done). While it runs no other claimer gets the job.
  virtual absl::StatusOr<std::vector<v1::Job>> ClaimDueJobs(
      const ClaimRequest& claim);

  // Runs `fn` against a consistent snapshot, once.
  virtual absl::Status Read(
      absl::FunctionRef<absl::Status(StoreReader&)> fn) = 0;

  // Runs `fn` in one write transaction. Commits when `fn` returns OK and then
  // returns OK only once the commit is durable; otherwise rolls back and
  // returns `fn`'s error (or the commit's). `fn` must not call Read or Write.
  //
  // A store that writes concurrently (PostgreSQL) runs `fn` again, from the
  // start and on a fresh transaction, when its transaction conflicted with
  // another; only the last run's changes are kept. So `fn` must reset what
  // it collects outside the transaction, and leave side effects (events,
  // metrics, messages) until Write has returned OK.
  virtual absl::Status Write(absl::FunctionRef<absl::Status(StoreTxn&)> fn) = 0;

  using WriteFn = absl::AnyInvocable<absl::Status(StoreTxn&)>;
  using WriteDone = absl::AnyInvocable<void(absl::Status)>;
  // Write without waiting: queues `fn` and returns at once. `done` receives
  // what Write would have returned, once that is known; OK means durable.
  // `done` may run on the store's writer thread (or, for a store without
  // one, before WriteAsync returns): it must be quick and must not call the
  // store. For callers that serve many requests from few threads, such as an
  // event loop, so that one commit can carry many of their writes.
  virtual void WriteAsync(WriteFn fn, WriteDone done) = 0;

  // Writes a consistent copy of everything to a new file at `path` while
  // reads and writes go on; the copy opens as a store of its own.
  // Unimplemented for a store that keeps nothing on disk.
  virtual absl::Status BackupTo(const std::string& path) {
    return absl::UnimplementedError(
        "this store keeps nothing on disk to back up");
  }

 protected:
  // What every store's claims do to the rows they took, in their
  // transaction: each of `due` becomes `sending`, with one more attempt
  // counted and next_attempt_at at the lease's end. Returns them so.
  static absl::StatusOr<std::vector<v1::Delivery>> TakeDeliveries(
      StoreTxn& txn, std::vector<v1::Delivery> due, const ClaimRequest& claim);
  // Leases each of `due` till the claim's end.
  static absl::Status TakeJobs(StoreTxn& txn, const std::vector<v1::Job>& due,
                               const ClaimRequest& claim);
};

}  // namespace herald

#endif  // HERALD_SERVER_STORE_STORE_H_
