// CommsWorkflow's retries of failed deliveries: queued again, a page at a
// time, and audited.
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "herald/enum_labels.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"
#include "server/base/text.h"
#include "server/core/comms/comms_workflow.h"
#include "server/core/comms/message_records.h"
#include "server/core/incidents/open_incident.h"
#include "server/core/incidents/public_incident.h"
#include "server/core/incidents/timeline.h"

namespace herald {

absl::StatusOr<int> CommsWorkflow::RetryFailedDeliveries(
    const Caller& caller, const RetryFilter& filter) const {
  // A page per transaction, so that a retry over a long history never holds
  // the store's writer for long; a page that fails leaves the earlier ones
  // queued and audited.
  constexpr int kPage = 1000;
  const absl::Time now = deps_.clock.Now();
  int requeued = 0;
  int64_t cursor = 0;  // a message's: after this id; every: before it
  for (bool more = true; more;) {
    const int64_t page_start = cursor;
    int in_page = 0;
    absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
      cursor = page_start;  // the store may run this again
      std::vector<v1::Delivery> failed;
      absl::StatusOr<std::vector<v1::Delivery>> page =
          filter.message_id != 0
              ? txn.ListDeliveriesPage(filter.message_id, cursor, kPage)
              : txn.ListFailedDeliveries(cursor, kPage);
      if (!page.ok()) return page.status();
      if (filter.message_id != 0 && cursor == 0) {
        if (auto m = txn.GetMessage(filter.message_id); !m.ok()) {
          return m.status();
        }
      }
      more = static_cast<int>(page->size()) == kPage;
      if (!page->empty()) cursor = page->back().id();
      for (v1::Delivery& d : *page) {
        if (d.state() != v1::DELIVERY_STATE_FAILED) continue;
        if (FromProtoTime(d.created_at()) < filter.since) {
          // Newest first (ids follow queuing): the rest are older still.
          if (filter.message_id == 0) more = false;
          continue;
        }
        if (filter.channel != v1::CHANNEL_KIND_UNSPECIFIED &&
            d.channel() != filter.channel) {
          continue;
        }
        failed.push_back(std::move(d));
      }
      absl::StatusOr<int> done = Requeue(txn, caller, std::move(failed), now);
      if (!done.ok()) return done.status();
      in_page = *done;
      return absl::OkStatus();
    });
    if (absl::IsNotFound(s) && filter.message_id != 0) {
      return absl::NotFoundError(
          absl::StrCat("no message ", MessageRef(filter.message_id)));
    }
    if (!s.ok()) return s;
    requeued += in_page;
  }
  if (requeued > 0) {
    LogInfo("failed deliveries queued again",
            {{"count", absl::StrCat(requeued)}, {"by", caller.person_id}});
  }
  return requeued;
}

absl::StatusOr<int> CommsWorkflow::Requeue(StoreTxn& txn, const Caller& caller,
                                           std::vector<v1::Delivery> failed,
                                           absl::Time now) const {
  int requeued = 0;
  // (message id, incident id) -> how many, for the audit log.
  std::map<std::pair<int64_t, int64_t>, int> retried;
  for (v1::Delivery& d : failed) {
    if (!d.unreadable().empty()) continue;  // it would only fail again
    d.set_state(v1::DELIVERY_STATE_QUEUED);
    d.set_contact_index(0);
    d.set_contact_attempts(0);
    d.clear_contact_since();
    d.set_waiting_on(v1::CHANNEL_KIND_UNSPECIFIED);
    d.clear_waiting_since();
    *d.mutable_next_attempt_at() = ToProtoTime(now);
    if (absl::Status st = txn.UpdateDelivery(d); !st.ok()) return st;
    ++retried[{d.message_id(), d.incident_id()}];
    ++requeued;
  }
  for (const auto& [key, count] : retried) {
    const auto& [message_id, incident_id] = key;
    const std::string detail =
        absl::StrCat(count, " failed deliveries queued again");
    if (message_id != 0) {
      absl::StatusOr<v1::Message> m = txn.GetMessage(message_id);
      if (!m.ok()) return m.status();
      if (absl::Status st =
              AuditMessage(txn, *m, caller.person_id, "retried", detail, now);
          !st.ok()) {
        return st;
      }
      continue;
    }
    v1::AuditEntry e;  // staff notices belong to no message
    e.set_incident_id(incident_id);
    e.set_actor_id(caller.person_id);
    e.set_action("retried");
    e.set_detail(absl::StrCat(count, " failed staff notices queued again"));
    *e.mutable_at() = ToProtoTime(now);
    if (auto id = txn.AppendAudit(e); !id.ok()) return id.status();
  }
  return requeued;
}

}  // namespace herald
