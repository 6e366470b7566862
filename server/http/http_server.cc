#include "server/http/http_server.h"

#include <httplib.h>

#include <atomic>
#include <thread>
#include <utility>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "herald/json_output.h"
#include "herald/v1/http.pb.h"
#include "prometheus/text_serializer.h"
#include "server/core/authorization_header.h"
#include "server/core/log.h"
#include "server/core/organisation.h"
#include "server/core/secret_token.h"
#include "webhooks/alertmanager_parser.h"

namespace herald {
namespace {

constexpr char kJson[] = "application/json";

void JsonError(httplib::Response& res, int status, absl::string_view reason,
               absl::string_view message) {
  v1::http::ErrorReply reply;
  reply.set_error(std::string(message));
  reply.set_reason(std::string(reason));
  res.status = status;
  res.set_content(ToReplyJson(reply), kJson);
}

int HttpStatusFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
      return 503;  // Alertmanager retries 5xx only
    default:
      return 500;
  }
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected HOST:PORT, got \"", host_port, "\""));
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  if (!absl::SimpleAtoi(host_port.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a port number 0-65535 in \"", host_port, "\""));
  }
  if (host.empty()) host = "0.0.0.0";
  return std::make_pair(host, port);
}

struct HttpServer::Impl {
  explicit Impl(HttpDeps d) : deps(std::move(d)) {}

  void Routes();
  void HandleAlertmanager(const httplib::Request& req, httplib::Response& res);
  void Serve(httplib::Response& res, absl::StatusOr<std::string> body,
             const char* type);

  HttpDeps deps;
  std::atomic<int> inflight{0};  // webhook requests being processed
  httplib::Server server;
  std::thread thread;
};

void HttpServer::Impl::Serve(httplib::Response& res,
                             absl::StatusOr<std::string> body,
                             const char* type) {
  if (!body.ok()) {
    LogError("http handler failed", {{"error", body.status().ToString()}});
    JsonError(res, HttpStatusFor(body.status()), "internal",
              body.status().message());
    return;
  }
  res.set_content(*std::move(body), type);
}

void HttpServer::Impl::HandleAlertmanager(const httplib::Request& req,
                                          httplib::Response& res) {
  const PresentedCredential cred =
      ParseAuthorizationHeader(req.get_header_value("Authorization"));
  // Both comparisons always run, so timing says nothing about which failed.
  const bool user_ok =
      cred.scheme != PresentedCredential::Scheme::kBasic ||
      deps.webhook_basic_username.empty() ||
      ConstantTimeEquals(Sha256Hex(cred.user),
                         Sha256Hex(deps.webhook_basic_username));
  const bool secret_ok =
      ConstantTimeEquals(Sha256Hex(cred.secret), deps.webhook_token_sha256);
  if (cred.scheme == PresentedCredential::Scheme::kNone || !user_ok ||
      !secret_ok) {
    deps.metrics.WebhooksRejected("unauthorized").Increment();
    res.set_header("WWW-Authenticate", "Bearer realm=\"herald\"");
    JsonError(res, 401, "unauthorized",
              cred.scheme == PresentedCredential::Scheme::kNone
                  ? "missing credentials: send \"Authorization: Bearer "
                    "<token>\" or HTTP basic auth"
                  : "invalid webhook credentials");
    return;
  }
  // Shed load before parsing: Alertmanager retries a 503 later.
  struct InflightSlot {
    explicit InflightSlot(std::atomic<int>& n) : n(n) { ++n; }
    ~InflightSlot() { --n; }
    std::atomic<int>& n;
  } slot(inflight);
  if (inflight.load() > deps.max_inflight_webhooks) {
    deps.metrics.WebhooksRejected("overloaded").Increment();
    res.set_header("Retry-After", "1");
    JsonError(res, 503, "overloaded",
              "herald is busy; retry (Alertmanager retries 5xx by itself)");
    return;
  }
  webhooks::ParsedWebhook parsed = webhooks::ParseAlertmanagerWebhook(
      req.get_header_value("Content-Type"), req.body);
  if (auto* rejection = std::get_if<webhooks::WebhookRejection>(&parsed)) {
    deps.metrics.WebhooksRejected(rejection->label()).Increment();
    LogWarn("alertmanager webhook rejected",
            {{"reason", std::string(rejection->label())},
             {"error", rejection->message}});
    JsonError(res, rejection->http_status(), rejection->label(),
              rejection->message);
    return;
  }
  const v1::AlertGroup& group = std::get<v1::AlertGroup>(parsed);
  absl::StatusOr<IntakeResult> result = deps.intake.Ingest(group);
  if (!result.ok()) {
    LogError("alert intake failed", {{"group_key", group.group_key()},
                                     {"error", result.status().ToString()}});
    // Alertmanager retries only 5xx: any failure of ours is a 503.
    const int status = HttpStatusFor(result.status());
    JsonError(res, status >= 500 ? 503 : status,
              status >= 500 ? "unavailable" : "rejected",
              result.status().message());
    return;
  }
  if (result->opened) {
    LogInfo("incident opened", {{"incident", IncidentRef(result->incident_id)},
                                {"group_key", group.group_key()}});
  }
  v1::http::WebhookAccepted reply;
  reply.set_status("accepted");
  if (result->incident_id != 0) {
    reply.set_incident(IncidentRef(result->incident_id));
  }
  reply.set_opened(result->opened);
  reply.set_reopened(result->reopened);
  reply.set_attached(result->attached);
  reply.set_changed(result->changed);
  res.status = 200;
  res.set_content(ToReplyJson(reply), kJson);
}

void HttpServer::Impl::Routes() {
  server.set_payload_max_length(deps.max_request_bytes);
  // Responses go out as several writes; without TCP_NODELAY, Nagle's
  // algorithm meets the client's delayed ACK and every reply waits ~40 ms.
  server.set_tcp_nodelay(true);
  // Alertmanager keeps connections open; httplib's default closes one after
  // 5 requests, which costs a TCP handshake per 5 notifications.
  server.set_keep_alive_max_count(10000);
  // Enough workers that the in-flight limit, not the pool, decides when to
  // shed load, with room left for probes and the status page.
  const int workers = deps.max_inflight_webhooks + 8;
  server.new_task_queue = [workers] {
    return new httplib::ThreadPool(workers);
  };
  server.set_error_handler([this](const httplib::Request& req,
                                  httplib::Response& res) {
    if (res.status == 413) {
      if (req.path == "/webhooks/alertmanager") {
        deps.metrics.WebhooksRejected("too_large").Increment();
      }
      JsonError(res, 413, "too_large",
                absl::StrCat("request body exceeds the limit of ",
                             deps.max_request_bytes, " bytes"));
    } else if (res.body.empty()) {
      JsonError(res, res.status, "http_error",
                absl::StrCat(req.method, " ", req.path, ": HTTP ", res.status));
    }
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        JsonError(res, 500, "internal", "internal error");
      });

  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Get("/readyz",
             [this](const httplib::Request&, httplib::Response& res) {
               const bool ready = !deps.ready || deps.ready();
               res.status = ready ? 200 : 503;
               res.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
             });
  server.Get(
      "/metrics", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(
            prometheus::TextSerializer().Serialize(deps.registry.Collect()),
            "text/plain; version=0.0.4; charset=utf-8");
      });
  server.Post("/webhooks/alertmanager",
              [this](const httplib::Request& req, httplib::Response& res) {
                HandleAlertmanager(req, res);
              });

  server.Get("/", [this](const httplib::Request&, httplib::Response& res) {
    Serve(res, deps.status_page.RenderHtml(), "text/html; charset=utf-8");
  });
  auto summary_json = [this](auto project) {
    return [this, project](const httplib::Request&, httplib::Response& res) {
      absl::StatusOr<v1::statuspage::Summary> summary =
          deps.status_page.Summary();
      if (!summary.ok()) return Serve(res, summary.status(), kJson);
      v1::statuspage::Summary out = project(*std::move(summary));
      Serve(res, ToReplyJson(out), kJson);
    };
  };
  server.Get("/api/v2/summary.json",
             summary_json([](v1::statuspage::Summary s) { return s; }));
  server.Get("/api/v2/status.json", summary_json([](v1::statuspage::Summary s) {
               s.clear_components();
               s.clear_incidents();
               s.clear_scheduled_maintenances();
               return s;
             }));
  server.Get("/api/v2/components.json",
             summary_json([](v1::statuspage::Summary s) {
               s.clear_incidents();
               s.clear_scheduled_maintenances();
               s.clear_status();
               return s;
             }));
  server.Get("/api/v2/incidents/unresolved.json",
             summary_json([](v1::statuspage::Summary s) {
               s.clear_components();
               s.clear_scheduled_maintenances();
               s.clear_status();
               return s;
             }));
  server.Get("/api/v2/incidents.json",
             [this](const httplib::Request&, httplib::Response& res) {
               absl::StatusOr<v1::statuspage::Summary> history =
                   deps.status_page.History(50);
               if (!history.ok()) return Serve(res, history.status(), kJson);
               history->clear_components();
               history->clear_scheduled_maintenances();
               history->clear_status();
               Serve(res, ToReplyJson(*history), kJson);
             });
}

HttpServer::HttpServer(HttpDeps deps)
    : impl_(std::make_unique<Impl>(std::move(deps))) {
  impl_->Routes();
}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<int> HttpServer::Bind(const std::string& host_port) {
  absl::StatusOr<std::pair<std::string, int>> addr = SplitHostPort(host_port);
  if (!addr.ok()) return addr.status();
  const auto& [host, port] = *addr;
  if (port == 0) {
    const int bound = impl_->server.bind_to_any_port(host);
    if (bound <= 0)
      return absl::UnavailableError(
          absl::StrCat("cannot bind HTTP to ", host_port));
    return bound;
  }
  if (!impl_->server.bind_to_port(host, port)) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind HTTP to ", host_port,
                     " (in use, or not a local address?)"));
  }
  return port;
}

void HttpServer::Start() {
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
}

void HttpServer::Stop() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace herald
