#include "server/http/http_server_internal.h"

namespace herald {

void HttpServer::Impl::HandleAlertmanager(const Request& req,
                                          const asio::any_io_executor& io,
                                          Respond respond) {
  const PresentedCredential cred =
      ParseAuthorizationHeader(Header(req, http::field::authorization));
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
    HttpReply reply = JsonError(
        401, "unauthorized",
        cred.scheme == PresentedCredential::Scheme::kNone
            ? "missing credentials: send \"Authorization: Bearer <token>\" or "
              "HTTP basic auth"
            : "invalid webhook credentials");
    reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"herald\"");
    return respond(std::move(reply));
  }
  // Shed load before parsing: Alertmanager retries a 503 later.
  if (!TryAcquireSlot()) {
    deps.metrics.WebhooksRejected("overloaded").Increment();
    HttpReply reply =
        JsonError(503, "overloaded",
                  "herald is busy; retry (Alertmanager retries 5xx by itself)");
    reply.headers.emplace_back("Retry-After", "1");
    return respond(std::move(reply));
  }
  webhooks::ParsedWebhook parsed = webhooks::ParseAlertmanagerWebhook(
      Header(req, http::field::content_type), req.body());
  if (auto* rejection = std::get_if<webhooks::WebhookRejection>(&parsed)) {
    ReleaseSlot();
    deps.metrics.WebhooksRejected(rejection->label()).Increment();
    LogWarn("alertmanager webhook rejected",
            {{"reason", std::string(rejection->label())},
             {"error", rejection->message}});
    return respond(JsonError(rejection->http_status(), rejection->label(),
                             rejection->message));
  }
  v1::AlertGroup& group = std::get<v1::AlertGroup>(parsed);
  // For log lines only: a group key may be up to the body's size.
  std::string group_key = TruncateUtf8(group.group_key(), 256);
  // The callback runs on the store's writer thread, which every webhook
  // waits on: it only hands the outcome back to this connection's thread.
  deps.intake.IngestAsync(
      std::move(group),
      [this, io, group_key = std::move(group_key), respond = std::move(respond),
       request_id =
           CurrentRequestId()](absl::StatusOr<IntakeResult> result) mutable {
        asio::post(
            io, [this, result = std::move(result),
                 group_key = std::move(group_key), respond = std::move(respond),
                 request_id = std::move(request_id)]() mutable {
              const ScopedRequestId scope(std::move(request_id));
              respond(WebhookReply(result, group_key));
              ReleaseSlot();  // last: Stop() waits for every slot to come back
            });
      });
}

HttpReply HttpServer::Impl::WebhookReply(
    const absl::StatusOr<IntakeResult>& result, const std::string& group_key) {
  if (!result.ok()) {
    LogError("alert intake failed",
             {{"group_key", group_key}, {"error", result.status().ToString()}});
    // Alertmanager retries only 5xx: any failure of ours is a 503.
    const int status = HttpStatusFor(result.status());
    return JsonError(status >= 500 ? 503 : status,
                     status >= 500 ? "unavailable" : "rejected",
                     result.status().message());
  }
  if (result->opened) {
    LogInfo("incident opened", {{"incident", IncidentRef(result->incident_id)},
                                {"group_key", group_key}});
  }
  v1::http::WebhookAccepted accepted;
  accepted.set_status("accepted");
  if (result->incident_id != 0) {
    accepted.set_incident(IncidentRef(result->incident_id));
  }
  accepted.set_opened(result->opened);
  accepted.set_reopened(result->reopened);
  accepted.set_attached(result->attached);
  accepted.set_changed(result->changed);
  return HttpReply{200, kJson, ToReplyJson(accepted), {}};
}

}  // namespace herald
