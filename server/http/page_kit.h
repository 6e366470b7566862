// The page kit every HTML route shares (self-service, the console):
// HtmlPage gives a rendered page the headers every page for people carries.
// Stateless.
#ifndef HERALD_SERVER_HTTP_PAGE_KIT_H_
#define HERALD_SERVER_HTTP_PAGE_KIT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/http/http_message.h"

namespace herald {

// A page for people made from `html`: with `status`, kept out of caches,
// with a Content-Security-Policy that allows no script and forms to this
// site only, and `referrer_policy`. A render failure is logged (as `what`)
// and answered 500 without its details.
// `csp` replaces that policy for pages that need more (the console's).
inline constexpr char kNoScriptCsp[] =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";
HttpReply HtmlPage(int status, absl::StatusOr<std::string> html,
                   absl::string_view what, absl::string_view referrer_policy,
                   absl::string_view csp = kNoScriptCsp);

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_PAGE_KIT_H_
