// Helpers for API tokens and shared secrets: hashing, constant-time
// comparison, and generation. Stateless and thread-safe.
#ifndef HERALD_SERVER_BASE_SECRET_TOKEN_H_
#define HERALD_SERVER_BASE_SECRET_TOKEN_H_

#include <string>

#include "absl/strings/string_view.h"
#include "server/base/random.h"

namespace herald {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

// Compares in time that depends only on the lengths, never on the contents.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// A new random token: "hrld_" followed by 40 hex characters (160 bits).
std::string GenerateToken(Random& random);

// A new Standard Webhooks signing secret: "whsec_" + base64 of 32 random
// bytes.
std::string GenerateWebhookSecret(Random& random);

}  // namespace herald

#endif  // HERALD_SERVER_BASE_SECRET_TOKEN_H_
