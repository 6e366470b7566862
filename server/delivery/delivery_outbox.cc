#include "server/delivery/delivery_outbox.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "herald/enum_labels.h"
#include "server/core/organisation.h"
#include "server/core/proto_time.h"

namespace herald {

DeliveryOutbox::DeliveryOutbox(OutboxDeps deps) : deps_(std::move(deps)) {}

absl::StatusOr<int> DeliveryOutbox::RecoverInterrupted() {
  int n = 0;
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<int> requeued = txn.RequeueInterruptedDeliveries();
    if (!requeued.ok()) return requeued.status();
    n = *requeued;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return n;
}

absl::Duration DeliveryOutbox::Backoff(int attempts) const {
  const RetryPolicy& p = deps_.retry;
  absl::Duration ceiling = p.base;
  for (int i = 1; i < attempts && ceiling < p.cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, p.cap);
  return ceiling * deps_.random();  // full jitter: anywhere in [0, ceiling)
}

absl::StatusOr<int> DeliveryOutbox::RunOnce(int batch) {
  std::vector<v1::Delivery> due;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<v1::Delivery>> list =
        r.ListDueDeliveries(deps_.clock.Now(), batch);
    if (!list.ok()) return list.status();
    due = *std::move(list);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  int attempted = 0;
  for (v1::Delivery& d : due) {
    absl::Status a = Attempt(std::move(d));
    if (absl::IsAborted(a)) continue;  // another worker claimed it first
    if (!a.ok()) return a;
    ++attempted;
  }
  return attempted;
}

absl::Status DeliveryOutbox::Attempt(v1::Delivery delivery) {
  // Claim: re-read inside the write so two workers never send the same row.
  absl::Status claimed = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<v1::Delivery> current = txn.GetDelivery(delivery.id());
    if (!current.ok()) return current.status();
    if (current->state() != v1::DELIVERY_STATE_QUEUED &&
        current->state() != v1::DELIVERY_STATE_RETRYING) {
      return absl::AbortedError("claimed elsewhere");
    }
    delivery = *std::move(current);
    delivery.set_state(v1::DELIVERY_STATE_SENDING);
    delivery.set_attempts(delivery.attempts() + 1);
    return txn.UpdateDelivery(delivery);
  });
  if (!claimed.ok()) return claimed;

  const absl::Status sent = deps_.email.Send(delivery);
  const absl::Time now = deps_.clock.Now();
  if (sent.ok()) {
    delivery.set_state(v1::DELIVERY_STATE_DELIVERED);
    delivery.clear_last_error();
    *delivery.mutable_delivered_at() = ToProtoTime(now);
    deps_.metrics.emails_sent.Increment();
  } else {
    deps_.metrics.emails_failed.Increment();
    delivery.set_last_error(std::string(sent.message()));
    if (IsRetryable(sent) && delivery.attempts() < deps_.retry.max_attempts) {
      delivery.set_state(v1::DELIVERY_STATE_RETRYING);
      *delivery.mutable_next_attempt_at() =
          ToProtoTime(now + Backoff(delivery.attempts()));
    } else {
      delivery.set_state(v1::DELIVERY_STATE_FAILED);
    }
  }
  absl::Status recorded = deps_.store.Write(
      [&](StoreTxn& txn) { return txn.UpdateDelivery(delivery); });
  if (recorded.ok() && deps_.events != nullptr) {
    const bool delivered = delivery.state() == v1::DELIVERY_STATE_DELIVERED;
    deps_.events->Publish(
        now, delivery.incident_id(),
        delivered ? "delivered" : "delivery_failed", "herald",
        absl::StrCat(delivery.address(), ": ", delivery.subject(),
                     delivered
                         ? ""
                         : absl::StrCat(" (", delivery.last_error(), "; ",
                                        EnumLabel(delivery.state()), ")")),
        delivery.message_id() != 0 ? MessageRef(delivery.message_id()) : "");
  }
  return recorded;
}

}  // namespace herald
