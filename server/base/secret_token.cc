#include "server/base/secret_token.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstdint>

#include "absl/strings/escaping.h"

namespace herald {

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string GenerateToken(Random& random) { return "hrld_" + random.Hex(20); }

std::string GenerateWebhookSecret(Random& random) {
  uint8_t bytes[32];
  random.Fill(absl::MakeSpan(bytes));
  return "whsec_" + absl::Base64Escape(absl::string_view(
                        reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

}  // namespace herald
