#include "server/core/subscribers/subscription_portal.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "herald/enum_labels.h"
#include "re2/re2.h"
#include "server/base/locale_text.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"
#include "server/base/secret_token.h"
#include "server/core/subscribers/contacts.h"

namespace herald {
namespace {

// The notices' templates: a confirmation request, or "you already
// subscribe".
constexpr absl::string_view kConfirmNotice = "subscribe_confirm";
constexpr absl::string_view kExistingNotice = "subscribe_existing";
// Subscribers the form created, as opposed to operators and imports.
constexpr absl::string_view kSelfServiceIdPrefix = "self-";
constexpr size_t kMaxNameLength = 60;    // characters (code points)
constexpr size_t kMaxEmailLength = 254;  // RFC 5321's limit on a path

bool IsPending(const v1::Subscriber& s) {
  return s.status() == v1::SUBSCRIBER_STATUS_PENDING;
}

// `raw` as a plausible personal name, or InvalidArgument naming the field:
// one line, at most kMaxNameLength characters, only letters, combining
// marks, spaces, apostrophes, hyphens and periods, and nothing that reads as
// a web address. Anyone can type into the form; this keeps it a name.
absl::StatusOr<std::string> PlausibleName(absl::string_view raw) {
  if (raw.find_first_of("\r\n") != absl::string_view::npos) {
    return absl::InvalidArgumentError("name: one line, please");
  }
  // Runs of spaces as one.
  const std::string name = absl::StrJoin(
      absl::StrSplit(absl::StripAsciiWhitespace(raw), ' ', absl::SkipEmpty()),
      " ");
  if (name.empty()) return name;
  const size_t characters = std::count_if(name.begin(), name.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
  if (characters > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: at most ", kMaxNameLength, " characters, please"));
  }
  static const LazyRE2 kNameChars = {R"re(^[\p{L}\p{M}' \x{2019}.-]+$)re"};
  static const LazyRE2 kLetter = {R"re(\p{L})re"};
  if (!RE2::FullMatch(name, *kNameChars) ||
      !RE2::PartialMatch(name, *kLetter)) {
    return absl::InvalidArgumentError(
        "name: letters, spaces, apostrophes, hyphens and periods only, "
        "please");
  }
  // "example.com", "www.evil.example": a period right before two letters.
  // Initials ("J.R.R. Tolkien") and "St. John" stay fine.
  static const LazyRE2 kDomainLike = {R"re(\.\p{L}\p{M}*\p{L})re"};
  if (RE2::PartialMatch(name, *kDomainLike)) {
    return absl::InvalidArgumentError(
        "name: your name, not a web address, please");
  }
  return name;
}

// `raw` as a canonical language tag ("" stays ""), or InvalidArgument
// naming the field.
absl::StatusOr<std::string> CheckedLocale(absl::string_view raw) {
  if (raw.empty()) return std::string();
  absl::StatusOr<std::string> tag = CanonicalLocaleTag(raw);
  if (!tag.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("locale: ", tag.status().message()));
  }
  return tag;
}

absl::Status CheckedTimeZone(absl::string_view raw) {
  if (raw.empty()) return absl::OkStatus();
  absl::Status s = ValidateTimeZoneName(raw);
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("time_zone: ", s.message()));
  }
  return absl::OkStatus();
}

// The channels of `contacts`, in order, for the audit log ("email, sms").
std::string ChannelList(
    const google::protobuf::RepeatedPtrField<v1::Contact>& contacts) {
  std::vector<std::string> kinds;
  for (const v1::Contact& c : contacts) kinds.push_back(EnumLabel(c.channel()));
  return absl::StrJoin(kinds, ", ");
}

// Why a preferences link cannot be used for `sub`, or OK.
absl::Status MayManage(const v1::Subscriber& sub) {
  if (sub.status() == v1::SUBSCRIBER_STATUS_UNSUBSCRIBED) {
    return absl::FailedPreconditionError(
        "you unsubscribed: to hear from us again, subscribe on the status "
        "page");
  }
  if (IsPending(sub)) {
    return absl::FailedPreconditionError(
        "your subscription is not confirmed yet: open the link in the "
        "confirmation email first");
  }
  return absl::OkStatus();
}

// `contacts` in `order` (their positions, first preferred): each once, none
// left out. InvalidArgument naming "channels" otherwise.
absl::StatusOr<google::protobuf::RepeatedPtrField<v1::Contact>> Reordered(
    const google::protobuf::RepeatedPtrField<v1::Contact>& contacts,
    const std::vector<int>& order) {
  std::vector<bool> placed(contacts.size(), false);
  google::protobuf::RepeatedPtrField<v1::Contact> out;
  for (int i : order) {
    if (i < 0 || i >= contacts.size() || placed[i]) {
      return absl::InvalidArgumentError(
          "channels: give every channel its own place in the order");
    }
    placed[i] = true;
    *out.Add() = contacts[i];
  }
  if (out.size() != contacts.size()) {
    return absl::InvalidArgumentError(
        "channels: give every channel its own place in the order");
  }
  return out;
}

// What a preferences change changed, for the audit log ("components:
// api -> api, checkout; locale: - -> de"); empty when nothing did. No
// addresses: only the channels' kinds.
std::string PreferenceChanges(const v1::Subscriber& before,
                              const v1::Subscriber& after) {
  std::vector<std::string> changes;
  const auto note = [&](absl::string_view what, absl::string_view was,
                        absl::string_view is) {
    if (was != is) {
      changes.push_back(absl::StrCat(what, ": ", was.empty() ? "-" : was,
                                     " -> ", is.empty() ? "-" : is));
    }
  };
  // Components as sets: an operator's record may list them in any order.
  std::vector<std::string> was(before.component_ids().begin(),
                               before.component_ids().end());
  std::sort(was.begin(), was.end());
  was.erase(std::unique(was.begin(), was.end()), was.end());
  note("components", absl::StrJoin(was, ", "),
       absl::StrJoin(after.component_ids(), ", "));
  const std::string channels_before = ChannelList(before.contacts());
  const std::string channels_after = ChannelList(after.contacts());
  note("channels", channels_before, channels_after);
  if (channels_before == channels_after) {
    // Two contacts of one kind swapped ("email, email") still count.
    for (int i = 0; i < before.contacts_size(); ++i) {
      if (before.contacts(i).SerializeAsString() !=
          after.contacts(i).SerializeAsString()) {
        changes.push_back("channels: reordered");
        break;
      }
    }
  }
  note("locale", before.locale(), after.locale());
  note("time_zone", before.time_zone(), after.time_zone());
  return absl::StrJoin(changes, "; ");
}

}  // namespace

SubscriptionPortal::SubscriptionPortal(const CoreDeps& deps,
                                       const MessageDrafter& drafter,
                                       const LinkTokens& links,
                                       std::function<void()> wake_senders,
                                       SubscriptionLimits limits)
    : deps_(deps),
      drafter_(drafter),
      links_(links),
      wake_senders_(std::move(wake_senders)),
      clients_({deps.org->self_service().max_requests_per_minute,
                absl::Minutes(1), limits.max_tracked_clients}),
      shared_clients_{.kind = "limit.subscribe_client",
                      .limit = deps.org->self_service().max_requests_per_minute,
                      .window = absl::Minutes(1)},
      addresses_{.kind = "limit.subscribe_address",
                 .limit = limits.notices_per_address_per_day,
                 .window = absl::Hours(24)} {}

bool SubscriptionPortal::enabled() const {
  return deps_.org->self_service().enabled;
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
    const Reader reader = drafter_.ReaderFor(subscriber);
    links["expires_at"] =
        FormatDateTime(expires, reader.locale, reader.time_zone);
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
  // Every request counts against its client, well-formed or not.
  const absl::Time now = deps_.clock.Now();
  if (!clients_.TryTake(ClientNetworkKey(request.client), now)) {
    deps_.metrics.SelfService("rate_limited").Increment();
    return absl::ResourceExhaustedError(
        "too many subscription requests from your network right now; try "
        "again in a minute");
  }
  const std::string email =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(request.email));
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
  absl::StatusOr<std::string> plausible = PlausibleName(request.name);
  if (!plausible.ok()) return plausible.status();
  const std::string name = *std::move(plausible);
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
  absl::StatusOr<std::string> locale = CheckedLocale(request.locale);
  if (!locale.ok()) return locale.status();
  if (absl::Status z = CheckedTimeZone(request.time_zone); !z.ok()) return z;

  const absl::Duration resend = deps_.org->self_service().resend_interval;
  bool queued = false;
  std::string subscriber_id;
  const std::string client = ClientNetworkKey(request.client);
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    queued = false;
    absl::StatusOr<bool> client_allowed =
        shared_clients_.TryTake(txn, client, now);
    if (!client_allowed.ok()) return client_allowed.status();
    if (!*client_allowed) return absl::ResourceExhaustedError("");
    absl::StatusOr<v1::Subscriber> found = txn.FindSubscriberByEmail(email);
    if (!found.ok() && !absl::IsNotFound(found.status())) {
      return found.status();
    }
    v1::Subscriber sub;
    if (found.ok()) {
      sub = *std::move(found);
    } else {
      sub.set_id(absl::StrCat(kSelfServiceIdPrefix, deps_.random.Hex(8)));
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
    // One address gets one notice per resend interval (durable), and a few
    // a day whoever asks.
    // Counted in this transaction: undone with it, if it is run again.
    const auto may_send = [&]() -> absl::StatusOr<bool> {
      if (recently_sent) return false;
      return addresses_.TryTake(txn, email, now);
    };
    if (active) {
      // Their subscription stays as it is: changing it needs more proof
      // than knowing the address.
      absl::StatusOr<bool> send = may_send();
      if (!send.ok()) return send.status();
      if (!*send) return absl::OkStatus();
      *sub.mutable_confirmation_sent_at() = ToProtoTime(now);
      if (auto st = txn.PutSubscriber(sub); !st.ok()) return st;
      queued = true;
      return QueueNotice(txn, sub, kExistingNotice, now);
    }
    // New, pending, or unsubscribed and asking again: pending until they
    // confirm, with what they asked for this time. Their name is kept for
    // after they confirm; no notice shows it.
    sub.set_status(v1::SUBSCRIBER_STATUS_PENDING);
    if (!name.empty()) sub.set_name(name);
    sub.mutable_component_ids()->Assign(components.begin(), components.end());
    sub.set_locale(*locale);
    sub.set_time_zone(request.time_zone);
    absl::StatusOr<bool> send = may_send();
    if (!send.ok()) return send.status();
    if (*send) *sub.mutable_confirmation_sent_at() = ToProtoTime(now);
    if (auto st = txn.PutSubscriber(sub); !st.ok()) return st;
    if (!*send) return absl::OkStatus();
    queued = true;
    return QueueNotice(txn, sub, kConfirmNotice, now);
  });
  if (absl::IsResourceExhausted(s)) {
    deps_.metrics.SelfService("rate_limited").Increment();
    return absl::ResourceExhaustedError(
        "too many subscription requests from your network right now; try "
        "again in a minute");
  }
  if (!s.ok()) return s;
  deps_.metrics.SelfService(queued ? "requested" : "throttled").Increment();
  LogInfo("subscription requested",
          {{"subscriber", subscriber_id},
           {"email_queued", queued ? "true" : "false"}});
  if (queued && wake_senders_) wake_senders_();
  return absl::OkStatus();
}

absl::StatusOr<int> SubscriptionPortal::PurgeUnconfirmed() const {
  const absl::Time now = deps_.clock.Now();
  const absl::Duration ttl = deps_.org->self_service().confirmation_ttl;
  // When the last link sent to `sub` stopped working.
  const auto expired = [&](const v1::Subscriber& sub) {
    const absl::Time sent = FromProtoTime(sub.has_confirmation_sent_at()
                                              ? sub.confirmation_sent_at()
                                              : sub.created_at());
    return IsPending(sub) && sent + ttl < now;
  };
  std::vector<std::string> ids;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<v1::Subscriber>> pending =
        r.ListPendingSubscribers();
    if (!pending.ok()) return pending.status();
    for (const v1::Subscriber& sub : *pending) {
      if (expired(sub)) ids.push_back(sub.id());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  int purged = 0;
  // A bounded batch per transaction, so that purging a flood does not hold
  // the writer for long.
  constexpr size_t kBatch = 256;
  for (size_t begin = 0; begin < ids.size(); begin += kBatch) {
    const size_t end = std::min(ids.size(), begin + kBatch);
    int in_batch = 0;
    s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
      in_batch = 0;
      for (size_t i = begin; i < end; ++i) {
        // Read again: they may have confirmed or asked again since.
        absl::StatusOr<v1::Subscriber> sub = txn.GetSubscriber(ids[i]);
        if (absl::IsNotFound(sub.status())) continue;
        if (!sub.ok()) return sub.status();
        if (!expired(*sub)) continue;
        if (sub->has_confirmed_at() ||
            !absl::StartsWith(sub->id(), kSelfServiceIdPrefix)) {
          // They were subscribed once (confirmed, or added by an operator)
          // and unsubscribed: the record stays, so that nothing re-adds
          // them.
          sub->set_status(v1::SUBSCRIBER_STATUS_UNSUBSCRIBED);
          if (auto st = txn.PutSubscriber(*sub); !st.ok()) return st;
        } else if (auto st = txn.DeleteSubscriber(sub->id()); !st.ok()) {
          return st;
        }
        ++in_batch;
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    purged += in_batch;
  }
  if (purged > 0) {
    deps_.metrics.SelfService("purged").Increment(purged);
    LogInfo("unconfirmed subscriptions purged",
            {{"count", absl::StrCat(purged)}});
  }
  return purged;
}

absl::StatusOr<v1::Subscriber> SubscriptionPortal::Stored(
    const std::string& id) const {
  absl::StatusOr<v1::Subscriber> sub;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    sub = r.GetSubscriber(id);
    return sub.status();
  });
  if (absl::IsNotFound(s)) {
    // Readers see this: no internal ids.
    return absl::NotFoundError(
        "this subscription no longer exists: subscribe again");
  }
  if (!s.ok()) return s;
  return sub;
}

absl::StatusOr<v1::Subscriber> SubscriptionPortal::CheckConfirmLink(
    absl::string_view token) const {
  absl::StatusOr<std::string> id =
      links_.CheckConfirm(token, deps_.clock.Now());
  if (!id.ok()) return id.status();
  return Stored(*id);
}

absl::StatusOr<v1::Subscriber> SubscriptionPortal::CheckUnsubscribeLink(
    absl::string_view token) const {
  absl::StatusOr<std::string> id = links_.CheckUnsubscribe(token);
  if (!id.ok()) return id.status();
  return Stored(*id);
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

absl::StatusOr<v1::Subscriber> SubscriptionPortal::Subscription(
    absl::string_view token) const {
  absl::StatusOr<std::string> id = links_.CheckManage(token);
  if (!id.ok()) return id.status();
  absl::StatusOr<v1::Subscriber> sub = Stored(*id);
  if (!sub.ok()) return sub.status();
  if (absl::Status may = MayManage(*sub); !may.ok()) return may;
  return sub;
}

absl::StatusOr<v1::Subscriber> SubscriptionPortal::SavePreferences(
    absl::string_view token, const Preferences& preferences) const {
  absl::StatusOr<std::string> id = links_.CheckManage(token);
  if (!id.ok()) return id.status();
  std::vector<std::string> components = preferences.component_ids;
  if (components.empty()) {
    return absl::InvalidArgumentError(
        "component: choose at least one, or unsubscribe to hear nothing");
  }
  for (const std::string& c : components) {
    if (deps_.org->FindComponent(c) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("component: no component \"", c, "\""));
    }
  }
  std::sort(components.begin(), components.end());
  components.erase(std::unique(components.begin(), components.end()),
                   components.end());
  absl::StatusOr<std::string> locale = CheckedLocale(preferences.locale);
  if (!locale.ok()) return locale.status();
  if (absl::Status z = CheckedTimeZone(preferences.time_zone); !z.ok()) {
    return z;
  }
  const absl::Time now = deps_.clock.Now();
  v1::Subscriber out;
  std::string detail;  // what changed; empty: nothing
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    detail.clear();
    absl::StatusOr<v1::Subscriber> found = txn.GetSubscriber(*id);
    if (absl::IsNotFound(found.status())) {
      return absl::NotFoundError(
          "this subscription no longer exists: subscribe again");
    }
    if (!found.ok()) return found.status();
    if (absl::Status may = MayManage(*found); !may.ok()) return may;
    const v1::Subscriber& before = *found;
    v1::Subscriber sub = before;
    sub.mutable_component_ids()->Assign(components.begin(), components.end());
    if (!preferences.channel_order.empty()) {
      if (!ConstantTimeEquals(preferences.channels_fingerprint,
                              ChannelsFingerprint(before))) {
        return absl::InvalidArgumentError(
            "channels: your channels have changed since the page was opened; "
            "open the link again");
      }
      absl::StatusOr<google::protobuf::RepeatedPtrField<v1::Contact>> ordered =
          Reordered(before.contacts(), preferences.channel_order);
      if (!ordered.ok()) return ordered.status();
      *sub.mutable_contacts() = *std::move(ordered);
    }
    sub.set_locale(*locale);
    sub.set_time_zone(preferences.time_zone);
    detail = PreferenceChanges(before, sub);
    out = sub;
    if (detail.empty()) return absl::OkStatus();
    // Only what the page changes was checked: the rest is as an operator
    // stored it, and a rule tightened since must not lock them out here.
    if (auto st = txn.PutSubscriber(sub); !st.ok()) return st;
    v1::AuditEntry e;
    e.set_actor_id(absl::StrCat("subscriber:", sub.id()));
    e.set_action("preferences_changed");
    e.set_detail(detail);
    *e.mutable_at() = ToProtoTime(now);
    return txn.AppendAudit(e).status();
  });
  if (!s.ok()) return s;
  if (!detail.empty()) {
    deps_.metrics.SelfService("preferences_changed").Increment();
    LogInfo("subscriber changed preferences",
            {{"subscriber", out.id()}, {"changes", detail}});
  }
  return out;
}

std::string SubscriptionPortal::ChannelsFingerprint(
    const v1::Subscriber& subscriber) const {
  std::string contacts;
  for (const v1::Contact& c : subscriber.contacts()) {
    absl::StrAppend(&contacts, static_cast<int>(c.channel()), ":",
                    c.address().size(), ":", c.address(), ";");
  }
  return links_.Fingerprint(absl::StrCat("channels.", subscriber.id()),
                            contacts);
}

}  // namespace herald
