#include "server/base/authorization_header.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"

namespace herald {

PresentedCredential ParseAuthorizationHeader(absl::string_view header) {
  PresentedCredential out;
  header = absl::StripAsciiWhitespace(header);
  const size_t space = header.find(' ');
  if (space == absl::string_view::npos) return out;
  const absl::string_view scheme = header.substr(0, space);
  const absl::string_view value =
      absl::StripAsciiWhitespace(header.substr(space + 1));
  if (value.empty()) return out;
  if (absl::EqualsIgnoreCase(scheme, "bearer")) {
    out.scheme = PresentedCredential::Scheme::kBearer;
    out.secret = std::string(value);
  } else if (absl::EqualsIgnoreCase(scheme, "basic")) {
    std::string decoded;
    if (!absl::Base64Unescape(value, &decoded)) return out;
    const size_t colon = decoded.find(':');
    if (colon == std::string::npos) return out;
    out.scheme = PresentedCredential::Scheme::kBasic;
    out.user = decoded.substr(0, colon);
    out.secret = decoded.substr(colon + 1);
  }
  return out;
}

}  // namespace herald
