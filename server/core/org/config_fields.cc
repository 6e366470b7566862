#include "server/core/org/config_fields.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace herald {
namespace {

// Nothing herald waits for is longer; it keeps times finite.
constexpr absl::Duration kLongestDuration = absl::Hours(24 * 365);

}  // namespace

absl::Status FieldError(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Status ParsePositiveDuration(absl::string_view field,
                                   const std::string& text,
                                   absl::string_view example,
                                   absl::Duration* out) {
  if (text.empty()) return absl::OkStatus();
  // Go durations stop at hours; follow-ups are counted in days ("7d").
  int days = 0;
  if (absl::EndsWith(text, "d") &&
      absl::SimpleAtoi(absl::string_view(text).substr(0, text.size() - 1),
                       &days)) {
    *out = absl::Hours(24) * days;
  } else if (!absl::ParseDuration(text, out)) {
    *out = absl::ZeroDuration();
  }
  if (*out <= absl::ZeroDuration() || *out == absl::InfiniteDuration()) {
    return FieldError(field, absl::StrCat("expected a duration like \"",
                                          example, "\", got \"", text, "\""));
  }
  if (*out > kLongestDuration) {
    return FieldError(field, absl::StrCat("at most 365d, got \"", text, "\""));
  }
  return absl::OkStatus();
}

}  // namespace herald
