#include "server/delivery/webhook_signature.h"

#include <openssl/hmac.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/core/subscribers/contacts.h"

namespace herald {

absl::StatusOr<std::string> StandardWebhookSignature(
    const std::vector<std::string>& secrets, absl::string_view id,
    int64_t timestamp, absl::string_view body) {
  const std::string signed_content =
      absl::StrCat(id, ".", timestamp, ".", body);
  std::string header;
  for (size_t i = 0; i < secrets.size(); ++i) {
    const std::optional<std::string> key = WebhookSecretKey(secrets[i]);
    if (!key) {
      return absl::InvalidArgumentError(absl::StrCat(
          "signing secret #", i + 1, " is not \"whsec_\" followed by base64"));
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
         reinterpret_cast<const unsigned char*>(signed_content.data()),
         signed_content.size(), mac, &mac_len);
    absl::StrAppend(&header, header.empty() ? "" : " ", "v1,",
                    absl::Base64Escape(absl::string_view(
                        reinterpret_cast<const char*>(mac), mac_len)));
  }
  return header;
}

}  // namespace herald
