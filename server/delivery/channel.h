// Channel sends one delivery to one recipient over one medium (SMTP today;
// webhooks, Slack and SMS later). Implementations must be thread-safe.
#ifndef HERALD_SERVER_DELIVERY_CHANNEL_H_
#define HERALD_SERVER_DELIVERY_CHANNEL_H_

#include "absl/status/status.h"
#include "herald/v1/domain.pb.h"

namespace herald {

class Channel {
 public:
  virtual ~Channel() = default;

  // Sends `delivery` (address, subject, body, idempotency key). Returns OK
  // once the receiver has accepted it; Unavailable, DeadlineExceeded or
  // ResourceExhausted when a later attempt may succeed; any other code when
  // retrying cannot help (a rejected address, say).
  virtual absl::Status Send(const v1::Delivery& delivery) = 0;
};

// True for the codes that Channel::Send uses to ask for a retry.
inline bool IsRetryable(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ||
         absl::IsResourceExhausted(s);
}

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_CHANNEL_H_
