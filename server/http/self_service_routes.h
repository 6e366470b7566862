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
//   POST /follow-up                  records the answer the token carries,
//                                    and a problem's `comment` (free text)
//   GET  /preferences?token=         the subscriber's preferences, as a form
//   POST /preferences                token, component (repeated), locale,
//                                    time_zone, order.<position> (a place
//                                    from 1 per channel) and channels (the
//                                    fingerprint of the channels shown)
// A GET never changes anything: mail scanners open links. Every answer is a
// page for people, in their language (the subscriber's, or for the
// anonymous form the browser's Accept-Language), with a status code that
// says what happened. No page needs script. Stateless; thread-safe as
// SubscriptionPortal is.
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
#include "server/http/page_kit.h"
#include "server/statuspage/status_page.h"

namespace herald {

// What the routes serve; a null service answers 404.
struct SelfServiceDeps {
  const StatusPage& page;
  SubscriptionPortal* portal = nullptr;
  const FollowUps* follow_ups = nullptr;
};

bool IsSelfServicePath(absl::string_view path);

// `path` is one that IsSelfServicePath accepts.
HttpReply ServeSelfService(const SelfServiceDeps& deps, absl::string_view path,
                           const HttpRequest& request);

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_SELF_SERVICE_ROUTES_H_
