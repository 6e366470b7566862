// The status page's self-service routes, as plain functions of a request so
// that HttpServer only moves bytes:
//   GET  /subscribe                  the form
//   POST /subscribe                  email, name, component (repeated)
//   GET  /subscribe/confirm?token=   a page with a "Confirm" button
//   POST /subscribe/confirm          token (form field or query)
//   GET  /unsubscribe?token=         a page with an "Unsubscribe" button
//   POST /unsubscribe?token=         unsubscribes; also RFC 8058 one-click
//                                    (body "List-Unsubscribe=One-Click")
//   GET  /follow-up?token=           a follow-up answer, with a button
//   POST /follow-up                  records the answer the token carries
// A GET never changes anything: mail scanners open links. Every answer is a
// page for people, with a status code that says what happened. Stateless;
// thread-safe as SubscriptionPortal is.
#ifndef HERALD_SERVER_HTTP_SELF_SERVICE_ROUTES_H_
#define HERALD_SERVER_HTTP_SELF_SERVICE_ROUTES_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/core/aftercare/follow_ups.h"
#include "server/core/subscribers/subscription_portal.h"
#include "server/http/form_fields.h"
#include "server/statuspage/status_page.h"

namespace herald {

struct FormRequest {
  bool post = false;
  std::string query;  // after '?', still encoded
  std::string content_type;
  std::string body;
  std::string peer;  // the client's network address; "" if unknown
};

struct PageReply {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A page for people made from `html`: with `status`, kept out of caches,
// with a Content-Security-Policy that allows no script and forms to this
// site only, and `referrer_policy`. A render failure is logged (as `what`)
// and answered 500 without its details.
// `csp` replaces that policy for pages that need more (the console's).
inline constexpr char kNoScriptCsp[] =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";
PageReply HtmlPage(int status, absl::StatusOr<std::string> html,
                   absl::string_view what, absl::string_view referrer_policy,
                   absl::string_view csp = kNoScriptCsp);

// What the routes serve; a null service answers 404.
struct SelfServiceDeps {
  const StatusPage& page;
  SubscriptionPortal* portal = nullptr;
  const FollowUps* follow_ups = nullptr;
};

bool IsSelfServicePath(absl::string_view path);

// `path` is one that IsSelfServicePath accepts.
PageReply ServeSelfService(const SelfServiceDeps& deps, absl::string_view path,
                           const FormRequest& request);

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_SELF_SERVICE_ROUTES_H_
