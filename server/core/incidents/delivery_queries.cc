// IncidentQueries' lists of deliveries and of the audit log.
#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/base/proto_time.h"
#include "server/core/incidents/incident_queries.h"
#include "server/core/subscribers/link_tokens.h"

namespace herald {

namespace {

// Progress, not content: a fan-out's bodies would dwarf the answer.
std::vector<v1::Delivery> WithoutContent(std::vector<v1::Delivery> list) {
  for (v1::Delivery& d : list) {
    d.clear_body();
    d.clear_html_body();
  }
  return list;
}

}  // namespace

absl::StatusOr<Page<v1::Delivery>> IncidentQueries::ListDeliveries(
    int64_t message_id, const PageRequest& request) const {
  absl::StatusOr<KeysetPage> page = OpenKeysetPage(request);
  if (!page.ok()) return page.status();
  absl::StatusOr<int64_t> after = page->AfterId();
  if (!after.ok()) return after.status();
  Page<v1::Delivery> out;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    if (auto m = r.GetMessage(message_id); !m.ok()) return m.status();
    absl::StatusOr<std::vector<v1::Delivery>> list =
        r.ListDeliveriesPage(message_id, *after, page->size + 1);
    if (!list.ok()) return list.status();
    out =
        ClosePage(WithoutContent(*std::move(list)), *page, IdKey<v1::Delivery>);
    return absl::OkStatus();
  });
  if (absl::IsNotFound(s)) {
    return absl::NotFoundError(
        absl::StrCat("no message ", MessageRef(message_id)));
  }
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Page<v1::Delivery>> IncidentQueries::ListFailedDeliveries(
    const PageRequest& request) const {
  absl::StatusOr<KeysetPage> page =
      OpenKeysetPage(request, kDefaultFailedDeliveriesPageSize);
  if (!page.ok()) return page.status();
  absl::StatusOr<int64_t> before = page->AfterId();  // newest first
  if (!before.ok()) return before.status();
  Page<v1::Delivery> out;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<v1::Delivery>> list =
        r.ListFailedDeliveries(*before, page->size + 1);
    if (!list.ok()) return list.status();
    out =
        ClosePage(WithoutContent(*std::move(list)), *page, IdKey<v1::Delivery>);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Page<v1::AuditEntry>> IncidentQueries::ListAudit(
    int64_t incident_id, const PageRequest& request) const {
  absl::StatusOr<KeysetPage> page = OpenKeysetPage(request);
  if (!page.ok()) return page.status();
  absl::StatusOr<int64_t> after = page->AfterId();
  if (!after.ok()) return after.status();
  Page<v1::AuditEntry> out;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<v1::AuditEntry>> list =
        r.ListAuditPage(incident_id, *after, page->size + 1);
    if (!list.ok()) return list.status();
    out = ClosePage(*std::move(list), *page, IdKey<v1::AuditEntry>);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace herald
