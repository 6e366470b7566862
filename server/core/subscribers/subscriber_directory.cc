#include "server/core/subscribers/subscriber_directory.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"
#include "server/base/secret_token.h"
#include "server/core/subscribers/contacts.h"

namespace herald {
namespace {

absl::Status Unsubscribed(const v1::Subscriber& s) {
  return absl::FailedPreconditionError(absl::StrCat(
      "subscriber \"", s.id(),
      "\" unsubscribed; only they can subscribe again, from the status page"));
}

// Refuses an email address another subscriber already has.
absl::Status CheckEmailFree(StoreReader& r, const v1::Subscriber& s) {
  if (s.email().empty()) return absl::OkStatus();
  absl::StatusOr<v1::Subscriber> other = r.FindSubscriberByEmail(s.email());
  if (absl::IsNotFound(other.status())) return absl::OkStatus();
  if (!other.ok()) return other.status();
  if (other->id() == s.id()) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat(
      "email: ", s.email(), " belongs to subscriber \"", other->id(), "\""));
}

}  // namespace

v1::Subscriber WithoutSecrets(v1::Subscriber subscriber) {
  for (v1::Contact& c : *subscriber.mutable_contacts()) {
    for (std::string& secret : *c.mutable_signing_secrets()) {
      secret = absl::StrCat("whsec_…", secret.size() > 10
                                           ? secret.substr(secret.size() - 4)
                                           : "");
    }
  }
  return subscriber;
}

SubscriberDirectory::SubscriberDirectory(const CoreDeps& deps) : deps_(deps) {}

absl::Status SubscriberDirectory::Validate(const v1::Subscriber& s) const {
  return ValidateSubscriber(s, [&](const std::string& c) {
    return deps_.org->FindComponent(c) != nullptr;
  });
}

absl::StatusOr<v1::Subscriber> SubscriberDirectory::Add(
    const Caller& caller, v1::Subscriber subscriber) const {
  for (v1::Contact& c : *subscriber.mutable_contacts()) {
    if (c.channel() == v1::CHANNEL_KIND_WEBHOOK &&
        c.signing_secrets().empty()) {
      c.add_signing_secrets(GenerateWebhookSecret(deps_.random));
    }
  }
  if (absl::Status s = Validate(subscriber); !s.ok()) return s;
  subscriber.set_status(v1::SUBSCRIBER_STATUS_ACTIVE);
  *subscriber.mutable_created_at() = ToProtoTime(deps_.clock.Now());
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<v1::Subscriber> existing =
        txn.GetSubscriber(subscriber.id());
    if (existing.ok()) {
      if (existing->status() == v1::SUBSCRIBER_STATUS_UNSUBSCRIBED) {
        return Unsubscribed(*existing);
      }
      return absl::AlreadyExistsError(
          absl::StrCat("subscriber \"", subscriber.id(), "\" exists"));
    }
    if (!absl::IsNotFound(existing.status())) return existing.status();
    if (absl::Status st = CheckEmailFree(txn, subscriber); !st.ok()) return st;
    return txn.PutSubscriber(subscriber);
  });
  if (!s.ok()) return s;
  LogInfo("subscriber added",
          {{"subscriber", subscriber.id()}, {"by", caller.person_id}});
  return subscriber;
}

absl::StatusOr<Page<v1::Subscriber>> SubscriberDirectory::List(
    SubscriberFilter filter, const PageRequest& request) const {
  absl::StatusOr<KeysetPage> page = OpenKeysetPage(request);
  if (!page.ok()) return page.status();
  filter.after_id = page->after;
  filter.limit = page->size + 1;
  if (!filter.component_id.empty() &&
      deps_.org->FindComponent(filter.component_id) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no component \"", filter.component_id, "\""));
  }
  Page<v1::Subscriber> out;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<v1::Subscriber>> list =
        r.ListSubscribers(filter);
    if (!list.ok()) return list.status();
    for (v1::Subscriber& sub : *list) sub = WithoutSecrets(std::move(sub));
    out = ClosePage(*std::move(list), *page,
                    [](const v1::Subscriber& sub) { return sub.id(); });
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::Subscriber> SubscriberDirectory::Remove(
    const Caller& caller, const std::string& id) const {
  v1::Subscriber out;
  bool replaced_unreadable = false;
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<v1::Subscriber> sub = txn.GetSubscriber(id);
    replaced_unreadable = absl::IsDataLoss(sub.status());
    if (replaced_unreadable) {
      // Its record cannot be read: what remains is its id, unsubscribed,
      // so that nothing is ever sent to it again.
      sub = v1::Subscriber();
      sub->set_id(id);
    }
    if (!sub.ok()) return sub.status();
    sub->set_status(v1::SUBSCRIBER_STATUS_UNSUBSCRIBED);
    out = *sub;
    return txn.PutSubscriber(*sub);
  });
  if (!s.ok()) return s;
  if (replaced_unreadable) {
    LogWarn("unreadable subscriber record replaced on removal",
            {{"subscriber", id}, {"by", caller.person_id}});
  }
  LogInfo("subscriber unsubscribed",
          {{"subscriber", id}, {"by", caller.person_id}});
  return WithoutSecrets(std::move(out));
}

absl::StatusOr<ImportResult> SubscriberDirectory::Import(
    const Caller& caller, std::vector<v1::Subscriber> subscribers,
    const std::vector<std::string>& sources) const {
  const auto where = [&](size_t i) {
    return i < sources.size() && !sources[i].empty()
               ? sources[i]
               : absl::StrCat("subscribers[", i, "]");
  };
  for (size_t i = 0; i < subscribers.size(); ++i) {
    if (absl::Status s = Validate(subscribers[i]); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(i), ": ", s.message()));
    }
  }
  ImportResult result;
  const absl::Time now = deps_.clock.Now();
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    result = {};
    for (size_t i = 0; i < subscribers.size(); ++i) {
      v1::Subscriber& sub = subscribers[i];
      absl::StatusOr<v1::Subscriber> existing = txn.GetSubscriber(sub.id());
      if (existing.ok() &&
          existing->status() == v1::SUBSCRIBER_STATUS_UNSUBSCRIBED) {
        ++result.skipped_unsubscribed;
        continue;
      }
      if (!existing.ok() && !absl::IsNotFound(existing.status())) {
        return existing.status();
      }
      if (absl::Status st = CheckEmailFree(txn, sub); !st.ok()) {
        return absl::Status(st.code(),
                            absl::StrCat(where(i), ": ", st.message()));
      }
      sub.set_status(existing.ok() ? existing->status()
                                   : v1::SUBSCRIBER_STATUS_ACTIVE);
      *sub.mutable_created_at() =
          existing.ok() ? existing->created_at() : ToProtoTime(now);
      if (absl::Status st = txn.PutSubscriber(sub); !st.ok()) return st;
      ++(existing.ok() ? result.updated : result.added);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  LogInfo("subscribers imported", {{"added", absl::StrCat(result.added)},
                                   {"updated", absl::StrCat(result.updated)},
                                   {"by", caller.person_id}});
  return result;
}

}  // namespace herald
