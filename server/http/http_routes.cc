#include "server/http/http_server_internal.h"

namespace herald {

void HttpServer::Impl::Dispatch(const Request& req,
                                const asio::any_io_executor& io,
                                const std::string& peer, Respond respond) {
  const absl::string_view target(req.target().data(), req.target().size());
  const absl::string_view path = target.substr(0, target.find('?'));
  const bool get =
      req.method() == http::verb::get || req.method() == http::verb::head;
  if (path == kWebhookPath) {
    if (req.method() != http::verb::post) {
      return respond(JsonError(405, "method_not_allowed",
                               absl::StrCat(std::string(req.method_string()),
                                            " ", path, ": use POST")));
    }
    return HandleAlertmanager(req, io, std::move(respond));
  }
  if (IsSelfServicePath(path)) {
    const bool post = req.method() == http::verb::post;
    if (!get && !post) {
      return respond(JsonError(405, "method_not_allowed",
                               absl::StrCat(std::string(req.method_string()),
                                            " ", path, ": use GET or POST")));
    }
    const size_t q = target.find('?');
    FormRequest form{
        post,
        std::string(q == absl::string_view::npos ? absl::string_view()
                                                 : target.substr(q + 1)),
        Header(req, http::field::content_type), req.body(), peer};
    return RunBlocking(
        [this, path = std::string(path), form = std::move(form)] {
          PageReply page = ServeSelfService(
              {deps.status_page, deps.portal, deps.follow_ups}, path, form);
          return Reply{page.status, std::move(page.content_type),
                       std::move(page.body), std::move(page.headers)};
        },
        std::move(respond));
  }
  if (path == kConsoleEventsPath && deps.console != nullptr &&
      deps.console->events != nullptr && req.method() == http::verb::get) {
    const size_t q = target.find('?');
    ConsoleRequest console{FormRequest{false,
                                       std::string(q == absl::string_view::npos
                                                       ? absl::string_view()
                                                       : target.substr(q + 1)),
                                       "", ""},
                           Header(req, http::field::host),
                           Header(req, http::field::origin),
                           Header(req, http::field::cookie), ""};
    auto opened = OpenConsoleEvents(*deps.console, console);
    if (auto* refused = std::get_if<PageReply>(&opened)) {
      return respond(Reply{refused->status, std::move(refused->content_type),
                           std::move(refused->body),
                           std::move(refused->headers)});
    }
    Reply stream;
    stream.events = std::get<ConsoleEventStream>(std::move(opened));
    return respond(std::move(stream));
  }
  if (IsConsolePath(path) && deps.console != nullptr) {
    if (!get && req.method() != http::verb::post) {
      return respond(JsonError(405, "method_not_allowed",
                               absl::StrCat(std::string(req.method_string()),
                                            " ", path, ": use GET or POST")));
    }
    const size_t q = target.find('?');
    ConsoleRequest console{
        FormRequest{
            req.method() == http::verb::post,
            std::string(q == absl::string_view::npos ? absl::string_view()
                                                     : target.substr(q + 1)),
            Header(req, http::field::content_type), req.body()},
        Header(req, http::field::host), Header(req, http::field::origin),
        Header(req, http::field::cookie), Header(req, "X-CSRF-Token")};
    return RunBlocking(
        [this, path = std::string(path), console = std::move(console)] {
          PageReply page = ServeConsole(*deps.console, path, console);
          return Reply{page.status, std::move(page.content_type),
                       std::move(page.body), std::move(page.headers)};
        },
        std::move(respond));
  }
  std::optional<Handler> route = GetRoute(path);
  for (const auto& [public_path, kind] : PublicDocuments()) {
    if (route && path == public_path) {
      route = [handler = *std::move(route), kind = kind] {
        Reply reply = handler();
        PublicHeaders(kind, reply);
        return reply;
      };
    }
  }
  if (!route) {
    return respond(JsonError(404, "not_found",
                             absl::StrCat(std::string(req.method_string()), " ",
                                          path, ": no such page")));
  }
  if (!get) {
    return respond(JsonError(405, "method_not_allowed",
                             absl::StrCat(std::string(req.method_string()), " ",
                                          path, ": use GET")));
  }
  RunBlocking(*std::move(route), std::move(respond));
}

void HttpServer::Impl::RunBlocking(Handler handler, Respond respond) {
  asio::post(blocking,
             [handler = std::move(handler), respond = std::move(respond),
              request_id = CurrentRequestId()]() mutable {
               const ScopedRequestId scope(std::move(request_id));
               Reply reply;
               try {
                 reply = handler();
               } catch (const std::exception& e) {
                 LogError("http handler threw", {{"error", e.what()}});
                 reply = JsonError(500, "internal", "internal error");
               }
               respond(std::move(reply));
             });
}

std::optional<HttpServer::Impl::Handler> HttpServer::Impl::GetRoute(
    absl::string_view path) {
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
  if (path == "/healthz") return [] { return Text("ok\n"); };
  if (path == "/readyz") {
    return [this] {
      const bool ready = !deps.ready || deps.ready();
      Reply r = Text(ready ? "ready\n" : "not ready\n");
      r.status = ready ? 200 : 503;
      return r;
    };
  }
  if (path == "/metrics") {
    return [this] {
      return Text(
          prometheus::TextSerializer().Serialize(deps.registry.Collect()),
          "text/plain; version=0.0.4; charset=utf-8");
    };
  }
  if (path == "/") {
    return [&page] {
      return Serve(page.RenderHtml(), "text/html; charset=utf-8");
    };
  }
  if (path == "/history.atom") {
    return [&page] {
      return Serve(page.RenderAtom(), "application/atom+xml; charset=utf-8");
    };
  }
  if (path == "/api/v2/summary.json") {
    return summary([](v1::statuspage::Summary&) {});
  }
  if (path == "/api/v2/status.json") {
    return summary([](v1::statuspage::Summary& s) {
      s.clear_components();
      s.clear_incidents();
      s.clear_scheduled_maintenances();
    });
  }
  if (path == "/api/v2/components.json") {
    return summary([](v1::statuspage::Summary& s) {
      s.clear_incidents();
      s.clear_scheduled_maintenances();
      s.clear_status();
    });
  }
  if (path == "/api/v2/incidents/unresolved.json") {
    return summary([](v1::statuspage::Summary& s) {
      s.clear_components();
      s.clear_scheduled_maintenances();
      s.clear_status();
    });
  }
  if (path == "/api/v2/incidents.json") {
    return [&page] {
      absl::StatusOr<v1::statuspage::Summary> history = page.History(50);
      if (!history.ok()) return Serve(history.status(), kJson);
      history->clear_components();
      history->clear_scheduled_maintenances();
      history->clear_status();
      return Serve(ToReplyJson(*history), kJson);
    };
  }
  return std::nullopt;
}

}  // namespace herald
