// HttpServer is heraldd's HTTP edge: the Alertmanager webhook, the public
// status page and its Statuspage-v2 JSON and Atom feed, self-service
// subscription (self_service_routes.h), the comms console
// (console_routes.h), /metrics, /healthz and /readyz.
// Handlers are thin: they authenticate, parse, call core/ and map the result
// to a status code. Bodies over the size limit get 413 before any handler
// runs. With a certificate in HttpDeps it speaks HTTPS only (TLS 1.2 and
// up). Resources are bounded per client: connections (max_connections),
// event streams per session and per person, and the bytes each stream
// buffers; out of file descriptors, accepting pauses instead of spinning.
// Every answer carries security headers (a Content-Security-Policy and
// nosniff) unless its route set its own. Built on Boost.Beast: a few I/O
// threads serve every connection, and a webhook waits for its commit
// without holding a thread, so one commit carries the webhooks of many
// connections. Thread-safe.
#ifndef HERALD_SERVER_HTTP_HTTP_SERVER_H_
#define HERALD_SERVER_HTTP_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"
#include "server/core/aftercare/follow_ups.h"
#include "server/core/incidents/alert_intake.h"
#include "server/core/subscribers/subscription_portal.h"
#include "server/http/console_routes.h"
#include "server/http/http_metrics.h"
#include "server/http/public_document.h"
#include "server/statuspage/status_page.h"

namespace herald {

struct HttpDeps {
  AlertIntake& intake;
  const StatusPage& status_page;
  const prometheus::Registry& registry;
  HttpMetrics& metrics;
  // SHA-256 (hex) of the bearer token Alertmanager must send.
  std::string webhook_token_sha256;
  // With HTTP basic auth, the user name required (empty: any).
  std::string webhook_basic_username;
  size_t max_request_bytes = 1 << 20;
  // Webhook requests processed at once; more are answered 503.
  int max_inflight_webhooks = 64;
  // Whether the server is ready for traffic (store open, migrations done).
  std::function<bool()> ready;
  // Threads serving connections. Webhooks wait for their commit without
  // holding one, so a few serve any number of connections.
  int io_threads = 2;
  // Serves /subscribe, /subscribe/confirm and /unsubscribe; null: 404.
  SubscriptionPortal* portal = nullptr;
  // Serves /follow-up (customers' answers); null: 404.
  const FollowUps* follow_ups = nullptr;
  // HTTPS with this certificate chain and private key (PEM); both empty:
  // plain HTTP.
  std::string tls_cert_chain_pem;
  std::string tls_private_key_pem;
  // How browsers and CDNs may keep the public documents.
  PublicCaching public_caching;
  // Set: each public document is rendered once per change it counts (and
  // at least every public_refresh) and served from memory
  // (PublicDocumentCache). Null: rendered for every request.
  const EventHub* public_changes = nullptr;
  const Clock* clock = nullptr;  // with public_changes
  absl::Duration public_refresh = absl::Seconds(1);
  // Serves the comms console under /console (console_routes.h); null: 404.
  // Read when the server is built: its routes are fixed then.
  const ConsoleDeps* console = nullptr;
  // Connections open at once (server.max_connections). Beyond, a new
  // connection gets a short 503 with Retry-After and is closed.
  int max_connections = 1024;
  // /console/events streams one console session, and one person, may hold
  // open at once; more get 429.
  int max_event_streams_per_session = 8;
  int max_event_streams_per_person = 16;
  // Bytes of events an event stream holds for a client that does not read.
  // Beyond, newer events are dropped and, once the client reads again, it
  // is told how many ("lagged"); a stream whose writes make no progress
  // between two heartbeats is ended.
  size_t event_stream_buffer_bytes = 256 * 1024;
};

// The paths every public site has (PublicSite::FixedPaths): the status
// page, the history, the Atom feed and the Statuspage-v2 JSON; incident
// pages and further history pages come and go with the state. Each public
// document answers with the same security headers (a
// Content-Security-Policy that allows no script and no framing, nosniff),
// and the feed and the JSON with `Access-Control-Allow-Origin: *`.
const std::vector<std::string>& PublicDocumentPaths();

class HttpServer {
 public:
  explicit HttpServer(HttpDeps deps);
  ~HttpServer();  // stops

  // Binds `host:port`; port 0 picks a free port. Returns the bound port, or
  // InvalidArgument for a malformed address or TLS material OpenSSL refuses,
  // and Unavailable when binding fails.
  absl::StatusOr<int> Bind(const std::string& host_port);
  // Serves on a background thread until Stop().
  void Start();
  // Stops accepting, lets in-flight requests finish, joins. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits "host:port" ("[::1]:80" too). InvalidArgument names what is wrong.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    const std::string& host_port);

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_HTTP_SERVER_H_
