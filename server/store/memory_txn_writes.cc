#include "absl/strings/match.h"
#include "server/store/memory_txn.h"

namespace herald::memory {

absl::StatusOr<int64_t> MemoryTxn::InsertIncident(
    const v1::Incident& incident) {
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

absl::Status MemoryTxn::UpdateIncident(const v1::Incident& incident) {
  if (auto st = Storable(incident); !st.ok()) return st;
  auto it = s_.incidents.find(incident.id());
  if (it == s_.incidents.end())
    return absl::NotFoundError(absl::StrCat("no incident ", incident.id()));
  it->second = incident;
  return absl::OkStatus();
}

absl::Status MemoryTxn::PutAlert(const v1::Alert& alert) {
  if (auto st = Storable(alert); !st.ok()) return st;
  s_.alerts[alert.fingerprint()] = alert;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemoryTxn::InsertUpdate(const v1::Update& update) {
  if (auto st = Storable(update); !st.ok()) return st;
  return Insert(s_.updates, s_.last_id.updates, update);
}

absl::StatusOr<int64_t> MemoryTxn::InsertMessage(const v1::Message& message) {
  if (auto st = Storable(message); !st.ok()) return st;
  return Insert(s_.messages, s_.last_id.messages, message);
}

absl::Status MemoryTxn::UpdateMessage(const v1::Message& message) {
  if (auto st = Storable(message); !st.ok()) return st;
  auto it = s_.messages.find(message.id());
  if (it == s_.messages.end())
    return absl::NotFoundError(absl::StrCat("no message ", message.id()));
  it->second = message;
  return absl::OkStatus();
}

absl::Status MemoryTxn::AppendTimeline(const v1::TimelineEvent& event) {
  if (auto st = Storable(event); !st.ok()) return st;
  Insert(s_.timeline, s_.last_id.timeline, event);
  return absl::OkStatus();
}

absl::Status MemoryTxn::InsertMessageVersion(const v1::MessageVersion& v) {
  if (auto st = Storable(v); !st.ok()) return st;
  if (!s_.versions.try_emplace({v.message_id(), v.version()}, v).second) {
    return absl::AlreadyExistsError(absl::StrCat(
        "message ", v.message_id(), " already has version ", v.version()));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemoryTxn::AppendAudit(const v1::AuditEntry& entry) {
  if (auto st = Storable(entry); !st.ok()) return st;
  return Insert(s_.audit, s_.last_id.audit, entry);
}

absl::StatusOr<int64_t> MemoryTxn::EnqueueFanOut(const FanOut& fan_out) {
  // The subscribers the audience is drawn from, when it is not the
  // components': the amends, or those an earlier message reached.
  std::set<std::string> chosen;
  if (fan_out.to_amends) {
    for (const auto& [id, a] : s_.amends) {
      if (a.incident_id() == fan_out.incident_id) {
        chosen.insert(a.subscriber_id());
      }
    }
  }
  if (fan_out.to_told) {
    for (const auto& [id, d] : s_.deliveries) {
      if (d.incident_id() == fan_out.incident_id &&
          d.message_id() != fan_out.message_id &&
          d.state() != v1::DELIVERY_STATE_FAILED &&
          d.state() != v1::DELIVERY_STATE_CANCELLED &&
          d.state() != v1::DELIVERY_STATE_SUPERSEDED &&
          absl::StartsWith(d.recipient(), "subscriber:")) {
        chosen.insert(d.recipient().substr(sizeof("subscriber:") - 1));
      }
    }
  }
  int64_t queued = 0;
  for (const auto& [id, s] : s_.subscribers) {
    if (fan_out.to_amends || fan_out.to_told
            ? !(IsActive(s) && chosen.contains(id))
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

absl::Status MemoryTxn::PutSubscriber(const v1::Subscriber& subscriber) {
  if (auto st = Storable(subscriber); !st.ok()) return st;
  s_.subscribers[subscriber.id()] = subscriber;
  return absl::OkStatus();
}

absl::Status MemoryTxn::DeleteSubscriber(const std::string& id) {
  if (s_.subscribers.erase(id) == 0) {
    return absl::NotFoundError(absl::StrCat("no subscriber \"", id, "\""));
  }
  return absl::OkStatus();
}

absl::Status MemoryTxn::PutToken(const TokenRecord& token) {
  s_.tokens[token.sha256_hex] = token.person_id;
  return absl::OkStatus();
}

absl::Status MemoryTxn::PutExpiring(const std::string& kind,
                                    const std::string& name,
                                    const std::string& value,
                                    absl::Time expires) {
  s_.expiring[{kind, name}] = {value, expires};
  return absl::OkStatus();
}

absl::Status MemoryTxn::DeleteExpiring(const std::string& kind,
                                       const std::string& name) {
  s_.expiring.erase({kind, name});
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemoryTxn::PurgeExpired(absl::Time now, int limit) {
  int64_t purged = 0;
  for (auto it = s_.expiring.begin();
       it != s_.expiring.end() && purged < limit;) {
    if (it->second.expires <= now) {
      it = s_.expiring.erase(it);
      ++purged;
    } else {
      ++it;
    }
  }
  return purged;
}

absl::Status MemoryTxn::PutSetting(const std::string& name,
                                   const std::string& value) {
  s_.settings[name] = value;
  return absl::OkStatus();
}

absl::Status MemoryTxn::PutComponentState(const v1::ComponentState& state) {
  if (auto st = Storable(state); !st.ok()) return st;
  s_.components[state.component_id()] = state;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemoryTxn::InsertAmends(const v1::Amends& amends) {
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

absl::Status MemoryTxn::UpdateAmends(const v1::Amends& amends) {
  if (auto st = Storable(amends); !st.ok()) return st;
  auto it = s_.amends.find(amends.id());
  if (it == s_.amends.end()) {
    return absl::NotFoundError(absl::StrCat("no amends ", amends.id()));
  }
  it->second = amends;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemoryTxn::InsertOverride(
    const v1::RotaOverride& override) {
  if (auto st = Storable(override); !st.ok()) return st;
  return Insert(s_.overrides, s_.last_id.overrides, override);
}

absl::Status MemoryTxn::DeleteOverride(int64_t id) {
  if (s_.overrides.erase(id) == 0) {
    return absl::NotFoundError(absl::StrCat("no override ", id));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemoryTxn::InsertJob(const v1::Job& job) {
  if (auto st = Storable(job); !st.ok()) return st;
  return Insert(s_.jobs, s_.last_id.jobs, job);
}

absl::Status MemoryTxn::UpdateJob(const v1::Job& job) {
  if (auto st = Storable(job); !st.ok()) return st;
  auto it = s_.jobs.find(job.id());
  if (it == s_.jobs.end()) {
    return absl::NotFoundError(absl::StrCat("no job ", job.id()));
  }
  it->second = job;
  s_.job_leases.erase(job.id());
  return absl::OkStatus();
}

absl::Status MemoryTxn::LeaseJob(int64_t id, absl::Time until) {
  if (!s_.jobs.contains(id)) {
    return absl::NotFoundError(absl::StrCat("no job ", id));
  }
  s_.job_leases[id] = until;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemoryTxn::InsertDelivery(
    const v1::Delivery& delivery) {
  if (auto st = Storable(delivery); !st.ok()) return st;
  for (const auto& [id, d] : s_.deliveries) {
    if (d.idempotency_key() == delivery.idempotency_key()) {
      return absl::AlreadyExistsError(
          absl::StrCat("delivery ", delivery.idempotency_key(), " exists"));
    }
  }
  return Insert(s_.deliveries, s_.last_id.deliveries, delivery);
}

absl::Status MemoryTxn::UpdateDelivery(const v1::Delivery& delivery) {
  if (auto st = Storable(delivery); !st.ok()) return st;
  auto it = s_.deliveries.find(delivery.id());
  if (it == s_.deliveries.end())
    return absl::NotFoundError(absl::StrCat("no delivery ", delivery.id()));
  it->second = delivery;
  return absl::OkStatus();
}

absl::StatusOr<int> MemoryTxn::RequeueInterruptedDeliveries(absl::Time now) {
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

absl::StatusOr<int> MemoryTxn::ReleaseWaitingDeliveries(v1::ChannelKind channel,
                                                        absl::Time now) {
  int n = 0;
  for (auto& [id, d] : s_.deliveries) {
    if (d.state() == v1::DELIVERY_STATE_RETRYING && d.waiting_on() == channel) {
      *d.mutable_next_attempt_at() = ToProtoTime(now);
      ++n;
    }
  }
  return n;
}

}  // namespace herald::memory
