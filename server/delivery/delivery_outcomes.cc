// The outbox's side of one send: rendering a claimed delivery for its
// contact, sending it, and recording what the receiver made of it (retry
// schedules, fallback, waiting on a channel that is down).
#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "herald/enum_labels.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"
#include "server/core/org/organisation.h"
#include "server/delivery/delivery_outbox.h"
#include "server/delivery/destination.h"
#include "server/delivery/outbox_attempt.h"

namespace herald {
namespace {

bool Usable(const Recipient& r, int i) {
  return i < static_cast<int>(r.contacts.size()) && !r.contacts[i].disabled();
}

// Updates, resolutions and maintenance notices say what is true now; a
// newer one makes an older one stale. Apologies and follow-ups never are.
bool IsNews(v1::MessageKind kind) {
  return kind == v1::MESSAGE_KIND_STATUS_UPDATE ||
         kind == v1::MESSAGE_KIND_RESOLUTION ||
         kind == v1::MESSAGE_KIND_MAINTENANCE;
}

// The newer news of the same incident queued for the same recipient, which
// makes `d` (if it is news) stale; 0 when there is none.
absl::StatusOr<int64_t> NewerNews(StoreReader& reader, const v1::Delivery& d) {
  if (d.message_id() == 0) return 0;  // a staff notice
  absl::StatusOr<v1::Message> message = reader.GetMessage(d.message_id());
  if (!message.ok()) return message.status();
  if (!IsNews(message->kind())) return 0;
  absl::StatusOr<std::vector<v1::Delivery>> theirs =
      reader.ListRecipientDeliveries(d.incident_id(), d.recipient());
  if (!theirs.ok()) return theirs.status();
  for (auto it = theirs->rbegin(); it != theirs->rend(); ++it) {
    // Queued later means published later (ids follow the fan-outs; message
    // ids follow drafting, not approval). One that will not reach them
    // supersedes nothing.
    if (it->id() <= d.id() || it->message_id() == d.message_id() ||
        it->state() == v1::DELIVERY_STATE_FAILED ||
        it->state() == v1::DELIVERY_STATE_CANCELLED ||
        it->state() == v1::DELIVERY_STATE_SUPERSEDED) {
      continue;
    }
    absl::StatusOr<v1::Message> newer = reader.GetMessage(it->message_id());
    if (!newer.ok()) return newer.status();
    if (IsNews(newer->kind())) return newer->id();
  }
  return 0;
}

// The first usable contact at or after `from`, or -1.
int NextContact(const Recipient& r, int from) {
  for (int i = std::max(from, 0); i < static_cast<int>(r.contacts.size());
       ++i) {
    if (Usable(r, i)) return i;
  }
  return -1;
}

const char* ResultLabel(SendResult::Outcome outcome) {
  switch (outcome) {
    case SendResult::Outcome::kDelivered:
      return "delivered";
    case SendResult::Outcome::kRetry:
      return "retry";
    case SendResult::Outcome::kRejected:
      return "rejected";
    case SendResult::Outcome::kGone:
      return "gone";
    case SendResult::Outcome::kChannelDown:
      return "channel_down";
  }
  return "unknown";
}

}  // namespace

std::optional<absl::Duration> DeliveryOutbox::RetryWait(
    const v1::Delivery& d, bool has_next, absl::Duration retry_after,
    absl::Time now) const {
  const RetrySchedule schedule = deps_.delivery.For(d.channel()).retry_schedule;
  const std::optional<absl::Duration> wait =
      schedule.WaitAfter(d.contact_attempts());
  if (!wait.has_value()) return std::nullopt;  // the schedule is over
  // Stretched by up to 10%, so retries after one outage do not all land at
  // once; the receiver's Retry-After when it asks for longer.
  // (A Retry-After counts up to a day, like the schedule's longest wait.)
  const absl::Duration delay = std::max(*wait + *wait * (0.1 * deps_.random()),
                                        std::min(retry_after, absl::Hours(24)));
  // A recipient with another contact is not kept waiting on this one for
  // the whole schedule: only while the retry would come within
  // fallback_after of the contact's first attempt.
  const absl::Time since =
      d.has_contact_since() ? FromProtoTime(d.contact_since()) : now;
  if (has_next && now + delay - since > deps_.delivery.fallback_after) {
    return std::nullopt;
  }
  return delay;
}

DeliveryOutbox::Attempt DeliveryOutbox::Prepare(StoreReader& reader,
                                                v1::Delivery delivery) const {
  Attempt a;
  a.lease_ends = FromProtoTime(delivery.next_attempt_at());
  a.delivery = std::move(delivery);
  v1::Delivery& d = a.delivery;
  if (!d.unreadable().empty()) {
    // Set aside with the reason; the rest of the batch goes on.
    a.settled = v1::DELIVERY_STATE_FAILED;
    a.settled_why = std::move(*d.mutable_unreadable());
    d.clear_unreadable();
    return a;
  }
  absl::StatusOr<Recipient> recipient = deps_.composer.LoadRecipient(reader, d);
  if (!recipient.ok()) {
    a.settled_why = std::string(recipient.status().message());
    // DataLoss: the recipient's record cannot be read, and retrying will not
    // make it readable.
    const bool gone = absl::IsNotFound(recipient.status()) ||
                      absl::IsInvalidArgument(recipient.status()) ||
                      absl::IsDataLoss(recipient.status());
    if (gone) {
      a.settled = v1::DELIVERY_STATE_FAILED;
    } else {
      a.retry = true;  // the store failed, not the recipient
    }
    return a;
  }
  a.recipient = *std::move(recipient);
  if (!a.recipient.wants_it) {
    a.settled = v1::DELIVERY_STATE_CANCELLED;
    a.settled_why = "unsubscribed before it was sent";
    return a;
  }
  // Not yet sent, and a newer update is on its way to them: they get that
  // one, the current truth, rather than a burst of stale news.
  absl::StatusOr<int64_t> newer = NewerNews(reader, d);
  if (!newer.ok()) {
    a.settled_why = std::string(newer.status().message());
    a.retry = true;  // the store failed, not the recipient
    return a;
  }
  if (*newer != 0) {
    a.settled = v1::DELIVERY_STATE_SUPERSEDED;
    a.settled_why = absl::StrCat("superseded by ", MessageRef(*newer),
                                 ", which says what is true now");
    return a;
  }
  const int contact = NextContact(a.recipient, d.contact_index());
  if (contact < 0) {
    a.settled = v1::DELIVERY_STATE_FAILED;
    a.settled_why =
        a.recipient.contacts.empty()
            ? "the recipient has no contact"
            : absl::StrCat(d.last_error(), d.last_error().empty() ? "" : "; ",
                           "no contact left to try");
    return a;
  }
  if (contact != d.contact_index()) {
    d.set_contact_index(contact);  // skipped a disabled contact
    d.clear_contact_since();
    d.set_contact_attempts(1);
  }
  const v1::Contact& c = a.recipient.contacts[contact];
  d.set_channel(c.channel());
  d.set_address(c.address());
  absl::StatusOr<Outgoing> outgoing =
      deps_.composer.Compose(reader, d, a.recipient, contact);
  if (!outgoing.ok()) {
    // Not this contact's fault, but another contact may still be reached.
    a.settled_why = std::string(outgoing.status().message());
    return a;
  }
  a.outgoing = *std::move(outgoing);
  return a;
}

absl::Status DeliveryOutbox::SendOne(Attempt& a) {
  SendResult result = a.retry ? SendResult::Retry(a.settled_why)
                              : SendResult::Rejected(a.settled_why);
  if (!a.outgoing.has_value()) return Record(a, result);
  const v1::ChannelKind kind = a.outgoing->channel;
  auto channel = deps_.channels.find(kind);
  if (channel == deps_.channels.end() || channel->second == nullptr) {
    return Record(a, SendResult::Rejected(absl::StrCat(
                         "no ", EnumLabel(kind), " channel is configured")));
  }
  ChannelHealth::Verdict verdict = health_.Check(kind, deps_.clock.Now());
  if (!verdict.send) return Wait(a, verdict);
  if (!a.delivery.has_contact_since()) {
    *a.delivery.mutable_contact_since() = ToProtoTime(deps_.clock.Now());
  }
  result = channel->second->Send(*a.outgoing);
  deps_.metrics.Deliveries(EnumLabel(kind), ResultLabel(result.outcome))
      .Increment();
  if (result.outcome == SendResult::Outcome::kChannelDown) {
    verdict =
        health_.Failed(kind, deps_.clock.Now(), result.error, verdict.probe);
    return Wait(a, verdict);
  }
  // Recorded first: a failed release must never leave a sent delivery to be
  // sent again.
  if (absl::Status s = Record(a, result); !s.ok()) return s;
  ChannelAnswered(kind);
  return absl::OkStatus();
}

void DeliveryOutbox::ChannelAnswered(v1::ChannelKind channel) {
  const absl::Time now = deps_.clock.Now();
  if (health_.Answered(channel, now)) ReleaseWaiting(channel, now);
}

void DeliveryOutbox::ReleaseWaiting(v1::ChannelKind channel, absl::Time now) {
  int released = 0;
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<int> n = txn.ReleaseWaitingDeliveries(channel, now);
    if (!n.ok()) return n.status();
    released = *n;
    return absl::OkStatus();
  });
  if (!s.ok()) {
    // They are re-checked within the longest probe gap anyway.
    LogWarn("could not release the deliveries waiting for a channel",
            {{"channel", EnumLabel(channel)}, {"error", s.ToString()}});
    return;
  }
  if (released > 0) {
    LogInfo(
        "deliveries that waited for the channel are due now",
        {{"channel", EnumLabel(channel)}, {"count", absl::StrCat(released)}});
  }
}

absl::Status DeliveryOutbox::Wait(Attempt& a,
                                  const ChannelHealth::Verdict& verdict) {
  v1::Delivery& d = a.delivery;
  const absl::Time now = deps_.clock.Now();
  // Not an attempt on the recipient: undo what Claim counted.
  d.set_attempts(std::max(0, d.attempts() - 1));
  d.set_contact_attempts(std::max(0, d.contact_attempts() - 1));
  const std::string outage =
      absl::StrCat(EnumLabel(d.channel()), " unreachable since ",
                   FormatUtc(verdict.down_since), ": ", verdict.error);
  const v1::ChannelKind channel = d.channel();
  if (d.waiting_on() != channel || !d.has_waiting_since()) {
    *d.mutable_waiting_since() = ToProtoTime(now);
  }
  const absl::Time patience_ends =
      FromProtoTime(d.waiting_since()) + health_.options().patience;
  // The next contact on another channel: one on the same channel would wait
  // on the same outage.
  int next = NextContact(a.recipient, d.contact_index() + 1);
  while (next >= 0 && a.recipient.contacts[next].channel() == channel) {
    next = NextContact(a.recipient, next + 1);
  }
  if (next >= 0 && now >= patience_ends) {
    d.set_state(v1::DELIVERY_STATE_QUEUED);
    d.set_contact_index(next);
    d.set_contact_attempts(0);
    d.clear_contact_since();
    d.set_waiting_on(v1::CHANNEL_KIND_UNSPECIFIED);
    d.clear_waiting_since();
    *d.mutable_next_attempt_at() = ToProtoTime(now);
    d.set_last_error(absl::StrCat(outage, "; moved on to the next contact"));
    deps_.metrics.delivery_fallbacks.Increment();
  } else {
    d.set_state(v1::DELIVERY_STATE_RETRYING);
    d.set_waiting_on(channel);
    *d.mutable_next_attempt_at() =
        ToProtoTime(next >= 0 ? std::min(verdict.retry_at, patience_ends)
                              : verdict.retry_at);
    d.set_last_error(absl::StrCat("waiting: ", outage));
  }
  absl::Status s =
      deps_.store.Write([&](StoreTxn& txn) { return txn.UpdateDelivery(d); });
  if (!s.ok()) return s;
  // Another worker's send may have brought the channel back between this
  // verdict and this write, and released what waited before this joined.
  if (d.waiting_on() != v1::CHANNEL_KIND_UNSPECIFIED &&
      !health_.IsDown(channel)) {
    ReleaseWaiting(channel, now);
  }
  return absl::OkStatus();
}

absl::Status DeliveryOutbox::Record(Attempt& a, const SendResult& result) {
  v1::Delivery& d = a.delivery;
  const absl::Time now = deps_.clock.Now();
  bool disable_contact = false;
  d.set_waiting_on(v1::CHANNEL_KIND_UNSPECIFIED);
  d.clear_waiting_since();
  if (a.settled.has_value()) {
    d.set_state(*a.settled);
    d.set_last_error(a.settled_why);
  } else if (result.delivered()) {
    d.set_state(v1::DELIVERY_STATE_DELIVERED);
    d.clear_last_error();
    *d.mutable_delivered_at() = ToProtoTime(now);
  } else {
    d.set_last_error(d.channel() == v1::CHANNEL_KIND_UNSPECIFIED
                         ? result.error
                         : absl::StrCat(EnumLabel(d.channel()), " ",
                                        d.address(), ": ", result.error));
    const int next = NextContact(a.recipient, d.contact_index() + 1);
    const std::optional<absl::Duration> wait =
        result.outcome == SendResult::Outcome::kRetry
            ? RetryWait(d, next >= 0, result.retry_after, now)
            : std::nullopt;
    if (wait.has_value()) {
      d.set_state(v1::DELIVERY_STATE_RETRYING);
      *d.mutable_next_attempt_at() = ToProtoTime(now + *wait);
    } else {
      disable_contact = result.outcome == SendResult::Outcome::kGone;
      if (next < 0) {
        d.set_state(v1::DELIVERY_STATE_FAILED);
      } else {
        d.set_state(v1::DELIVERY_STATE_QUEUED);
        d.set_contact_index(next);
        d.set_contact_attempts(0);
        d.clear_contact_since();
        *d.mutable_next_attempt_at() = ToProtoTime(now);
        deps_.metrics.delivery_fallbacks.Increment();
      }
    }
  }
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    if (disable_contact && absl::StartsWith(d.recipient(), "subscriber:")) {
      // 410 Gone: the endpoint asked never to be called again.
      absl::StatusOr<v1::Subscriber> sub =
          txn.GetSubscriber(d.recipient().substr(11));
      if (!sub.ok()) return sub.status();
      for (v1::Contact& c : *sub->mutable_contacts()) {
        if (c.channel() == d.channel() && c.address() == d.address()) {
          c.set_disabled(true);
          c.set_disabled_reason(
              absl::StrCat("answered 410 Gone at ", FormatUtc(now)));
        }
      }
      if (auto st = txn.PutSubscriber(*sub); !st.ok()) return st;
    }
    return txn.UpdateDelivery(d);
  });
  if (!s.ok()) return s;
  if (d.state() == v1::DELIVERY_STATE_DELIVERED && d.message_id() != 0) {
    deps_.metrics.approval_to_delivery_seconds.Observe(
        absl::ToDoubleSeconds(now - FromProtoTime(d.created_at())));
  }
  if (d.state() == v1::DELIVERY_STATE_FAILED) {
    deps_.metrics.recipients_unreached.Increment();
  }
  Announce(d, now);
  return absl::OkStatus();
}

void DeliveryOutbox::Announce(const v1::Delivery& d, absl::Time now) const {
  if (deps_.events == nullptr) return;
  if (d.state() == v1::DELIVERY_STATE_SUPERSEDED) return;  // nothing failed
  const bool delivered = d.state() == v1::DELIVERY_STATE_DELIVERED;
  deps_.events->Publish(
      {.at = now,
       .incident_id = d.incident_id(),
       .kind = delivered ? "delivered" : "delivery_failed",
       .actor = "herald",
       .text = absl::StrCat(
           d.recipient(), " by ", EnumLabel(d.channel()), " ", d.address(),
           delivered ? ""
                     : absl::StrCat(" (", d.last_error(), "; ",
                                    EnumLabel(d.state()), ")")),
       .message_ref = d.message_id() != 0 ? MessageRef(d.message_id()) : ""});
}

}  // namespace herald
