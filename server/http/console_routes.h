// The comms console's sign-in and session routes (issue 8), as plain
// functions of a request so that HttpServer only moves bytes:
//   GET  /console/sign-in   the sign-in form (a herald API token)
//   POST /console/sign-in   token -> a session cookie, 303 to /console/
//   GET  /console/          who is signed in, with the sign-out button;
//                           303 to the sign-in form without a live session
//   POST /console/sign-out  ends the session on the server, clears the cookie
//   POST /console/api/...   the JSON API (console_api.h), as the session;
//                           needs the X-CSRF-Token header
// The session cookie is HttpOnly, SameSite=Strict, limited to /console,
// expiring with the session, and Secure when heraldd serves TLS. Every POST
// is refused (403) when its Origin header names another site; every POST
// made within a session must also carry the session's CSRF token (form
// field `csrf` or header X-CSRF-Token). Roles are the Authorizer's, as in
// the gRPC API. Stateless itself; thread-safe as ConsoleSessions is.
#ifndef HERALD_SERVER_HTTP_CONSOLE_ROUTES_H_
#define HERALD_SERVER_HTTP_CONSOLE_ROUTES_H_

#include <string>

#include "absl/strings/string_view.h"
#include "server/core/authorizer.h"
#include "server/core/console_sessions.h"
#include "server/core/renderer.h"
#include "server/http/console_api.h"
#include "server/http/self_service_routes.h"

namespace herald {

struct ConsoleDeps {
  const Authorizer& authorizer;
  ConsoleSessions& sessions;
  const Renderer& renderer;
  std::string page_name;
  bool tls = false;  // the cookie gets Secure
  // Serves /console/api/; null: 404.
  const ConsoleApi* api = nullptr;
};

struct ConsoleRequest {
  FormRequest form;         // method, query, content type and body
  std::string host;         // the Host header
  std::string origin;       // the Origin header; "" when absent
  std::string cookie;       // the Cookie header
  std::string csrf_header;  // X-CSRF-Token
};

inline constexpr char kConsoleCookie[] = "herald_console";

bool IsConsolePath(absl::string_view path);

// `path` is one that IsConsolePath accepts.
PageReply ServeConsole(const ConsoleDeps& deps, absl::string_view path,
                       const ConsoleRequest& request);

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_CONSOLE_ROUTES_H_
