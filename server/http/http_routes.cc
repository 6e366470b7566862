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
      .if_none_match = Header(req, http::field::if_none_match),
  };
}

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
    std::optional<PublicKind> kind;
    for (const auto& [public_path, public_kind] : PublicDocuments()) {
      if (path == public_path) kind = public_kind;
    }
    out.push_back(Route{
        .matches = [path =
                        path](const HttpRequest& r) { return r.path == path; },
        .serve =
            [this, path = path, handler = std::move(handler),
             kind](const HttpRequest& r) {
              if (!kind) return handler();
              auto render = [&] {
                deps.metrics.public_renders.Add({{"path", path}}).Increment();
                HttpReply reply = handler();
                PublicHeaders(*kind, reply);
                return reply;
              };
              if (public_cache == nullptr) {
                return ServePublicDocument(r, render(), deps.public_caching);
              }
              return AnswerPublicDocument(r, *public_cache->Get(path, render),
                                          deps.public_caching);
            },
        .quick = [this, path = path,
                  kind](const HttpRequest& r) -> std::optional<HttpReply> {
          if (!kind || public_cache == nullptr) return std::nullopt;
          std::shared_ptr<const PreparedDocument> fresh =
              public_cache->Fresh(path);
          if (fresh == nullptr) return std::nullopt;
          return AnswerPublicDocument(r, *fresh, deps.public_caching);
        }});
  }
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
  const StatusPage& page = deps.status_page;
  // Statuspage v2 serves each endpoint as a projection of the summary.
  auto summary = [&page](auto project) -> Handler {
    return [&page, project] {
      absl::StatusOr<v1::statuspage::Summary> s = page.Summary();
      if (!s.ok()) return Serve(s.status(), kJson);
      v1::statuspage::Summary out = *std::move(s);
      project(out);
      return Serve(ToReplyJson(out), kJson);
    };
  };
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
      {"/",
       [&page] {
         return Serve(page.RenderHtml(), "text/html; charset=utf-8");
       }},
      {"/history.atom",
       [&page] {
         return Serve(page.RenderAtom(), "application/atom+xml; charset=utf-8");
       }},
      {"/api/v2/summary.json", summary([](v1::statuspage::Summary&) {})},
      {"/api/v2/status.json", summary([](v1::statuspage::Summary& s) {
         s.clear_components();
         s.clear_incidents();
         s.clear_scheduled_maintenances();
       })},
      {"/api/v2/components.json", summary([](v1::statuspage::Summary& s) {
         s.clear_incidents();
         s.clear_scheduled_maintenances();
         s.clear_status();
       })},
      {"/api/v2/incidents/unresolved.json",
       summary([](v1::statuspage::Summary& s) {
         s.clear_components();
         s.clear_scheduled_maintenances();
         s.clear_status();
       })},
      {"/api/v2/incidents.json",
       [&page] {
         absl::StatusOr<v1::statuspage::Summary> history = page.History(50);
         if (!history.ok()) return Serve(history.status(), kJson);
         history->clear_components();
         history->clear_scheduled_maintenances();
         history->clear_status();
         return Serve(ToReplyJson(*history), kJson);
       }},
  };
}
}  // namespace herald
