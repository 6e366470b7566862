#include "server/core/paging.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace herald {
namespace {

// A token is this prefix and the key, base64url encoded. The prefix names
// the format, so that it can change without misreading older tokens.
constexpr absl::string_view kKeysetTokenPrefix = "k1|";

}  // namespace

absl::StatusOr<int> CheckedPageSize(int requested, int default_size) {
  if (requested < 0 || requested > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: expected 0 (the default, ", default_size,
                     ") to ", kMaxPageSize, ", got ", requested));
  }
  return requested == 0 ? default_size : requested;
}

absl::Status BadPageToken() {
  return absl::InvalidArgumentError(
      "page_token: not a token this server returned (pass a reply's "
      "next_page_token as it is)");
}

absl::StatusOr<int64_t> KeysetPage::AfterId() const {
  if (after.empty()) return 0;
  int64_t id = 0;
  if (!absl::SimpleAtoi(after, &id) || id < 0) return BadPageToken();
  return id;
}

absl::StatusOr<KeysetPage> OpenKeysetPage(const PageRequest& request,
                                          int default_size) {
  absl::StatusOr<int> size = CheckedPageSize(request.page_size, default_size);
  if (!size.ok()) return size.status();
  KeysetPage page{.size = *size};
  if (request.page_token.empty()) return page;
  std::string raw;
  if (!absl::WebSafeBase64Unescape(request.page_token, &raw)) {
    return BadPageToken();
  }
  absl::string_view key = raw;
  if (!absl::ConsumePrefix(&key, kKeysetTokenPrefix) || key.empty()) {
    return BadPageToken();
  }
  page.after = std::string(key);
  return page;
}

std::string KeysetPageToken(absl::string_view key) {
  return absl::WebSafeBase64Escape(absl::StrCat(kKeysetTokenPrefix, key));
}

}  // namespace herald
