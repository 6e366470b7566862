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
#include "server/delivery/outbox_attempt.h"

namespace herald {
namespace {

// A destination whose sends take this long is slow.
constexpr absl::Duration kSlowSend = absl::Seconds(1);
// At most this many deliveries per worker wait, claimed, in memory.
constexpr int kMaxReadyRounds = 16;
// How long a claim holds (Store::ClaimDueDeliveries) is
// delivery.claim_lease: past it, another worker, here or in another heraldd
// on the same store, may claim the delivery again. A claim still waiting in
// memory when less than half of its lease is left goes back to the queue
// unsent, so that no send races its lease: the config loader holds half a
// lease longer than any send may take.
absl::Duration SendBy(const DeliverySettings& delivery) {
  return delivery.claim_lease / 2;
}

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

absl::StatusOr<std::vector<v1::Delivery>> DeliveryOutbox::Claim(int batch) {
  // No two workers, in this process or another on the same store, ever
  // hold the same delivery while its lease runs.
  return deps_.store.ClaimDueDeliveries(
      ClaimRequest{.now = deps_.clock.Now(),
                   .lease = deps_.delivery.claim_lease,
                   .limit = batch});
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
    if (next->outgoing.has_value() &&
        started > next->lease_ends - SendBy(deps_.delivery)) {
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

std::vector<v1::Delivery> DeliveryOutbox::TakeStaleLocked(absl::Time now) {
  std::vector<v1::Delivery> stale;
  for (auto it = ready_.begin(); it != ready_.end();) {
    if (!it->outgoing.has_value() ||
        now <= it->lease_ends - SendBy(deps_.delivery)) {
      ++it;
      continue;
    }
    auto dest = destinations_.find(it->destination);
    if (dest != destinations_.end() && --dest->second.waiting == 0 &&
        dest->second.in_flight == 0) {
      destinations_.erase(dest);
    }
    stale.push_back(std::move(it->delivery));
    it = ready_.erase(it);
  }
  return stale;
}

absl::StatusOr<bool> DeliveryOutbox::Refill(bool wait) {
  const int round = deps_.delivery.workers;  // one delivery per worker
  // Claims that waited here too long go back first, whether or not their
  // destination has room: their leases must not run out while held.
  const absl::Time now = deps_.clock.Now();
  std::vector<v1::Delivery> stale;
  {
    absl::MutexLock lock(&mu_);
    stale = TakeStaleLocked(now);
  }
  if (!stale.empty()) {
    if (absl::Status s = Release(std::move(stale), now); !s.ok()) return s;
  }
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
    // Each a copy: the store may run this again, from the claimed state.
    for (v1::Delivery d : unsent) {
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
