#include "server/http/http_server_internal.h"

namespace herald {

namespace {

// The request as the routes see it, without its body: Dispatch copies that
// only for a route that takes POST.
HttpRequest ToHttpRequest(const http::request<http::string_body>& req,
                          absl::string_view path, absl::string_view query,
                          const std::string& peer) {
  return HttpRequest{
      .method = std::string(req.method_string()),
      .path = std::string(path),
      .query = std::string(query),
      .content_type = Header(req, http::field::content_type),
      .peer = peer,
      .host = Header(req, http::field::host),
      .origin = Header(req, http::field::origin),
      .cookie = Header(req, http::field::cookie),
      .csrf_token = Header(req, "X-CSRF-Token"),
      .accept_encoding = Header(req, http::field::accept_encoding),
      .accept_language = Header(req, http::field::accept_language),
      .if_none_match = Header(req, http::field::if_none_match),
      .if_modified_since = Header(req, http::field::if_modified_since),
  };
}

// The public document cache's key for the not-found page: no path starts
// with a space.
constexpr char kNotFoundKey[] = " not found";

HttpReply MethodNotAllowed(absl::string_view method, absl::string_view path,
                           absl::string_view allowed) {
  return JsonError(405, "method_not_allowed",
                   absl::StrCat(method, " ", path, ": use ", allowed));
}

}  // namespace

std::vector<HttpServer::Impl::Route> HttpServer::Impl::BuildRoutes() {
  std::vector<Route> out;
  out.push_back(Route{
      .matches = [](const HttpRequest& r) { return IsSelfServicePath(r.path); },
      .takes_post = true,
      .serve =
          [this](const HttpRequest& r) {
            return ServeSelfService(
                {deps.status_page, deps.portal, deps.follow_ups}, r.path, r);
          }});
  if (deps.console != nullptr) {
    if (deps.console->events != nullptr) {
      // Opening a stream is quick, and the stream is the I/O thread's.
      out.push_back(Route{.matches =
                              [](const HttpRequest& r) {
                                return r.path == kConsoleEventsPath &&
                                       r.method == "GET";
                              },
                          .serve =
                              [this](const HttpRequest& r) {
                                return OpenConsoleEvents(*deps.console, r);
                              },
                          .blocking = false});
    }
    out.push_back(Route{
        .matches = [](const HttpRequest& r) { return IsConsolePath(r.path); },
        .takes_post = true,
        .serve =
            [this](const HttpRequest& r) {
              return ServeConsole(*deps.console, r.path, r);
            }});
  }
  for (auto& [path, handler] : Documents()) {
    out.push_back(Route{
        .matches = [path =
                        path](const HttpRequest& r) { return r.path == path; },
        .serve = [handler = std::move(handler)](
                     const HttpRequest&) { return handler(); }});
  }
  // The public site: rendered once per change and kept (public_cache), or
  // rendered per request without one. Every path the site does not have
  // shares one kept not-found page per language, so that asking for
  // unknown paths costs a lookup, not a render, and never grows the cache.
  // A page without a language prefix is kept once per language it is read
  // in (a handful): which one a request gets is its Accept-Language's.
  out.push_back(Route{
      .matches =
          [this](const HttpRequest& r) { return public_site.Covers(r.path); },
      .serve =
          [this](const HttpRequest& r) {
            if (public_cache == nullptr) {
              return ServePublicDocument(r, RenderPublic(r),
                                         deps.public_caching);
            }
            absl::StatusOr<std::shared_ptr<const PublicState>> state =
                public_state.Get();
            const bool missing =
                state.ok() && !public_site.Has(**state, r.path);
            const PublicKeys keys = PublicKeysFor(r);
            return AnswerPublicDocument(
                r, public_cache->Get(missing ? keys.not_found : keys.document,
                                     [&] { return RenderPublic(r); }));
          },
      .quick = [this](const HttpRequest& r) -> std::optional<HttpReply> {
        if (public_cache == nullptr) return std::nullopt;
        const PublicKeys keys = PublicKeysFor(r);
        if (auto fresh = public_cache->Fresh(keys.document)) {
          return AnswerPublicDocument(r, fresh);
        }
        std::shared_ptr<const PublicState> state = public_state.Fresh();
        if (state == nullptr || public_site.Has(*state, r.path)) {
          return std::nullopt;
        }
        if (auto not_found = public_cache->Fresh(keys.not_found)) {
          return AnswerPublicDocument(r, not_found);
        }
        return std::nullopt;
      }});
  return out;
}

void HttpServer::Impl::Dispatch(const Request& req,
                                const asio::any_io_executor& io,
                                const std::string& peer, Respond respond) {
  const absl::string_view target(req.target().data(), req.target().size());
  const size_t q = target.find('?');
  const absl::string_view path = target.substr(0, q);
  const absl::string_view method(req.method_string().data(),
                                 req.method_string().size());
  if (path == kWebhookPath) {  // parsed on the I/O thread (HandleAlertmanager)
    if (req.method() != http::verb::post) {
      return respond(MethodNotAllowed(method, path, "POST"));
    }
    return HandleAlertmanager(req, io, std::move(respond));
  }
  HttpRequest request = ToHttpRequest(
      req, path, q == absl::string_view::npos ? "" : target.substr(q + 1),
      peer);
  for (const Route& route : routes) {
    if (!route.matches(request)) continue;
    if (!request.get() && !(route.takes_post && request.post())) {
      return respond(MethodNotAllowed(
          method, path, route.takes_post ? "GET or POST" : "GET"));
    }
    if (request.post()) request.body = req.body();
    if (!route.blocking) return respond(route.serve(request));
    if (route.quick) {
      if (std::optional<HttpReply> reply = route.quick(request)) {
        return respond(*std::move(reply));
      }
    }
    return RunBlocking(
        [&serve = route.serve, request = std::move(request)] {
          return serve(request);
        },
        std::move(respond));
  }
  respond(JsonError(404, "not_found",
                    absl::StrCat(method, " ", path, ": no such page")));
}

HttpServer::Impl::PublicKeys HttpServer::Impl::PublicKeysFor(
    const HttpRequest& request) const {
  PublicKeys keys;
  keys.language = public_site.Negotiates(request.path)
                      ? public_site.LanguageFor(request.accept_language)
                      : "";
  // No path starts with a space or holds a newline.
  keys.document = keys.language.empty()
                      ? request.path
                      : absl::StrCat(keys.language, "\n", request.path);
  keys.not_found = absl::StrCat(kNotFoundKey, " ", keys.language, " ",
                                public_site.Locate(request.path).language);
  return keys;
}

HttpReply HttpServer::Impl::RenderPublic(const HttpRequest& request) {
  // One series per kind of path, not per incident or language.
  const std::string page = public_site.Locate(request.path).path;
  absl::string_view label = page;
  if (absl::StartsWith(label, "/incidents/")) label = "/incidents/";
  if (absl::StartsWith(label, "/history/")) label = "/history/";
  deps.metrics.public_renders.Add({{"path", std::string(label)}}).Increment();
  // Why it failed is for the log, not for the public.
  const auto unavailable = [](const absl::Status& s) {
    LogError("public document failed", {{"error", s.ToString()}});
    return JsonError(503, "unavailable",
                     "The status page is unavailable; try again shortly.");
  };
  absl::StatusOr<std::shared_ptr<const PublicState>> state = public_state.Get();
  if (!state.ok()) return unavailable(state.status());
  absl::StatusOr<PublicDocument> document = public_site.Render(
      **state, request.path, PageLinks{}, PublicKeysFor(request).language);
  if (!document.ok()) return unavailable(document.status());
  HttpReply reply{
      document->status, document->content_type, std::move(document->body), {}};
  PublicHeaders(document->data, reply);
  if (!document->language.empty()) {
    reply.headers.emplace_back("Content-Language", document->language);
  }
  if (document->negotiated) reply.headers.emplace_back("Vary", kVaryLanguage);
  return reply;
}

void HttpServer::Impl::RunBlocking(Handler handler, Respond respond) {
  asio::post(blocking,
             [handler = std::move(handler), respond = std::move(respond),
              request_id = CurrentRequestId()]() mutable {
               const ScopedRequestId scope(std::move(request_id));
               HttpReply reply;
               try {
                 reply = handler();
               } catch (const std::exception& e) {
                 LogError("http handler threw", {{"error", e.what()}});
                 reply = JsonError(500, "internal", "internal error");
               }
               respond(std::move(reply));
             });
}

std::vector<std::pair<std::string, HttpServer::Impl::Handler>>
HttpServer::Impl::Documents() {
  return {
      {"/healthz", [] { return Text("ok\n"); }},
      {"/readyz",
       [this] {
         const bool ready = !deps.ready || deps.ready();
         HttpReply r = Text(ready ? "ready\n" : "not ready\n");
         r.status = ready ? 200 : 503;
         return r;
       }},
      {"/metrics",
       [this] {
         return Text(
             prometheus::TextSerializer().Serialize(deps.registry.Collect()),
             "text/plain; version=0.0.4; charset=utf-8");
       }},
  };
}
}  // namespace herald
