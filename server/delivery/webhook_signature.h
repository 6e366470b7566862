// Signatures for outbound webhooks, as the Standard Webhooks spec v1 defines
// them (standardwebhooks.com): the receiver recomputes
// base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")) with
// the shared secret and compares it in constant time. Stateless and
// thread-safe.
#ifndef HERALD_SERVER_DELIVERY_WEBHOOK_SIGNATURE_H_
#define HERALD_SERVER_DELIVERY_WEBHOOK_SIGNATURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace herald {

// The `webhook-signature` header value: "v1,<base64>" for each secret,
// separated by spaces, so that both keys verify while one is rotated.
// Secrets are "whsec_" + base64 of the key (the prefix may be left out).
// InvalidArgument names a secret that is not base64, by position only.
absl::StatusOr<std::string> StandardWebhookSignature(
    const std::vector<std::string>& secrets, absl::string_view id,
    int64_t timestamp, absl::string_view body);

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_WEBHOOK_SIGNATURE_H_
