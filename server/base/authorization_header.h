// Parses an HTTP/gRPC `authorization` header value: "Bearer <token>" or
// "Basic <base64 user:password>". Stateless; thread-safe.
#ifndef HERALD_SERVER_BASE_AUTHORIZATION_HEADER_H_
#define HERALD_SERVER_BASE_AUTHORIZATION_HEADER_H_

#include <string>

#include "absl/strings/string_view.h"

namespace herald {

struct PresentedCredential {
  enum class Scheme { kNone, kBearer, kBasic };
  Scheme scheme = Scheme::kNone;
  std::string user;    // Basic only
  std::string secret;  // the bearer token, or the Basic password
};

// kNone for an empty, unknown or malformed header.
PresentedCredential ParseAuthorizationHeader(absl::string_view header);

}  // namespace herald

#endif  // HERALD_SERVER_BASE_AUTHORIZATION_HEADER_H_
