// LinkTokens signs and checks the tokens in the links herald emails to
// customers: confirming a subscription (double opt-in, expiring) and
// unsubscribing (never expiring, as RFC 8058 one-click links must keep
// working). A token is "<purpose>.<base64url subscriber id>[.<expiry>].
// <base64url HMAC-SHA256>" under a server-wide key that never leaves the
// store; nothing per token is stored, and a forged or altered token fails
// the constant-time MAC check. Immutable; thread-safe.
#ifndef HERALD_SERVER_CORE_LINK_TOKENS_H_
#define HERALD_SERVER_CORE_LINK_TOKENS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace herald {

class LinkTokens {
 public:
  // `key`: at least 32 bytes of secret (see NewLinkKey).
  explicit LinkTokens(std::string key);

  std::string Confirm(absl::string_view subscriber_id,
                      absl::Time expires) const;
  std::string Unsubscribe(absl::string_view subscriber_id) const;

  // The subscriber id the token was made for. InvalidArgument for a token
  // that is malformed, forged or for another purpose; FailedPrecondition
  // for a confirmation token past its expiry at `now`.
  absl::StatusOr<std::string> CheckConfirm(absl::string_view token,
                                           absl::Time now) const;
  absl::StatusOr<std::string> CheckUnsubscribe(absl::string_view token) const;

 private:
  std::string Mac(absl::string_view signed_part) const;
  absl::StatusOr<std::string> Check(absl::string_view token,
                                    absl::string_view purpose,
                                    absl::Time now) const;

  const std::string key_;
};

// A new random key for LinkTokens (64 hex characters).
std::string NewLinkKey();

// "<public_url><path>?token=<token>"; a trailing slash of `public_url` is
// dropped. Tokens are URL-safe as they are.
std::string LinkUrl(absl::string_view public_url, absl::string_view path,
                    absl::string_view token);

// Stands for a recipient's token in previews: a preview must not carry a
// working link that unsubscribes a real customer.
inline constexpr char kPreviewLinkToken[] = "each-recipients-own-token";

// The store setting that holds the key.
inline constexpr char kLinkKeySetting[] = "link_signing_key";

}  // namespace herald

#endif  // HERALD_SERVER_CORE_LINK_TOKENS_H_
