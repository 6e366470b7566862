// IncidentQueries answers the read side of the API: incidents with their
// alerts, updates, messages and timeline; messages with their versions,
// previews and audit trail; and who is on call. Thread-safe.
#ifndef HERALD_SERVER_CORE_INCIDENTS_INCIDENT_QUERIES_H_
#define HERALD_SERVER_CORE_INCIDENTS_INCIDENT_QUERIES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"
#include "server/core/aftercare/aftercare.h"
#include "server/core/comms/delivery_planner.h"
#include "server/core/core_deps.h"
#include "server/core/paging.h"

namespace herald {

// One page of alerts, and where the next one starts ("" after the last).
struct AlertPage {
  std::vector<v1::Alert> alerts;
  std::string next_page_token;
  int64_t total = 0;  // every alert the query names
};

// An incident and what is recorded about it (GetIncident): its alerts and
// timeline one page at a time, everything else whole.
struct IncidentDetail {
  v1::Incident incident;
  std::vector<v1::Alert> alerts;  // by fingerprint
  std::vector<v1::Update> updates;
  // Without their published_incident: `incident` is that.
  std::vector<v1::Message> messages;
  std::vector<v1::TimelineEvent> timeline;
  // How far each published message got, per channel; only when asked.
  std::vector<v1::MessageReach> reach;
  // Where the next page of alerts or timeline starts; "" after the last.
  std::string next_page_token;
  int64_t alert_count = 0;     // every alert, on every page
  int64_t timeline_count = 0;  // every timeline event, on every page
};

// A message with its history and what each channel would send (GetMessage).
struct MessageDetail {
  v1::Message message;
  std::vector<v1::MessageVersion> versions;  // oldest first
  std::vector<v1::AuditEntry> audit;         // of this message, oldest first
  std::vector<v1::ChannelPreview> previews;
  // Every language it goes out in (among the readers the previews look
  // through) and every language it is translated into.
  std::vector<v1::LanguageCoverage> languages;
  // For a maintenance announcement, the notices its approval covers.
  std::vector<v1::Message> covered;
};

class IncidentQueries {
 public:
  IncidentQueries(const CoreDeps& deps, const DeliveryPlanner& planner,
                  const Aftercare& aftercare);

  // Every list below comes a page at a time (paging.h): InvalidArgument
  // naming page_size or page_token when either is not one this returned.

  // Newest first; unresolved ones only unless `include_resolved`.
  absl::StatusOr<Page<v1::Incident>> ListIncidents(
      bool include_resolved, const PageRequest& page = {}) const;

  // The incident and everything recorded about it, its alerts and timeline
  // one page at a time (`page`: at most page_size of each, 100 by default,
  // and about kAlertPageBytes / kTimelinePageBytes of them, so that a reply
  // stays small however large the incident grows); with `include_reach`,
  // each published message's deliveries counted per channel too (which
  // reads every delivery). NotFound when unknown; InvalidArgument naming
  // page_size or page_token when either is not one this returned.
  absl::StatusOr<IncidentDetail> GetIncident(
      int64_t incident_id, bool include_reach = false,
      const PageRequest& page = {}) const;

  // Messages of `incident_id` (0: all) in `states` (empty: awaiting
  // approval), by id.
  absl::StatusOr<Page<v1::Message>> ListMessages(
      int64_t incident_id, std::vector<v1::MessageState> states,
      const PageRequest& page = {}) const;

  // Every message waiting for approval with its incident, audience size
  // and update cadence: newest incident first, each incident's oldest
  // message first.
  absl::StatusOr<std::vector<v1::InboxItem>> Inbox() const;

  // One message with its versions, its audit entries and a preview of what
  // each channel sends (email as the first subscriber it goes to would get
  // it; for an apology or follow-up, the first few customers' own copies).
  // NotFound when unknown.
  absl::StatusOr<MessageDetail> GetMessage(int64_t message_id) const;

  // The audit log of `incident_id` (0: every incident), oldest first.
  absl::StatusOr<Page<v1::AuditEntry>> ListAudit(
      int64_t incident_id, const PageRequest& page = {}) const;

  // Each recipient's delivery of `message_id`, without content, by id.
  // NotFound for an unknown message.
  absl::StatusOr<Page<v1::Delivery>> ListDeliveries(
      int64_t message_id, const PageRequest& page = {}) const;
  // Deliveries that gave up, newest first, without content; 100 a page
  // unless asked otherwise.
  absl::StatusOr<Page<v1::Delivery>> ListFailedDeliveries(
      const PageRequest& page = {}) const;

  // The point person of every rota (or the rota of `component_id`) at `at`,
  // overrides applied and names filled in. NotFound for an unknown component
  // or one no rota covers.
  absl::StatusOr<std::vector<v1::OnCallAssignment>> OnCall(
      const std::string& component_id, absl::Time at) const;

  // One page of the alerts of `incident_id` (by fingerprint), or with
  // `unrouted_only`, of every alert that matched no component (newest
  // incident first): at most page_size (500 by default) and about
  // kAlertPageBytes. NotFound for an unknown incident; InvalidArgument as
  // GetIncident.
  absl::StatusOr<AlertPage> ListAlerts(int64_t incident_id, bool unrouted_only,
                                       const PageRequest& page = {}) const;

  // Page sizes: the defaults, the largest a caller may ask for, and how
  // many bytes of alerts or timeline events one page holds at most (a
  // page always holds at least one, if any is left).
  static constexpr int kDefaultIncidentPageSize = 100;
  static constexpr int kDefaultAlertPageSize = 500;
  static constexpr int kDefaultFailedDeliveriesPageSize = 100;
  static constexpr size_t kAlertPageBytes = 512 * 1024;
  static constexpr size_t kTimelinePageBytes = 256 * 1024;

 private:
  // When customers of `incident` are next due an update (see InboxItem),
  // given its messages: a cadence after what they last heard, or after the
  // incident (re)opened; InfinitePast when no cadence applies.
  absl::StatusOr<absl::Time> UpdateDueAt(
      StoreReader& r, const v1::Incident& incident,
      const std::vector<v1::Message>& messages) const;

  // How many customers' own copies of an apology a preview shows.
  static constexpr size_t kPersonalPreviews = 3;
  // How many recipients a preview looks through for further languages.
  static constexpr int kLanguageScan = 200;

  // Adds the first few customers' own copies of apology or follow-up
  // `message` to `out`, and counts the languages of the customers it looked
  // through into `readers` (primary language: how many).
  absl::Status AddPersonalPreviews(
      StoreReader& r, const v1::Message& message, const v1::Incident& incident,
      MessageDetail& out, std::map<std::string, int64_t>& readers) const;

  const CoreDeps& deps_;
  const DeliveryPlanner& planner_;
  const Aftercare& aftercare_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_INCIDENTS_INCIDENT_QUERIES_H_
