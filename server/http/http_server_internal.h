// Private to herald_http: HttpServer's implementation, shared by its
// files: http_server.cc (bind, start, stop), http_session.cc (connections,
// TLS, event streams), http_routes.cc (the routes) and
// alertmanager_route.cc (the webhook). Thread-safety as HttpServer says.
#ifndef HERALD_SERVER_HTTP_HTTP_SERVER_INTERNAL_H_
#define HERALD_SERVER_HTTP_HTTP_SERVER_INTERNAL_H_

#include <pthread.h>

#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "herald/json_output.h"
#include "herald/v1/http.pb.h"
#include "prometheus/text_serializer.h"
#include "server/base/authorization_header.h"
#include "server/base/log.h"
#include "server/base/secret_token.h"
#include "server/base/text.h"
#include "server/core/org/organisation.h"
#include "server/http/http_message.h"
#include "server/http/http_server.h"
#include "server/http/public_document.h"
#include "server/http/self_service_routes.h"
#include "server/statuspage/public_site.h"
#include "webhooks/alertmanager_parser.h"

namespace herald {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr char kJson[] = "application/json";
constexpr char kWebhookPath[] = "/webhooks/alertmanager";
// An idle keep-alive connection, or a client that stops mid-request, is
// dropped after this long.
constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr size_t kMaxHeaderBytes = 16 * 1024;
// Taken from the client when usable (AcceptRequestId), echoed on the reply.
constexpr char kRequestIdHeader[] = "X-Request-Id";

// How often an idle event stream sends a comment, which finds clients that
// went away and ends streams whose session has. A stream whose write made
// no progress from one heartbeat to the next is ended.
constexpr auto kEventStreamHeartbeat = std::chrono::seconds(20);

// When accept fails (out of file descriptors, typically), accepting pauses
// this long, doubling up to the cap, instead of retrying at once: the
// pending connection keeps the listener readable, so an immediate retry
// spins. One log line per interval at most says how many failed.
constexpr auto kAcceptBackoffFirst = std::chrono::milliseconds(10);
constexpr auto kAcceptBackoffCap = std::chrono::seconds(1);
constexpr absl::Duration kAcceptLogInterval = absl::Seconds(10);
// Connections over the limit being answered 503 at once; more are closed
// unanswered. Each is brief: write, then read until the client closes.
constexpr int kMaxRefusing = 64;
constexpr auto kRefusalTimeout = std::chrono::seconds(2);

// Every reply carries these unless its route set its own: no sniffing, no
// framing, no script. Pages that need more (the console's) say so.
inline void ApplySecurityDefaults(HttpReply& reply) {
  bool csp = false, nosniff = false;
  for (const auto& [name, value] : reply.headers) {
    csp = csp || absl::EqualsIgnoreCase(name, "Content-Security-Policy");
    nosniff = nosniff || absl::EqualsIgnoreCase(name, "X-Content-Type-Options");
  }
  if (!csp) reply.headers.emplace_back("Content-Security-Policy", kNoScriptCsp);
  if (!nosniff) reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
}

// What a page in the reader's language varies with, besides its encoding.
inline constexpr char kVaryLanguage[] = "Accept-Language";

// Adds a public document's headers to `reply`: `data` (the feed, the JSON)
// may be read by scripts on other sites.
inline void PublicHeaders(bool data, HttpReply& reply) {
  reply.headers.emplace_back("Content-Security-Policy", kNoScriptCsp);
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.headers.emplace_back("Referrer-Policy",
                             "strict-origin-when-cross-origin");
  if (data) {
    reply.headers.emplace_back("Access-Control-Allow-Origin", "*");
  }
}

inline HttpReply Text(std::string body, const char* type = "text/plain") {
  return HttpReply{200, type, std::move(body), {}};
}

inline HttpReply JsonError(int status, absl::string_view reason,
                           absl::string_view message) {
  v1::http::ErrorReply reply;
  reply.set_error(std::string(message));
  reply.set_reason(std::string(reason));
  return HttpReply{status, kJson, ToReplyJson(reply), {}};
}

inline int HttpStatusFor(const absl::Status& s) {
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

inline HttpReply Serve(absl::StatusOr<std::string> body, const char* type) {
  if (!body.ok()) {
    LogError("http handler failed", {{"error", body.status().ToString()}});
    return JsonError(HttpStatusFor(body.status()), "internal",
                     body.status().message());
  }
  return Text(*std::move(body), type);
}

template <typename Field>  // http::field, or a name
inline std::string Header(const http::request<http::string_body>& req,
                          Field field) {
  const auto v = req[field];
  return std::string(v.data(), v.size());
}

// "HOST:PORT" (HOST may be [v6]) as host and port; InvalidArgument otherwise.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    const std::string& host_port);

// Routes and handlers. Webhooks are parsed on the I/O thread and committed
// through AlertIntake::IngestAsync, so a few I/O threads keep any number of
// webhooks in flight and the store's writer commits them together. Handlers
// that read the store (the status page, its JSON) run on a small blocking
// pool instead, so that they never hold up the I/O threads.
struct HttpServer::Impl {
  template <typename Stream>
  class Session;
  using Request = http::request<http::string_body>;
  using Respond = absl::AnyInvocable<void(HttpReply)>;
  using Handler = std::function<HttpReply()>;

  // One route of the router: which requests it takes, the methods it
  // accepts (others get 405), and how it answers.
  struct Route {
    std::function<bool(const HttpRequest&)> matches;
    bool takes_post = false;  // GET and HEAD always; POST too when set
    std::function<HttpReply(const HttpRequest&)> serve;
    bool blocking = true;  // may read the store: runs on the blocking pool
    // Tried first, on the I/O thread, for a route that blocks: the reply
    // when it needs no blocking work (a public document kept in memory).
    std::function<std::optional<HttpReply>(const HttpRequest&)> quick;
  };

  explicit Impl(HttpDeps d)
      : deps(std::move(d)),
        public_site(deps.status_page),
        public_state(deps.status_page, deps.public_changes,
                     deps.public_refresh),
        public_cache(deps.public_changes == nullptr || deps.clock == nullptr
                         ? nullptr
                         : std::make_unique<PublicDocumentCache>(
                               *deps.clock, *deps.public_changes,
                               deps.public_refresh, deps.public_caching)),
        routes(BuildRoutes()),
        work(asio::make_work_guard(io)) {}

  // Calls `respond` exactly once, possibly from another thread. `io` is
  // the connection's executor, where work that follows a commit belongs.
  // The thread's ScopedRequestId names the request; handlers that run
  // elsewhere carry it along.
  // `peer` is the client's address, for per-client limits.
  void Dispatch(const Request& req, const asio::any_io_executor& io,
                const std::string& peer, Respond respond);
  void HandleAlertmanager(const Request& req, const asio::any_io_executor& io,
                          Respond respond);
  // The reply to a webhook once its commit has succeeded or failed.
  HttpReply WebhookReply(const absl::StatusOr<IntakeResult>& result,
                         const std::string& group_key);
  // Every route but the webhook's, first match first; built once, from
  // `deps` (a console must be in them before the server is built).
  std::vector<Route> BuildRoutes();
  // Health and metrics, by exact path.
  std::vector<std::pair<std::string, Handler>> Documents();
  // The public site's document at `request.path`, as rendered now: a page
  // without a language prefix in the language PublicKeysFor picks.
  HttpReply RenderPublic(const HttpRequest& request);
  // Where the public document cache keeps what `request` gets: the
  // document, and the not-found page in its language. `language` is the
  // one the request's Accept-Language picks for a page without a prefix,
  // else "".
  struct PublicKeys {
    std::string language;
    std::string document;
    std::string not_found;
  };
  PublicKeys PublicKeysFor(const HttpRequest& request) const;
  // Runs `handler` on the blocking pool: it may read or write the store.
  void RunBlocking(Handler handler, Respond respond);
  void Accept();
  // After a failed accept: accepts again after a growing pause, logging at
  // a limited rate. On accept_strand.
  void AcceptLater(const beast::error_code& ec);
  // Builds `tls` from the deps' certificate, if any.
  absl::Status SetUpTls();

  HttpDeps deps;
  const PublicSite public_site;
  PublicStateCache public_state;
  // Null: public documents are rendered for every request.
  const std::unique_ptr<PublicDocumentCache> public_cache;
  // Read-only once built, so read without a lock; `blocking`, declared
  // below, is joined before it goes.
  const std::vector<Route> routes;
  // Claims an in-flight webhook slot; false when all are taken.
  bool TryAcquireSlot() {
    absl::MutexLock lock(&inflight_mu);
    if (inflight >= deps.max_inflight_webhooks) return false;
    ++inflight;
    return true;
  }
  void ReleaseSlot() {
    absl::MutexLock lock(&inflight_mu);
    --inflight;
  }

  // An admitted connection's hold on one of max_connections; a refused
  // one's on one of kMaxRefusing. Released when the connection's session is
  // destroyed.
  class ConnectionSlot {
   public:
    ConnectionSlot(Impl& server, bool refusing)
        : server_(server), refusing_(refusing) {}
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;
    bool refusing() const { return refusing_; }
    ~ConnectionSlot() {
      (refusing_ ? server_.refusing : server_.connections).fetch_sub(1);
      server_.deps.metrics.http_connections.Decrement();
    }

   private:
    Impl& server_;
    const bool refusing_;
  };

  // One granted event stream's hold on its session's and person's quota.
  class StreamSlot {
   public:
    StreamSlot(Impl& server, std::string secret, std::string person)
        : server_(server),
          secret_(std::move(secret)),
          person_(std::move(person)) {}
    StreamSlot(const StreamSlot&) = delete;
    StreamSlot& operator=(const StreamSlot&) = delete;
    ~StreamSlot() {
      absl::MutexLock lock(&server_.streams_mu);
      if (--server_.streams_by_session[secret_] == 0) {
        server_.streams_by_session.erase(secret_);
      }
      if (--server_.streams_by_person[person_] == 0) {
        server_.streams_by_person.erase(person_);
      }
    }

   private:
    Impl& server_;
    const std::string secret_;
    const std::string person_;
  };

  // A slot for `grant`'s stream, or the 429 refusing it.
  std::variant<std::unique_ptr<StreamSlot>, HttpReply> TryAcquireStream(
      const ConsoleEventStream& grant) {
    absl::MutexLock lock(&streams_mu);
    int& by_session = streams_by_session[grant.secret];
    int& by_person = streams_by_person[grant.caller.person_id];
    const bool session_full = by_session >= deps.max_event_streams_per_session;
    if (session_full || by_person >= deps.max_event_streams_per_person) {
      if (by_session == 0) streams_by_session.erase(grant.secret);
      if (by_person == 0) streams_by_person.erase(grant.caller.person_id);
      deps.metrics.HttpRefused("event_stream_limit").Increment();
      HttpReply reply = JsonError(
          429, "too_many_streams",
          session_full
              ? absl::StrCat("this console session already has ",
                             deps.max_event_streams_per_session,
                             " live-update streams open; close a console "
                             "tab and reload")
              : absl::StrCat(grant.caller.person_id, " already has ",
                             deps.max_event_streams_per_person,
                             " live-update streams open across their "
                             "sessions; close a console tab and reload"));
      reply.headers.emplace_back("Retry-After", "30");
      return reply;
    }
    ++by_session;
    ++by_person;
    return std::make_unique<StreamSlot>(*this, grant.secret,
                                        grant.caller.person_id);
  }

  // Event streams' subscriptions, so that Stop can end them before the
  // I/O threads go: a wake-up must never post to a stopped server.
  // False once Stop has begun: the stream must end at once.
  bool AddStream(std::shared_ptr<EventHub::Subscription> s) {
    absl::MutexLock lock(&streams_mu);
    if (streams_closed) return false;
    streams.push_back(std::move(s));
    return true;
  }
  // Unsubscribes `s`; after it returns no wake-up of `s` runs.
  void EndStream(const std::shared_ptr<EventHub::Subscription>& s) {
    deps.console->events->Unsubscribe(s);
    absl::MutexLock lock(&streams_mu);
    streams.erase(std::remove(streams.begin(), streams.end(), s),
                  streams.end());
  }

  absl::Mutex inflight_mu;
  int inflight ABSL_GUARDED_BY(inflight_mu) = 0;  // webhooks not yet answered
  absl::Mutex streams_mu;
  std::vector<std::shared_ptr<EventHub::Subscription>> streams
      ABSL_GUARDED_BY(streams_mu);
  bool streams_closed ABSL_GUARDED_BY(streams_mu) = false;
  // Open event streams by session secret and by person.
  std::map<std::string, int> streams_by_session ABSL_GUARDED_BY(streams_mu);
  std::map<std::string, int> streams_by_person ABSL_GUARDED_BY(streams_mu);
  // Sessions alive: admitted and being refused. Declared before `io`, whose
  // destruction may destroy the last sessions.
  std::atomic<int> connections{0};
  std::atomic<int> refusing{0};
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  asio::thread_pool blocking{2};
  std::optional<asio::ssl::context> tls;  // set: HTTPS only
  tcp::acceptor acceptor{io};
  // The accept loop, its back-off and Stop's closing of the acceptor run
  // here, one at a time.
  asio::strand<asio::io_context::executor_type> accept_strand{
      io.get_executor()};
  asio::steady_timer accept_timer{accept_strand};
  std::chrono::milliseconds accept_backoff{0};  // 0: the last accept worked
  absl::Time accept_logged = absl::InfinitePast();
  int64_t accept_failures_unlogged = 0;
  std::vector<std::thread> threads;
  bool stopped = false;
};

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_HTTP_SERVER_INTERNAL_H_
