#include "server/delivery/delivery_outbox.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "herald/enum_labels.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"
#include "server/core/org/organisation.h"
#include "server/delivery/destination.h"

namespace herald {

// One claimed delivery, ready to send (or already settled without a send).
struct DeliveryOutbox::Attempt {
  v1::Delivery delivery;
  Recipient recipient;
  std::optional<Outgoing> outgoing;  // empty: nothing to send
  // Set when the delivery is settled without a send (no contact left, the
  // subscriber left, the recipient vanished).
  std::optional<v1::DeliveryState> settled;
  // Why nothing is sent: the settled reason, or what kept it from being
  // rendered. With `retry`, a later attempt may succeed (the store failed).
  std::string settled_why;
  bool retry = false;
  // Where it is sent (DestinationOf); empty when nothing is sent.
  std::string destination;
  // When the claim's lease ends.
  absl::Time lease_ends;
};

namespace {

// A destination whose sends take this long is slow.
constexpr absl::Duration kSlowSend = absl::Seconds(1);
// At most this many deliveries per worker wait, claimed, in memory.
constexpr int kMaxReadyRounds = 16;
// How long a claim holds (Store::ClaimDueDeliveries): past it, another
// worker, here or in another heraldd on the same store, may claim the
// delivery again. A claim still waiting in memory this long before its lease
// ends goes back to the queue instead of being sent, so that a send never
// races the lease (the longest send is a few timeouts of 30 s).
constexpr absl::Duration kClaimLease = absl::Minutes(10);
constexpr absl::Duration kClaimSendBy = absl::Minutes(5);

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

}  // namespace

namespace {

// The channels that can be down as a whole: the SMTP relay and the SMS
// gateway every recipient shares. (A webhook or Slack contact is one
// customer's own endpoint.)
std::vector<v1::ChannelKind> SharedKinds(
    const std::map<v1::ChannelKind, Channel*>& channels) {
  std::vector<v1::ChannelKind> out;
  for (const auto& [kind, channel] : channels) {
    if (channel != nullptr &&
        (kind == v1::CHANNEL_KIND_EMAIL || kind == v1::CHANNEL_KIND_SMS)) {
      out.push_back(kind);
    }
  }
  return out;
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

DeliveryOutbox::DeliveryOutbox(OutboxDeps deps)
    : deps_(std::move(deps)),
      health_(deps_.channel_health, deps_.metrics.channel_up,
              SharedKinds(deps_.channels)) {}

DeliveryOutbox::~DeliveryOutbox() = default;

absl::StatusOr<int> DeliveryOutbox::RecoverInterrupted() {
  int n = 0;
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<int> requeued =
        txn.RequeueInterruptedDeliveries(deps_.clock.Now());
    if (!requeued.ok()) return requeued.status();
    n = *requeued;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return n;
}

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

absl::StatusOr<std::vector<v1::Delivery>> DeliveryOutbox::Claim(int batch) {
  // No two workers, in this process or another on the same store, ever
  // hold the same delivery while its lease runs.
  return deps_.store.ClaimDueDeliveries(ClaimRequest{
      .now = deps_.clock.Now(), .lease = kClaimLease, .limit = batch});
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

absl::StatusOr<int> DeliveryOutbox::RunOnce(int batch) {
  int attempted = 0;
  while (attempted < batch) {
    std::optional<Attempt> next = Take();
    if (!next.has_value()) {
      absl::StatusOr<bool> more = Refill(/*wait=*/true);
      if (!more.ok()) return more.status();
      if (!*more) break;
      continue;
    }
    // Claims the next round before the others run out, while this one is
    // still to send.
    if (absl::StatusOr<bool> more = Refill(/*wait=*/false); !more.ok()) {
      // This one is sent all the same; the next pass claims again.
      LogWarn("could not claim deliveries ahead",
              {{"error", more.status().ToString()}});
    }
    const absl::Time started = deps_.clock.Now();
    if (started > next->lease_ends - kClaimSendBy) {
      // Waited in memory too long: its lease may run out mid-send.
      Done(next->destination, std::nullopt);
      std::vector<v1::Delivery> late;
      late.push_back(std::move(next->delivery));
      if (absl::Status s = Release(std::move(late), started); !s.ok()) {
        return s;
      }
      continue;
    }
    absl::Status s = SendOne(*next);
    Done(next->destination, deps_.clock.Now() - started);
    if (!s.ok()) return s;
    ++attempted;
  }
  return attempted;
}

absl::StatusOr<bool> DeliveryOutbox::Refill(bool wait) {
  const int round = deps_.delivery.workers;  // one delivery per worker
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    const int takeable = TakeableLocked();
    if (claiming_) {
      if (!wait || takeable > 0) return true;
      // One worker claims at a time; the others take what it claims.
      mu_.AwaitWithTimeout(
          absl::Condition(
              +[](bool* claiming) { return !*claiming; }, &claiming_),
          absl::Seconds(1));
      return !stopping_;
    }
    // Enough to go on with: one to take now, or two rounds ahead.
    if (takeable >= (wait ? 1 : 2 * round)) return true;
    // The rest waits for busy destinations: claiming more would only hold
    // more of it in memory.
    if (static_cast<int>(ready_.size()) >= kMaxReadyRounds * round) {
      return false;
    }
    claiming_ = true;
  }
  absl::StatusOr<int> claimed = ClaimReady(8 * round);
  absl::MutexLock lock(&mu_);
  claiming_ = false;
  if (!claimed.ok()) return claimed.status();
  return *claimed > 0;
}

int DeliveryOutbox::TakeableLocked() {
  int takeable = 0;
  for (const Attempt& a : ready_) {
    if (a.destination.empty()) {
      ++takeable;
      continue;
    }
    auto dest = destinations_.find(a.destination);
    takeable += dest == destinations_.end() ||
                dest->second.in_flight < dest->second.limit;
  }
  return takeable;
}

absl::StatusOr<int> DeliveryOutbox::ClaimReady(int batch) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return 0;
  }
  absl::StatusOr<std::vector<v1::Delivery>> claimed = Claim(batch);
  if (!claimed.ok()) return claimed.status();
  if (claimed->empty()) return 0;
  int added = 0;
  std::vector<Attempt> attempts;
  attempts.reserve(claimed->size());
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    for (v1::Delivery& d : *claimed)
      attempts.push_back(Prepare(r, std::move(d)));
    return absl::OkStatus();
  });
  const absl::Time now = deps_.clock.Now();
  if (!s.ok()) {
    // Back in the queue; were that to fail too, they stay in `sending`
    // until the next start puts them back.
    if (absl::Status st = Release(*std::move(claimed), now); !st.ok()) {
      LogWarn("could not put claimed deliveries back",
              {{"error", st.ToString()}});
    }
    return s;
  }
  // Put back: for now (a stop), or until a busy destination has room.
  std::vector<v1::Delivery> unsent;
  std::map<absl::Time, std::vector<v1::Delivery>> busy;
  {
    absl::MutexLock lock(&mu_);
    for (Attempt& a : attempts) {
      if (stopping_) {
        unsent.push_back(std::move(a.delivery));
        continue;
      }
      if (a.outgoing.has_value()) {
        a.destination = DestinationOf(*a.outgoing);
        Destination& dest = destinations_[a.destination];
        dest.limit = deps_.delivery.For(a.outgoing->channel).max_in_flight;
        if (dest.waiting >= Room(a.outgoing->channel, dest)) {
          // Due again once the sends ahead of it should be done, one after
          // the other: each put back goes a send later than the one
          // before. Until a send has finished, a send counts as slow.
          const absl::Duration send = dest.typical_send > absl::ZeroDuration()
                                          ? dest.typical_send
                                          : kSlowSend;
          ++dest.put_back;
          const absl::Duration ahead =
              send * (dest.waiting + dest.in_flight + dest.put_back) /
              dest.limit;
          busy[now +
               std::clamp(ahead, absl::Milliseconds(100), absl::Minutes(5))]
              .push_back(std::move(a.delivery));
          continue;
        }
        ++dest.waiting;
        ++added;
      } else {
        ++added;
      }
      ready_.push_back(std::move(a));
    }
  }
  // Every one is tried, so that one failure strands no other.
  absl::Status status;
  if (!unsent.empty()) status.Update(Release(std::move(unsent), now));
  for (auto& [due, deliveries] : busy) {
    status.Update(Release(std::move(deliveries), due));
  }
  if (!status.ok()) return status;
  return added;
}

int DeliveryOutbox::Room(v1::ChannelKind channel,
                         const Destination& dest) const {
  // One that is slow (or hangs) gets only its next round, so little waits
  // in memory, rendered, for long.
  if (dest.typical_send >= kSlowSend) return dest.limit;
  // The relay and the gateway carry whole fan-outs: everything claimed may
  // be theirs.
  if (channel == v1::CHANNEL_KIND_EMAIL || channel == v1::CHANNEL_KIND_SMS) {
    return kMaxReadyRounds * deps_.delivery.workers;
  }
  return dest.limit * 4;  // one customer's endpoint: a few rounds
}

std::optional<DeliveryOutbox::Attempt> DeliveryOutbox::Take() {
  absl::MutexLock lock(&mu_);
  if (stopping_) return std::nullopt;
  for (auto it = ready_.begin(); it != ready_.end(); ++it) {
    if (!it->destination.empty()) {
      // Waiting there keeps its entry.
      Destination& dest = destinations_.find(it->destination)->second;
      if (dest.in_flight >= dest.limit) continue;
      ++dest.in_flight;
      --dest.waiting;
    }
    Attempt taken = std::move(*it);
    ready_.erase(it);
    return taken;
  }
  return std::nullopt;
}

void DeliveryOutbox::Done(const std::string& destination,
                          std::optional<absl::Duration> took) {
  if (destination.empty()) return;
  absl::MutexLock lock(&mu_);
  auto it = destinations_.find(destination);
  if (it == destinations_.end()) return;
  Destination& dest = it->second;
  --dest.in_flight;
  dest.put_back = std::max(0, dest.put_back - 1);  // one may take its place
  if (took.has_value()) {
    dest.typical_send = dest.typical_send == absl::ZeroDuration()
                            ? *took
                            : (dest.typical_send * 4 + *took) / 5;
  }
  if (dest.in_flight == 0 && dest.waiting == 0) destinations_.erase(it);
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

void DeliveryOutbox::StopSending() {
  std::vector<v1::Delivery> unsent;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (Attempt& a : ready_) unsent.push_back(std::move(a.delivery));
    ready_.clear();
    for (auto it = destinations_.begin(); it != destinations_.end();) {
      it->second.waiting = 0;
      it = it->second.in_flight == 0 ? destinations_.erase(it) : std::next(it);
    }
  }
  if (unsent.empty()) return;
  const size_t count = unsent.size();
  if (absl::Status s = Release(std::move(unsent), deps_.clock.Now()); !s.ok()) {
    // They stay in `sending`; the next start puts them back.
    LogWarn("stopping: could not put claimed deliveries back in the queue",
            {{"count", absl::StrCat(count)}, {"error", s.ToString()}});
    return;
  }
  LogInfo("stopping: claimed deliveries put back in the queue",
          {{"count", absl::StrCat(count)}});
}

absl::Status DeliveryOutbox::Release(std::vector<v1::Delivery> unsent,
                                     absl::Time due) {
  return deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    for (v1::Delivery& d : unsent) {
      d.set_attempts(d.attempts() - 1);  // Claim counted an attempt
      d.set_contact_attempts(std::max(0, d.contact_attempts() - 1));
      // Back to the state Claim found it in.
      d.set_state(d.contact_attempts() > 0 ||
                          d.waiting_on() != v1::CHANNEL_KIND_UNSPECIFIED
                      ? v1::DELIVERY_STATE_RETRYING
                      : v1::DELIVERY_STATE_QUEUED);
      *d.mutable_next_attempt_at() = ToProtoTime(due);
      if (absl::Status st = txn.UpdateDelivery(d); !st.ok()) return st;
    }
    return absl::OkStatus();
  });
}

void DeliveryOutbox::ChannelAnswered(v1::ChannelKind channel) {
  const absl::Time now = deps_.clock.Now();
  if (health_.Answered(channel, now)) ReleaseWaiting(channel, now);
}

void DeliveryOutbox::ReleaseWaiting(v1::ChannelKind channel, absl::Time now) {
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<int> released = txn.ReleaseWaitingDeliveries(channel, now);
    if (!released.ok()) return released.status();
    if (*released > 0) {
      LogInfo("deliveries that waited for the channel are due now",
              {{"channel", EnumLabel(channel)},
               {"count", absl::StrCat(*released)}});
    }
    return absl::OkStatus();
  });
  if (!s.ok()) {
    // They are re-checked within the longest probe gap anyway.
    LogWarn("could not release the deliveries waiting for a channel",
            {{"channel", EnumLabel(channel)}, {"error", s.ToString()}});
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
      now, d.incident_id(), delivered ? "delivered" : "delivery_failed",
      "herald",
      absl::StrCat(d.recipient(), " by ", EnumLabel(d.channel()), " ",
                   d.address(),
                   delivered ? ""
                             : absl::StrCat(" (", d.last_error(), "; ",
                                            EnumLabel(d.state()), ")")),
      d.message_id() != 0 ? MessageRef(d.message_id()) : "");
}

absl::Status DeliveryOutbox::RefreshGauges() {
  OutboxStats stats;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<OutboxStats> got = r.GetOutboxStats();
    if (!got.ok()) return got.status();
    stats = *got;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  deps_.metrics.outbox_depth.Set(static_cast<double>(stats.pending));
  deps_.metrics.outbox_oldest_age_seconds.Set(
      stats.pending == 0
          ? 0
          : std::max(0.0, absl::ToDoubleSeconds(deps_.clock.Now() -
                                                stats.oldest_queued_at)));
  return absl::OkStatus();
}

}  // namespace herald
