#include "server/store/memory_txn.h"

namespace herald::memory {

absl::StatusOr<v1::Incident> MemoryTxn::GetIncident(int64_t id) {
  auto it = s_.incidents.find(id);
  if (it == s_.incidents.end())
    return absl::NotFoundError(absl::StrCat("no incident ", id));
  return it->second;
}

absl::StatusOr<v1::Incident> MemoryTxn::FindOpenIncident(
    const std::string& group_key) {
  for (const auto& [id, i] : s_.incidents) {
    if (IsOpen(i) && HasGroup(i, group_key)) return i;
  }
  return absl::NotFoundError(
      absl::StrCat("no open incident for group ", group_key));
}

absl::StatusOr<v1::Incident> MemoryTxn::FindLatestIncident(
    const std::string& group_key) {
  for (auto it = s_.incidents.rbegin(); it != s_.incidents.rend(); ++it) {
    if (HasGroup(it->second, group_key)) return it->second;
  }
  return absl::NotFoundError(absl::StrCat("no incident for group ", group_key));
}

absl::StatusOr<std::vector<v1::Alert>> MemoryTxn::ListUnroutedAlerts() {
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

absl::StatusOr<std::vector<v1::Amends>> MemoryTxn::ListAmends(
    int64_t incident_id) {
  std::vector<v1::Amends> out = Select(s_.amends, [&](const v1::Amends& a) {
    return a.incident_id() == incident_id;
  });
  std::sort(out.begin(), out.end(),
            [](const v1::Amends& a, const v1::Amends& b) {
              return a.subscriber_id() < b.subscriber_id();
            });
  return out;
}

absl::StatusOr<v1::Amends> MemoryTxn::GetAmends(int64_t id) {
  auto it = s_.amends.find(id);
  if (it == s_.amends.end()) {
    return absl::NotFoundError(absl::StrCat("no amends ", id));
  }
  return it->second;
}

absl::StatusOr<v1::Amends> MemoryTxn::FindAmends(
    int64_t incident_id, const std::string& subscriber_id) {
  for (const auto& [id, a] : s_.amends) {
    if (a.incident_id() == incident_id && a.subscriber_id() == subscriber_id)
      return a;
  }
  return absl::NotFoundError(absl::StrCat("no amends for ", subscriber_id,
                                          " of incident ", incident_id));
}

absl::StatusOr<std::vector<v1::RotaOverride>> MemoryTxn::ListOverrides(
    const std::string& rota_id, absl::Time after) {
  return Select(s_.overrides, [&](const v1::RotaOverride& o) {
    return (rota_id.empty() || o.rota_id() == rota_id) &&
           FromProtoTime(o.ends_at()) > after;
  });
}

absl::StatusOr<std::vector<v1::Job>> MemoryTxn::ListDueJobs(absl::Time now,
                                                            int limit) {
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

absl::StatusOr<OutboxStats> MemoryTxn::GetOutboxStats() {
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

absl::StatusOr<std::vector<v1::Incident>> MemoryTxn::ListIncidents(
    const IncidentFilter& f) {
  auto out = Select(s_.incidents, [&](const v1::Incident& i) {
    return (f.include_resolved || IsOpen(i)) &&
           (f.before_id == 0 || i.id() < f.before_id);
  });
  std::reverse(out.begin(), out.end());
  return Limited(std::move(out), f.limit);
}

absl::StatusOr<v1::Alert> MemoryTxn::GetAlert(const std::string& fingerprint) {
  auto it = s_.alerts.find(fingerprint);
  if (it == s_.alerts.end())
    return absl::NotFoundError(absl::StrCat("no alert ", fingerprint));
  return it->second;
}

absl::StatusOr<std::vector<v1::Alert>> MemoryTxn::ListAlerts(
    int64_t incident_id) {
  std::vector<v1::Alert> out;
  for (const auto& [fp, a] : s_.alerts) {
    if (a.incident_id() == incident_id) out.push_back(a);
  }
  return out;
}

absl::StatusOr<std::vector<v1::Alert>> MemoryTxn::ListAlertsPage(
    int64_t incident_id, const std::string& after_fingerprint, int limit) {
  std::vector<v1::Alert> out;
  for (auto it = s_.alerts.upper_bound(after_fingerprint);
       it != s_.alerts.end() && static_cast<int>(out.size()) < limit; ++it) {
    if (it->second.incident_id() == incident_id) out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<std::vector<v1::Alert>> MemoryTxn::ListUnroutedAlertsPage(
    int64_t after_incident_id, const std::string& after_fingerprint,
    int limit) {
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

absl::StatusOr<int64_t> MemoryTxn::CountAlerts(int64_t incident_id) {
  int64_t n = 0;
  for (const auto& [fp, a] : s_.alerts) n += a.incident_id() == incident_id;
  return n;
}

absl::StatusOr<int64_t> MemoryTxn::CountUnroutedAlerts() {
  int64_t n = 0;
  for (const auto& [fp, a] : s_.alerts) n += a.unrouted();
  return n;
}

absl::StatusOr<std::vector<v1::Update>> MemoryTxn::ListUpdates(
    int64_t incident_id) {
  return Select(s_.updates, [&](const v1::Update& u) {
    return u.incident_id() == incident_id;
  });
}

absl::StatusOr<v1::Message> MemoryTxn::GetMessage(int64_t id) {
  auto it = s_.messages.find(id);
  if (it == s_.messages.end())
    return absl::NotFoundError(absl::StrCat("no message ", id));
  return it->second;
}

absl::StatusOr<std::vector<v1::Message>> MemoryTxn::ListMessages(
    const MessageFilter& f) {
  return Limited(
      Select(s_.messages,
             [&](const v1::Message& m) {
               if (m.id() <= f.after_id) return false;
               if (f.incident_id != 0 && m.incident_id() != f.incident_id)
                 return false;
               return f.states.empty() ||
                      std::find(f.states.begin(), f.states.end(), m.state()) !=
                          f.states.end();
             }),
      f.limit);
}

absl::StatusOr<std::vector<v1::TimelineEvent>> MemoryTxn::ListTimeline(
    int64_t incident_id) {
  return Select(s_.timeline, [&](const v1::TimelineEvent& e) {
    return e.incident_id() == incident_id;
  });
}

absl::StatusOr<std::vector<v1::TimelineEvent>> MemoryTxn::ListTimelinePage(
    int64_t incident_id, int64_t after_id, int limit) {
  std::vector<v1::TimelineEvent> out;
  for (auto it = s_.timeline.upper_bound(after_id);
       it != s_.timeline.end() && static_cast<int>(out.size()) < limit; ++it) {
    if (it->second.incident_id() == incident_id) out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<int64_t> MemoryTxn::CountTimeline(int64_t incident_id) {
  int64_t n = 0;
  for (const auto& [id, e] : s_.timeline) n += e.incident_id() == incident_id;
  return n;
}

absl::StatusOr<std::vector<v1::MessageVersion>> MemoryTxn::ListMessageVersions(
    int64_t message_id) {
  std::vector<v1::MessageVersion> out;
  for (auto it = s_.versions.lower_bound({message_id, 0});
       it != s_.versions.end() && it->first.first == message_id; ++it) {
    out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<std::vector<v1::AuditEntry>> MemoryTxn::ListAudit(
    int64_t incident_id) {
  return Select(s_.audit, [&](const v1::AuditEntry& e) {
    return incident_id == 0 || e.incident_id() == incident_id;
  });
}

absl::StatusOr<std::vector<v1::AuditEntry>> MemoryTxn::ListAuditPage(
    int64_t incident_id, int64_t after_id, int limit) {
  return First(
      Select(s_.audit,
             [&](const v1::AuditEntry& e) {
               return e.id() > after_id &&
                      (incident_id == 0 || e.incident_id() == incident_id);
             }),
      limit);
}

absl::StatusOr<std::vector<v1::Subscriber>> MemoryTxn::ListSubscribers(
    const SubscriberFilter& filter) {
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

absl::StatusOr<v1::Subscriber> MemoryTxn::GetSubscriber(const std::string& id) {
  auto it = s_.subscribers.find(id);
  if (it == s_.subscribers.end())
    return absl::NotFoundError(absl::StrCat("no subscriber \"", id, "\""));
  return it->second;
}

absl::StatusOr<v1::Subscriber> MemoryTxn::FindSubscriberByEmail(
    const std::string& email) {
  for (const auto& [id, s] : s_.subscribers) {
    if (!s.email().empty() && absl::EqualsIgnoreCase(s.email(), email)) {
      return s;
    }
  }
  return absl::NotFoundError(absl::StrCat("no subscriber with email ", email));
}

absl::StatusOr<std::vector<v1::Subscriber>> MemoryTxn::ListSubscribersByAccount(
    const std::vector<std::string>& accounts) {
  std::vector<v1::Subscriber> out;
  for (const auto& [id, s] : s_.subscribers) {
    if (!s.account().empty() && std::find(accounts.begin(), accounts.end(),
                                          s.account()) != accounts.end()) {
      out.push_back(s);
    }
  }
  return out;
}

absl::StatusOr<std::vector<v1::Subscriber>>
MemoryTxn::ListPendingSubscribers() {
  std::vector<v1::Subscriber> out;
  for (const auto& [id, s] : s_.subscribers) {
    if (s.status() == v1::SUBSCRIBER_STATUS_PENDING) out.push_back(s);
  }
  return out;
}

absl::StatusOr<int64_t> MemoryTxn::CountAudience(
    const std::vector<std::string>& component_ids) {
  int64_t n = 0;
  for (const auto& [id, s] : s_.subscribers) {
    if (InAudience(s, component_ids)) ++n;
  }
  return n;
}

absl::StatusOr<std::vector<TokenRecord>> MemoryTxn::ListTokens() {
  std::vector<TokenRecord> out;
  for (const auto& [hash, person] : s_.tokens) out.push_back({hash, person});
  return out;
}

absl::StatusOr<std::string> MemoryTxn::GetExpiring(const std::string& kind,
                                                   const std::string& name,
                                                   absl::Time now) {
  auto it = s_.expiring.find({kind, name});
  if (it == s_.expiring.end() || it->second.expires <= now) {
    return absl::NotFoundError(absl::StrCat("no ", kind, " \"", name, "\""));
  }
  return it->second.value;
}

absl::StatusOr<std::string> MemoryTxn::GetSetting(const std::string& name) {
  auto it = s_.settings.find(name);
  if (it == s_.settings.end()) {
    return absl::NotFoundError(absl::StrCat("no setting \"", name, "\""));
  }
  return it->second;
}

absl::StatusOr<std::vector<v1::ComponentState>>
MemoryTxn::ListComponentStates() {
  std::vector<v1::ComponentState> out;
  for (const auto& [id, c] : s_.components) out.push_back(c);
  return out;
}

absl::StatusOr<std::vector<v1::Delivery>> MemoryTxn::ListDueDeliveries(
    absl::Time now, int limit) {
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

absl::StatusOr<v1::Delivery> MemoryTxn::GetDelivery(int64_t id) {
  auto it = s_.deliveries.find(id);
  if (it == s_.deliveries.end())
    return absl::NotFoundError(absl::StrCat("no delivery ", id));
  return it->second;
}

absl::StatusOr<std::vector<v1::Delivery>> MemoryTxn::ListDeliveries(
    int64_t message_id, int64_t incident_id) {
  return Select(s_.deliveries, [&](const v1::Delivery& d) {
    return d.message_id() == message_id &&
           (message_id != 0 || d.incident_id() == incident_id);
  });
}

absl::StatusOr<std::vector<v1::Delivery>> MemoryTxn::ListDeliveriesPage(
    int64_t message_id, int64_t after_id, int limit) {
  return First(Select(s_.deliveries,
                      [&](const v1::Delivery& d) {
                        return d.message_id() == message_id &&
                               d.id() > after_id;
                      }),
               limit);
}

absl::StatusOr<std::vector<v1::Delivery>> MemoryTxn::ListRecipientDeliveries(
    int64_t incident_id, const std::string& recipient) {
  return Select(s_.deliveries, [&](const v1::Delivery& d) {
    return d.incident_id() == incident_id && d.recipient() == recipient;
  });
}

absl::StatusOr<std::vector<v1::Delivery>> MemoryTxn::ListFailedDeliveries(
    int64_t before_id, int limit) {
  auto out = Select(s_.deliveries, [&](const v1::Delivery& d) {
    return d.state() == v1::DELIVERY_STATE_FAILED &&
           (before_id == 0 || d.id() < before_id);
  });
  std::reverse(out.begin(), out.end());
  return First(std::move(out), limit);
}

}  // namespace herald::memory
