#include "server/core/subscription_portal.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/core/contacts.h"
#include "server/core/log.h"
#include "server/core/proto_time.h"
#include "server/core/secret_token.h"

namespace herald {
namespace {

// The notices' templates: a confirmation request, or "you already
// subscribe".
constexpr absl::string_view kConfirmNotice = "subscribe_confirm";
constexpr absl::string_view kExistingNotice = "subscribe_existing";
constexpr size_t kMaxNameLength = 200;
constexpr size_t kMaxEmailLength = 254;  // RFC 5321's limit on a path

bool IsPending(const v1::Subscriber& s) {
  return s.status() == v1::SUBSCRIBER_STATUS_PENDING;
}

std::string UtcMinutes(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", t, absl::UTCTimeZone());
}

}  // namespace

SubscriptionPortal::SubscriptionPortal(const CoreDeps& deps,
                                       const MessageDrafter& drafter,
                                       const LinkTokens& links,
                                       std::function<void()> wake_senders)
    : deps_(deps),
      drafter_(drafter),
      links_(links),
      wake_senders_(std::move(wake_senders)) {}

bool SubscriptionPortal::enabled() const {
  return deps_.org->self_service().enabled;
}

bool SubscriptionPortal::TakeRequestSlot() {
  const absl::Time now = deps_.clock.Now();
  absl::MutexLock lock(&mu_);
  if (now - window_start_ >= absl::Minutes(1)) {
    window_start_ = now;
    window_requests_ = 0;
  }
  if (window_requests_ >= deps_.org->self_service().max_requests_per_minute) {
    return false;
  }
  ++window_requests_;
  return true;
}

absl::Status SubscriptionPortal::QueueNotice(StoreTxn& txn,
                                             const v1::Subscriber& subscriber,
                                             absl::string_view kind,
                                             absl::Time now) const {
  const std::string& public_url = deps_.org->config().server().public_url();
  std::map<std::string, std::string> links = {
      {"unsubscribe_url", LinkUrl(public_url, "/unsubscribe",
                                  links_.Unsubscribe(subscriber.id()))}};
  if (kind == kConfirmNotice) {
    const absl::Time expires = now + deps_.org->self_service().confirmation_ttl;
    links["confirm_url"] = LinkUrl(public_url, "/subscribe/confirm",
                                   links_.Confirm(subscriber.id(), expires));
    links["expires_at"] = UtcMinutes(expires);
  }
  absl::StatusOr<Email> email =
      drafter_.SubscriberNotice(kind, subscriber, links);
  if (!email.ok()) return email.status();
  v1::Delivery d;
  d.set_recipient(absl::StrCat("subscriber:", subscriber.id()));
  d.set_subject(email->subject);
  d.set_body(email->text);
  d.set_html_body(email->html);
  d.set_state(v1::DELIVERY_STATE_QUEUED);
  d.set_idempotency_key(
      absl::StrCat(kind, "-", subscriber.id(), "-", absl::ToUnixMicros(now)));
  *d.mutable_created_at() = ToProtoTime(now);
  *d.mutable_next_attempt_at() = ToProtoTime(now);
  return txn.InsertDelivery(d).status();
}

absl::Status SubscriptionPortal::Subscribe(const SubscribeRequest& request) {
  if (!enabled()) {
    return absl::FailedPreconditionError(
        "self-service subscription is turned off (self_service.disabled)");
  }
  const std::string email =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(request.email));
  const std::string name(absl::StripAsciiWhitespace(request.name));
  v1::Contact contact;
  contact.set_channel(v1::CHANNEL_KIND_EMAIL);
  contact.set_address(email);
  if (email.empty()) {
    return absl::InvalidArgumentError("email: enter your email address");
  }
  if (email.size() > kMaxEmailLength || !ValidateContact(contact).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("email: \"", email, "\" is not an email address"));
  }
  if (name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: at most ", kMaxNameLength, " characters, please"));
  }
  std::vector<std::string> components = request.component_ids;
  for (const std::string& c : components) {
    if (deps_.org->FindComponent(c) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("component: no component \"", c, "\""));
    }
  }
  if (components.empty()) {
    for (const v1::ComponentConfig& c : deps_.org->config().components()) {
      components.push_back(c.id());
    }
  }
  std::sort(components.begin(), components.end());
  components.erase(std::unique(components.begin(), components.end()),
                   components.end());
  if (!TakeRequestSlot()) {
    return absl::ResourceExhaustedError(
        "too many subscription requests right now; try again in a minute");
  }

  const absl::Time now = deps_.clock.Now();
  const absl::Duration resend = deps_.org->self_service().resend_interval;
  bool queued = false;
  std::string subscriber_id;
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    queued = false;
    absl::StatusOr<v1::Subscriber> found = txn.FindSubscriberByEmail(email);
    if (!found.ok() && !absl::IsNotFound(found.status())) {
      return found.status();
    }
    v1::Subscriber sub;
    if (found.ok()) {
      sub = *std::move(found);
    } else {
      sub.set_id(absl::StrCat("self-", RandomHex(8)));
      sub.set_email(email);
      *sub.mutable_created_at() = ToProtoTime(now);
      sub.set_status(v1::SUBSCRIBER_STATUS_PENDING);
    }
    subscriber_id = sub.id();
    const bool recently_sent =
        sub.has_confirmation_sent_at() &&
        now - FromProtoTime(sub.confirmation_sent_at()) < resend;
    const bool active = found.ok() && !IsPending(sub) &&
                        sub.status() != v1::SUBSCRIBER_STATUS_UNSUBSCRIBED;
    if (active) {
      // Their subscription stays as it is: changing it needs more proof
      // than knowing the address.
      if (recently_sent) return absl::OkStatus();
      *sub.mutable_confirmation_sent_at() = ToProtoTime(now);
      if (auto st = txn.PutSubscriber(sub); !st.ok()) return st;
      queued = true;
      return QueueNotice(txn, sub, kExistingNotice, now);
    }
    // New, pending, or unsubscribed and asking again: pending until they
    // confirm, with what they asked for this time.
    sub.set_status(v1::SUBSCRIBER_STATUS_PENDING);
    if (!name.empty()) sub.set_name(name);
    sub.mutable_component_ids()->Assign(components.begin(), components.end());
    if (!recently_sent) *sub.mutable_confirmation_sent_at() = ToProtoTime(now);
    if (auto st = txn.PutSubscriber(sub); !st.ok()) return st;
    if (recently_sent) return absl::OkStatus();
    queued = true;
    return QueueNotice(txn, sub, kConfirmNotice, now);
  });
  if (!s.ok()) return s;
  deps_.metrics.SelfService(queued ? "requested" : "throttled").Increment();
  LogInfo("subscription requested",
          {{"subscriber", subscriber_id},
           {"email_queued", queued ? "true" : "false"}});
  if (queued && wake_senders_) wake_senders_();
  return absl::OkStatus();
}

absl::Status SubscriptionPortal::CheckConfirmLink(
    absl::string_view token) const {
  return links_.CheckConfirm(token, deps_.clock.Now()).status();
}

absl::Status SubscriptionPortal::CheckUnsubscribeLink(
    absl::string_view token) const {
  return links_.CheckUnsubscribe(token).status();
}

absl::StatusOr<std::pair<v1::Subscriber, bool>>
SubscriptionPortal::UpdateSubscriber(
    const std::string& id,
    absl::FunctionRef<absl::StatusOr<bool>(v1::Subscriber&)> change) const {
  std::pair<v1::Subscriber, bool> out;
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<v1::Subscriber> sub = txn.GetSubscriber(id);
    if (absl::IsNotFound(sub.status())) {
      // Readers see this: no internal ids.
      return absl::NotFoundError(
          "this subscription no longer exists: subscribe again");
    }
    if (!sub.ok()) return sub.status();
    absl::StatusOr<bool> changed = change(*sub);
    if (!changed.ok()) return changed.status();
    out = {*sub, *changed};
    return *changed ? txn.PutSubscriber(*sub) : absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::Subscriber> SubscriptionPortal::Confirm(
    absl::string_view token) const {
  const absl::Time now = deps_.clock.Now();
  absl::StatusOr<std::string> id = links_.CheckConfirm(token, now);
  if (!id.ok()) return id.status();
  auto updated =
      UpdateSubscriber(*id, [&](v1::Subscriber& sub) -> absl::StatusOr<bool> {
        if (sub.status() == v1::SUBSCRIBER_STATUS_UNSUBSCRIBED) {
          return absl::FailedPreconditionError(
              "you unsubscribed after this link was sent: subscribe again to "
              "get a new one");
        }
        if (!IsPending(sub)) return false;  // confirmed before
        sub.set_status(v1::SUBSCRIBER_STATUS_ACTIVE);
        *sub.mutable_confirmed_at() = ToProtoTime(now);
        return true;
      });
  if (!updated.ok()) return updated.status();
  auto& [sub, changed] = *updated;
  if (changed) {
    deps_.metrics.SelfService("confirmed").Increment();
    LogInfo("subscription confirmed", {{"subscriber", sub.id()}});
  }
  return std::move(sub);
}

absl::StatusOr<v1::Subscriber> SubscriptionPortal::Unsubscribe(
    absl::string_view token) const {
  absl::StatusOr<std::string> id = links_.CheckUnsubscribe(token);
  if (!id.ok()) return id.status();
  auto updated =
      UpdateSubscriber(*id, [](v1::Subscriber& sub) -> absl::StatusOr<bool> {
        if (sub.status() == v1::SUBSCRIBER_STATUS_UNSUBSCRIBED) return false;
        sub.set_status(v1::SUBSCRIBER_STATUS_UNSUBSCRIBED);
        return true;
      });
  if (!updated.ok()) return updated.status();
  auto& [sub, changed] = *updated;
  if (changed) {
    deps_.metrics.SelfService("unsubscribed").Increment();
    LogInfo("subscriber unsubscribed",
            {{"subscriber", sub.id()}, {"by", "self"}});
  }
  return std::move(sub);
}

}  // namespace herald
