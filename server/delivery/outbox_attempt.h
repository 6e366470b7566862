// Private to the outbox: one claimed delivery, as delivery_outbox.cc
// (the queue and its workers) and delivery_outcomes.cc (rendering,
// sending and recording) share it.
#ifndef HERALD_SERVER_DELIVERY_OUTBOX_ATTEMPT_H_
#define HERALD_SERVER_DELIVERY_OUTBOX_ATTEMPT_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "server/delivery/delivery_outbox.h"

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

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_OUTBOX_ATTEMPT_H_
