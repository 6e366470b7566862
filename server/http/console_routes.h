// The comms console's sign-in and session routes (issue 8), as plain
// functions of a request so that HttpServer only moves bytes:
//   GET  /console/sign-in   the sign-in form (a herald API token)
//   POST /console/sign-in   token -> a session cookie, 303 to /console/
//   GET  /console/          who is signed in, with the sign-out button;
//                           303 to the sign-in form without a live session
//   POST /console/sign-out  ends the session on the server, clears the cookie
//   POST /console/api/...   the JSON API (console_api.h), as the session;
//                           needs the X-CSRF-Token header
//   GET  /console/events    server-sent events: what `herald watch` sees,
//                           of every incident or of ?incident=INC-n, for
//                           the pages' live updates (HttpServer streams it)
//   and the pages of console_pages.h.
// The session cookie is HttpOnly, SameSite=Strict, limited to /console,
// expiring with the session, and Secure when heraldd serves TLS. Every POST
// is refused (403) when its Origin header names another site; every POST
// made within a session must also carry the session's CSRF token (form
// field `csrf` or header X-CSRF-Token). Roles are the Authorizer's, as in
// the gRPC API. Stateless itself; thread-safe as ConsoleSessions is.
#ifndef HERALD_SERVER_HTTP_CONSOLE_ROUTES_H_
#define HERALD_SERVER_HTTP_CONSOLE_ROUTES_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "herald/v1/herald.pb.h"
#include "server/core/event_hub.h"
#include "server/core/org/authorizer.h"
#include "server/core/renderer.h"
#include "server/http/console_api.h"
#include "server/http/console_sessions.h"
#include "server/http/page_kit.h"

namespace herald {

struct ConsoleDeps {
  const Authorizer& authorizer;
  ConsoleSessions& sessions;
  const Renderer& renderer;
  std::string page_name;
  bool tls = false;  // the cookie gets Secure
  // Serves /console/api/; null: 404.
  const ConsoleApi* api = nullptr;
  // Feeds /console/events; null: 404.
  EventHub* events = nullptr;
};

inline constexpr char kConsoleCookie[] = "herald_console";
inline constexpr char kConsoleEventsPath[] = "/console/events";

bool IsConsolePath(absl::string_view path);

// 303 See Other to `to`: where a console form or sign-in sends the browser.
HttpReply SeeOther(absl::string_view to);

// `path` is one that IsConsolePath accepts.
HttpReply ServeConsole(const ConsoleDeps& deps, absl::string_view path,
                       const HttpRequest& request);

// Checks a GET of /console/events: a live session, and a well-formed
// ?incident=. Either a reply whose `events` grants the stream, or the reply
// refusing it.
HttpReply OpenConsoleEvents(const ConsoleDeps& deps,
                            const HttpRequest& request);

// One server-sent event carrying `event` as single-line JSON.
std::string ServerSentEvent(const v1::WatchEvent& event);

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_CONSOLE_ROUTES_H_
