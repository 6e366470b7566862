#include "server/http/console_routes.h"

#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "herald/json_output.h"
#include "server/base/log.h"
#include "server/http/console_pages.h"

namespace herald {
namespace {

constexpr char kHome[] = "/console/";
constexpr char kSignIn[] = "/console/sign-in";
constexpr char kSignOut[] = "/console/sign-out";
constexpr char kScript[] = "/console/console.js";

// The value of cookie `name` in a Cookie header; "" when absent.
std::string CookieValue(absl::string_view header, absl::string_view name) {
  for (absl::string_view pair : absl::StrSplit(header, ';')) {
    pair = absl::StripAsciiWhitespace(pair);
    if (absl::ConsumePrefix(&pair, name) && absl::ConsumePrefix(&pair, "=")) {
      return std::string(pair);
    }
  }
  return "";
}

std::string SessionCookie(const ConsoleDeps& deps, absl::string_view value,
                          absl::Duration max_age) {
  return absl::StrCat(kConsoleCookie, "=", value,
                      "; Path=/console; HttpOnly; SameSite=Strict; Max-Age=",
                      absl::ToInt64Seconds(max_age),
                      deps.tls ? "; Secure" : "");
}

HttpReply RenderConsolePage(const ConsoleDeps& deps, int status,
                            absl::string_view name, TemplateContext ctx) {
  ctx.values["page_name"] = deps.page_name;
  return HtmlPage(status, deps.renderer.Render(name, ctx),
                  absl::StrCat("console page ", name), "same-origin");
}

HttpReply Refused(const ConsoleDeps& deps, int status, std::string why) {
  TemplateContext ctx;
  ctx.values["heading"] = status == 401   ? "Please sign in"
                          : status == 404 ? "Not found"
                                          : "Not allowed";
  ctx.flags["show_sign_in_link"] = true;
  ctx.values["error"] = std::move(why);
  return RenderConsolePage(deps, status, "console_sign_in.html",
                           std::move(ctx));
}

// A POST whose Origin names another site is refused whatever it carries:
// the first line against cross-site request forgery, before the token.
bool CrossSite(const HttpRequest& request) {
  if (request.origin.empty()) return false;  // not sent: the token decides
  return request.origin != absl::StrCat("http://", request.host) &&
         request.origin != absl::StrCat("https://", request.host);
}

HttpReply SignInForm(const ConsoleDeps& deps, int status, std::string error) {
  TemplateContext ctx;
  ctx.values["heading"] = "Sign in to the comms console";
  ctx.values["error"] = std::move(error);
  ctx.flags["show_sign_in"] = true;
  return RenderConsolePage(deps, status, "console_sign_in.html",
                           std::move(ctx));
}

HttpReply SignIn(const ConsoleDeps& deps, const HttpRequest& request,
                 const FormFields& form) {
  if (!request.post()) return SignInForm(deps, 200, "");
  absl::StatusOr<Caller> caller =
      deps.authorizer.Authenticate(FormField(form, "token"));
  if (!caller.ok()) {
    return SignInForm(deps, 401,
                      "That token is not valid. Use the API token herald "
                      "gave you (the one `herald` uses).");
  }
  absl::StatusOr<ConsoleSessions::Created> created =
      deps.sessions.Start(*caller);
  if (!created.ok()) {
    LogError("console sign-in not stored",
             {{"person", caller->person_id},
              {"error", created.status().ToString()}});
    return SignInForm(deps, 503,
                      "herald cannot store your session right now. Try "
                      "again in a moment.");
  }
  LogInfo("console sign-in", {{"person", caller->person_id}});
  HttpReply reply = SeeOther(kHome);
  reply.headers.emplace_back(
      "Set-Cookie", SessionCookie(deps, created->secret, deps.sessions.ttl()));
  return reply;
}

// The JSON API needs POST, a live session and its CSRF token in a header
// (a form cannot set one, so no other page can make the call).
HttpReply ApiCall(const ConsoleDeps& deps, absl::string_view method,
                  const HttpRequest& request, const std::string& secret,
                  bool has_session) {
  if (!request.post()) {
    return ConsoleApiError(405, "METHOD_NOT_ALLOWED",
                           "call API methods with POST");
  }
  if (!has_session) {
    return ConsoleApiError(
        401, "UNAUTHENTICATED",
        "no live console session: sign in at /console/sign-in");
  }
  if (!deps.sessions.CsrfTokenMatches(secret, request.csrf_token)) {
    return ConsoleApiError(
        403, "CSRF",
        "missing or wrong X-CSRF-Token header: use the token "
        "the console page carries");
  }
  return deps.api->Call(method, request.body, secret);
}

}  // namespace

HttpReply SeeOther(absl::string_view to) {
  HttpReply reply;
  reply.status = 303;
  reply.content_type = "text/plain; charset=utf-8";
  reply.body = absl::StrCat("See ", to, "\n");
  reply.headers.emplace_back("Location", std::string(to));
  return reply;
}

bool IsConsolePath(absl::string_view path) {
  return path == "/console" || absl::StartsWith(path, "/console/");
}

HttpReply ServeConsole(const ConsoleDeps& deps, absl::string_view path,
                       const HttpRequest& request) {
  if (request.post() && CrossSite(request)) {
    return Refused(deps, 403,
                   "This request came from another site, so it was refused.");
  }
  const bool api = absl::StartsWith(path, kConsoleApiPrefix);
  // Every form field and query parameter a page reads comes from these, so
  // text that is not UTF-8 is refused here, before any page sees it (the
  // JSON API's body is checked by its JSON parser).
  absl::StatusOr<FormFields> query = ParseUrlEncoded(request.query);
  absl::StatusOr<FormFields> form =
      request.post() && !api ? ParseUrlEncoded(request.body) : FormFields();
  for (const absl::StatusOr<FormFields>* parsed : {&query, &form}) {
    if (!parsed->ok()) {
      return Refused(deps, 400, std::string(parsed->status().message()));
    }
  }
  if (path == kSignIn) return SignIn(deps, request, *form);
  const std::string secret = CookieValue(request.cookie, kConsoleCookie);
  const std::optional<ConsoleSessions::Session> session =
      deps.sessions.Find(secret);
  if (api && deps.api != nullptr) {
    return ApiCall(deps, path.substr(strlen(kConsoleApiPrefix)), request,
                   secret, session.has_value());
  }
  if (path == kScript) {
    if (request.post()) return Refused(deps, 405, "Use GET here.");
    return ConsoleScript(deps);
  }
  if (path == kSignOut) {
    if (!request.post()) return Refused(deps, 405, "Sign out with POST.");
    if (!session) return Refused(deps, 401, "Your session has ended.");
    std::string presented = request.csrf_token;
    if (presented.empty()) {
      presented = FormField(*form, "csrf");
    }
    if (!deps.sessions.CsrfTokenMatches(secret, presented)) {
      return Refused(deps, 403,
                     "This form is out of date or did not come from the "
                     "console. Reload the page and try again.");
    }
    deps.sessions.End(secret);
    LogInfo("console sign-out", {{"person", session->caller.person_id}});
    HttpReply reply = SeeOther(kSignIn);
    reply.headers.emplace_back("Set-Cookie",
                               SessionCookie(deps, "", absl::ZeroDuration()));
    return reply;
  }
  if (deps.api == nullptr) return Refused(deps, 404, "No such console page.");
  if (!session) {
    return request.post()
               ? Refused(deps, 401, "Your session has ended. Sign in again.")
               : SeeOther(kSignIn);
  }
  const ConsoleView view{deps, *session, secret};
  absl::string_view rest = path;
  absl::ConsumePrefix(&rest, kHome);
  const std::vector<std::string> parts = absl::StrSplit(rest, '/');
  if (!request.post()) {
    if (path == "/console" || path == kHome) return InboxPage(view);
    if (parts.size() == 2 && parts[0] == "messages") {
      return MessagePage(view, parts[1], FormField(*query, "done"));
    }
    if (parts.size() == 4 && parts[0] == "messages" && parts[2] == "email") {
      return EmailPreviewFrame(view, parts[1], parts[3]);
    }
    if (parts.size() == 2 && parts[0] == "incidents") {
      return IncidentPage(view, parts[1], FormField(*query, "page"));
    }
    return Refused(deps, 404, "No such console page.");
  }
  if (parts.size() != 3 || parts[0] != "messages") {
    return Refused(deps, 405, "Use GET here.");
  }
  if (!deps.sessions.CsrfTokenMatches(secret, FormField(*form, "csrf"))) {
    return Refused(deps, 403,
                   "This form is out of date or did not come from the "
                   "console. Reload the page and try again.");
  }
  return MessageAction(view, parts[1], parts[2], *form);
}

HttpReply OpenConsoleEvents(const ConsoleDeps& deps,
                            const HttpRequest& request) {
  if (request.post() || deps.events == nullptr) {
    return Refused(deps, 405, "Listen to events with GET.");
  }
  std::string secret = CookieValue(request.cookie, kConsoleCookie);
  const std::optional<ConsoleSessions::Session> session =
      deps.sessions.Find(secret);
  if (!session) {
    return Refused(deps, 401, "Your session has ended. Sign in again.");
  }
  ConsoleEventStream stream;
  stream.secret = std::move(secret);
  stream.caller = session->caller;
  const absl::StatusOr<FormFields> query = ParseUrlEncoded(request.query);
  if (!query.ok()) {
    return Refused(deps, 400, std::string(query.status().message()));
  }
  const std::string asked = FormField(*query, "incident");
  absl::string_view incident = asked;
  if (!incident.empty()) {
    absl::ConsumePrefix(&incident, "INC-");
    if (!absl::SimpleAtoi(incident, &stream.incident_id) ||
        stream.incident_id <= 0) {
      return Refused(deps, 400, "incident: expected an incident like INC-12.");
    }
  }
  HttpReply reply;
  reply.events = std::move(stream);
  return reply;
}

std::string ServerSentEvent(const v1::WatchEvent& event) {
  std::string json = ToReplyJson(event);
  if (!json.empty() && json.back() == '\n') json.pop_back();
  return absl::StrCat("data: ", json, "\n\n");
}

}  // namespace herald
