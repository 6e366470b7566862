#include "server/core/aftercare/affected_customers.h"

#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace herald {
namespace {

bool Reachable(const v1::Subscriber& s) {
  return s.status() == v1::SUBSCRIBER_STATUS_ACTIVE ||
         s.status() == v1::SUBSCRIBER_STATUS_UNSPECIFIED;
}

}  // namespace

AffectedCustomers::AffectedCustomers(const CoreDeps& deps) : deps_(deps) {}

absl::StatusOr<std::vector<v1::AffectedCustomer>> AffectedCustomers::Find(
    StoreReader& reader, const v1::Incident& incident) const {
  std::map<std::string, v1::AffectedCustomer> by_id;
  for (const std::string& component : incident.component_ids()) {
    absl::StatusOr<std::vector<v1::Subscriber>> subs =
        reader.ListSubscribers({.component_id = component});
    if (!subs.ok()) return subs.status();
    for (v1::Subscriber& s : *subs) {
      if (!Reachable(s)) continue;
      v1::AffectedCustomer& c = by_id[s.id()];
      if (!c.has_subscriber()) *c.mutable_subscriber() = std::move(s);
      c.add_component_ids(component);
    }
  }

  const auto& labels = deps_.org->config().intake().customer_labels();
  // account -> the labels that name it, e.g. "customer=globex"
  std::map<std::string, std::set<std::string>> named;
  absl::StatusOr<std::vector<v1::Alert>> alerts =
      labels.empty() ? std::vector<v1::Alert>{}
                     : reader.ListAlerts(incident.id());
  if (!alerts.ok()) return alerts.status();
  for (const v1::Alert& alert : *alerts) {
    for (const std::string& label : labels) {
      auto it = alert.labels().find(label);
      if (it == alert.labels().end() || it->second.empty()) continue;
      named[it->second].insert(absl::StrCat(label, "=", it->second));
    }
  }
  if (!named.empty()) {
    std::vector<std::string> accounts;
    for (const auto& [account, _] : named) accounts.push_back(account);
    absl::StatusOr<std::vector<v1::Subscriber>> subs =
        reader.ListSubscribersByAccount(accounts);
    if (!subs.ok()) return subs.status();
    for (v1::Subscriber& s : *subs) {
      if (!Reachable(s)) continue;
      const std::set<std::string>& why = named[s.account()];
      v1::AffectedCustomer& c = by_id[s.id()];
      if (!c.has_subscriber()) *c.mutable_subscriber() = std::move(s);
      for (const std::string& l : why) c.add_alert_labels(l);
    }
  }
  std::vector<v1::AffectedCustomer> out;
  out.reserve(by_id.size());
  for (auto& [id, c] : by_id) out.push_back(std::move(c));
  return out;
}

absl::StatusOr<std::vector<v1::AffectedCustomer>>
AffectedCustomers::ForIncident(int64_t incident_id) const {
  std::vector<v1::AffectedCustomer> out;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<v1::Incident> incident = r.GetIncident(incident_id);
    if (!incident.ok()) return incident.status();
    absl::StatusOr<std::vector<v1::AffectedCustomer>> found =
        Find(r, *incident);
    if (!found.ok()) return found.status();
    out = *std::move(found);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace herald
