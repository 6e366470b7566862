#include "server/core/subscribers/link_tokens.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/base/secret_token.h"

namespace herald {
namespace {

constexpr char kConfirm[] = "c";
constexpr char kUnsubscribe[] = "u";
constexpr char kAnswer[] = "a";
constexpr char kManage[] = "m";

absl::Status Invalid() {
  return absl::InvalidArgumentError(
      "this link is not valid: it may have been cut short when copied");
}

}  // namespace

LinkTokens::LinkTokens(std::string key) : key_(std::move(key)) {}

std::string LinkTokens::Mac(absl::string_view signed_part) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(signed_part.data()),
       signed_part.size(), mac, &len);
  return absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(mac), len));
}

std::string LinkTokens::Confirm(absl::string_view subscriber_id,
                                absl::Time expires) const {
  const std::string signed_part =
      absl::StrCat(kConfirm, ".", absl::WebSafeBase64Escape(subscriber_id), ".",
                   absl::ToUnixSeconds(expires));
  return absl::StrCat(signed_part, ".", Mac(signed_part));
}

std::string LinkTokens::Unsubscribe(absl::string_view subscriber_id) const {
  const std::string signed_part =
      absl::StrCat(kUnsubscribe, ".", absl::WebSafeBase64Escape(subscriber_id));
  return absl::StrCat(signed_part, ".", Mac(signed_part));
}

std::string LinkTokens::Manage(absl::string_view subscriber_id) const {
  const std::string signed_part =
      absl::StrCat(kManage, ".", absl::WebSafeBase64Escape(subscriber_id));
  return absl::StrCat(signed_part, ".", Mac(signed_part));
}

std::string LinkTokens::Answer(int64_t amends_id,
                               v1::FollowUpAnswer answer) const {
  const std::string signed_part =
      absl::StrCat(kAnswer, ".",
                   absl::WebSafeBase64Escape(
                       absl::StrCat(amends_id, ":", static_cast<int>(answer))));
  return absl::StrCat(signed_part, ".", Mac(signed_part));
}

absl::StatusOr<std::string> LinkTokens::Check(absl::string_view token,
                                              absl::string_view purpose,
                                              absl::Time now) const {
  if (token.size() > 512) return Invalid();
  const size_t last_dot = token.rfind('.');
  if (last_dot == absl::string_view::npos) return Invalid();
  const absl::string_view signed_part = token.substr(0, last_dot);
  if (!ConstantTimeEquals(Mac(signed_part), token.substr(last_dot + 1))) {
    return Invalid();
  }
  // Authentic from here on: the parts are as herald wrote them.
  const std::vector<absl::string_view> parts = absl::StrSplit(signed_part, '.');
  const bool expiring = purpose == kConfirm;
  if (parts.size() != (expiring ? 3u : 2u) || parts[0] != purpose) {
    return Invalid();
  }
  std::string id;
  if (!absl::WebSafeBase64Unescape(parts[1], &id) || id.empty()) {
    return Invalid();
  }
  if (expiring) {
    int64_t expires = 0;
    if (!absl::SimpleAtoi(parts[2], &expires)) return Invalid();
    if (now > absl::FromUnixSeconds(expires)) {
      return absl::FailedPreconditionError(
          "this confirmation link has expired: subscribe again to get a new "
          "one");
    }
  }
  return id;
}

absl::StatusOr<std::string> LinkTokens::CheckConfirm(absl::string_view token,
                                                     absl::Time now) const {
  return Check(token, kConfirm, now);
}

absl::StatusOr<std::string> LinkTokens::CheckUnsubscribe(
    absl::string_view token) const {
  return Check(token, kUnsubscribe, absl::InfinitePast());
}

std::string LinkTokens::Fingerprint(absl::string_view purpose,
                                    absl::string_view data) const {
  return Mac(absl::StrCat("f.", purpose, ".", data)).substr(0, 22);
}

absl::StatusOr<std::string> LinkTokens::CheckManage(
    absl::string_view token) const {
  return Check(token, kManage, absl::InfinitePast());
}

absl::StatusOr<std::pair<int64_t, v1::FollowUpAnswer>> LinkTokens::CheckAnswer(
    absl::string_view token) const {
  absl::StatusOr<std::string> subject =
      Check(token, kAnswer, absl::InfinitePast());
  if (!subject.ok()) return subject.status();
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(*subject, absl::MaxSplits(':', 1));
  int64_t amends_id = 0;
  int answer = 0;
  if (!absl::SimpleAtoi(parts.first, &amends_id) ||
      !absl::SimpleAtoi(parts.second, &answer) ||
      !v1::FollowUpAnswer_IsValid(answer) ||
      answer == v1::FOLLOW_UP_ANSWER_UNSPECIFIED) {
    return Invalid();
  }
  return std::make_pair(amends_id, static_cast<v1::FollowUpAnswer>(answer));
}

std::string NewLinkKey(Random& random) { return random.Hex(32); }

SubscriberLinks LinksFor(absl::string_view public_url, const LinkTokens& links,
                         absl::string_view subscriber_id) {
  return {LinkUrl(public_url, "/unsubscribe", links.Unsubscribe(subscriber_id)),
          LinkUrl(public_url, "/preferences", links.Manage(subscriber_id))};
}

std::map<std::string, std::string> FollowUpLinks(absl::string_view public_url,
                                                 const LinkTokens& links,
                                                 int64_t amends_id) {
  std::map<std::string, std::string> out;
  for (const auto& [name, answer] :
       {std::pair{"answer_works_url", v1::FOLLOW_UP_ANSWER_WORKS},
        std::pair{"answer_still_broken_url", v1::FOLLOW_UP_ANSWER_STILL_BROKEN},
        std::pair{"answer_credit_received_url",
                  v1::FOLLOW_UP_ANSWER_CREDIT_RECEIVED},
        std::pair{"answer_credit_missing_url",
                  v1::FOLLOW_UP_ANSWER_CREDIT_MISSING}}) {
    out[name] =
        LinkUrl(public_url, "/follow-up", links.Answer(amends_id, answer));
  }
  return out;
}

std::string LinkUrl(absl::string_view public_url, absl::string_view path,
                    absl::string_view token) {
  absl::ConsumeSuffix(&public_url, "/");
  return absl::StrCat(public_url, path, "?token=", token);
}

}  // namespace herald
