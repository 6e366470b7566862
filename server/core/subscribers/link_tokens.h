// LinkTokens signs and checks the tokens in the links herald emails to
// customers: confirming a subscription (double opt-in, expiring),
// unsubscribing (never expiring, as RFC 8058 one-click links must keep
// working), managing one's preferences (never expiring, like the
// unsubscribe link beside it) and answering a follow-up (one token per
// answer, never expiring). Each token is bound to its purpose: one cannot
// be used as another. A token is "<purpose>.<base64url subject>[.<expiry>].
// <base64url HMAC-SHA256>" under a server-wide key that never leaves the
// store; nothing per token is stored, and a forged or altered token fails
// the constant-time MAC check. Immutable; thread-safe.
#ifndef HERALD_SERVER_CORE_SUBSCRIBERS_LINK_TOKENS_H_
#define HERALD_SERVER_CORE_SUBSCRIBERS_LINK_TOKENS_H_

#include <map>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"
#include "server/base/random.h"

namespace herald {

class LinkTokens {
 public:
  // `key`: at least 32 bytes of secret (see NewLinkKey).
  explicit LinkTokens(std::string key);

  std::string Confirm(absl::string_view subscriber_id,
                      absl::Time expires) const;
  std::string Unsubscribe(absl::string_view subscriber_id) const;
  // Opens `subscriber_id`'s preferences page.
  std::string Manage(absl::string_view subscriber_id) const;
  // Records `answer` to the follow-up of amends `amends_id`.
  std::string Answer(int64_t amends_id, v1::FollowUpAnswer answer) const;

  // The subscriber id the token was made for. InvalidArgument for a token
  // that is malformed, forged or for another purpose; FailedPrecondition
  // for a confirmation token past its expiry at `now`.
  absl::StatusOr<std::string> CheckConfirm(absl::string_view token,
                                           absl::Time now) const;
  absl::StatusOr<std::string> CheckUnsubscribe(absl::string_view token) const;
  absl::StatusOr<std::string> CheckManage(absl::string_view token) const;
  // A short keyed digest of `data` for `purpose` (22 characters): lets a
  // form carry proof of what it was shown (a subscriber's channels) that
  // nobody without the key can compute or reverse.
  std::string Fingerprint(absl::string_view purpose,
                          absl::string_view data) const;

  // The amends and the answer the token records; InvalidArgument as above.
  absl::StatusOr<std::pair<int64_t, v1::FollowUpAnswer>> CheckAnswer(
      absl::string_view token) const;

 private:
  std::string Mac(absl::string_view signed_part) const;
  absl::StatusOr<std::string> Check(absl::string_view token,
                                    absl::string_view purpose,
                                    absl::Time now) const;

  const std::string key_;
};

// A new random key for LinkTokens (64 hex characters).
std::string NewLinkKey(Random& random);

// "<public_url><path>?token=<token>"; a trailing slash of `public_url` is
// dropped. Tokens are URL-safe as they are.
std::string LinkUrl(absl::string_view public_url, absl::string_view path,
                    absl::string_view token);

// A follow-up's four answer links for amends `amends_id`, as template
// values: answer_works_url, answer_still_broken_url,
// answer_credit_received_url and answer_credit_missing_url (/follow-up).
std::map<std::string, std::string> FollowUpLinks(absl::string_view public_url,
                                                 const LinkTokens& links,
                                                 int64_t amends_id);

// A subscriber's own links, as template values: unsubscribe_url
// (/unsubscribe) and manage_url (/preferences).
struct SubscriberLinks {
  std::string unsubscribe_url;
  std::string manage_url;
};
SubscriberLinks LinksFor(absl::string_view public_url, const LinkTokens& links,
                         absl::string_view subscriber_id);

// Stands for a recipient's token in previews: a preview must not carry a
// working link that unsubscribes a real customer.
inline constexpr char kPreviewLinkToken[] = "each-recipients-own-token";

// The store setting that holds the key.
inline constexpr char kLinkKeySetting[] = "link_signing_key";

}  // namespace herald

#endif  // HERALD_SERVER_CORE_SUBSCRIBERS_LINK_TOKENS_H_
