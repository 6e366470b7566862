#include "server/http/http_server.h"

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
#include "server/http/self_service_routes.h"
#include "webhooks/alertmanager_parser.h"

namespace herald {
namespace {

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

struct Reply {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set: instead of a body, the connection becomes this event stream.
  std::optional<ConsoleEventStream> events;
};

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
void ApplySecurityDefaults(Reply& reply) {
  bool csp = false, nosniff = false;
  for (const auto& [name, value] : reply.headers) {
    csp = csp || absl::EqualsIgnoreCase(name, "Content-Security-Policy");
    nosniff = nosniff || absl::EqualsIgnoreCase(name, "X-Content-Type-Options");
  }
  if (!csp) reply.headers.emplace_back("Content-Security-Policy", kNoScriptCsp);
  if (!nosniff) reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
}

// What a public document is: a page for people, or data other sites may
// fetch (the feed, the JSON).
enum class PublicKind { kPage, kData };

// The public documents, each with its kind. GetRoute serves exactly these
// as public; PublicHeaders gives each its headers.
const std::vector<std::pair<std::string, PublicKind>>& PublicDocuments() {
  static const auto* const documents =
      new std::vector<std::pair<std::string, PublicKind>>{
          {"/", PublicKind::kPage},
          {"/history.atom", PublicKind::kData},
          {"/api/v2/summary.json", PublicKind::kData},
          {"/api/v2/status.json", PublicKind::kData},
          {"/api/v2/components.json", PublicKind::kData},
          {"/api/v2/incidents/unresolved.json", PublicKind::kData},
          {"/api/v2/incidents.json", PublicKind::kData},
      };
  return *documents;
}

// Adds a public document's headers to `reply`.
void PublicHeaders(PublicKind kind, Reply& reply) {
  reply.headers.emplace_back("Content-Security-Policy", kNoScriptCsp);
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.headers.emplace_back("Referrer-Policy",
                             "strict-origin-when-cross-origin");
  if (kind == PublicKind::kData) {
    reply.headers.emplace_back("Access-Control-Allow-Origin", "*");
  }
}

Reply Text(std::string body, const char* type = "text/plain") {
  return Reply{200, type, std::move(body), {}};
}

Reply JsonError(int status, absl::string_view reason,
                absl::string_view message) {
  v1::http::ErrorReply reply;
  reply.set_error(std::string(message));
  reply.set_reason(std::string(reason));
  return Reply{status, kJson, ToReplyJson(reply), {}};
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

Reply Serve(absl::StatusOr<std::string> body, const char* type) {
  if (!body.ok()) {
    LogError("http handler failed", {{"error", body.status().ToString()}});
    return JsonError(HttpStatusFor(body.status()), "internal",
                     body.status().message());
  }
  return Text(*std::move(body), type);
}

template <typename Field>  // http::field, or a name
std::string Header(const http::request<http::string_body>& req, Field field) {
  const auto v = req[field];
  return std::string(v.data(), v.size());
}

}  // namespace

const std::vector<std::string>& PublicDocumentPaths() {
  static const auto* const paths = [] {
    auto* out = new std::vector<std::string>;
    for (const auto& [path, kind] : PublicDocuments()) out->push_back(path);
    return out;
  }();
  return *paths;
}

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

// Routes and handlers. Webhooks are parsed on the I/O thread and committed
// through AlertIntake::IngestAsync, so a few I/O threads keep any number of
// webhooks in flight and the store's writer commits them together. Handlers
// that read the store (the status page, its JSON) run on a small blocking
// pool instead, so that they never hold up the I/O threads.
struct HttpServer::Impl {
  template <typename Stream>
  class Session;
  using Request = http::request<http::string_body>;
  using Respond = absl::AnyInvocable<void(Reply)>;
  using Handler = std::function<Reply()>;

  explicit Impl(HttpDeps d)
      : deps(std::move(d)), work(asio::make_work_guard(io)) {}

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
  Reply WebhookReply(const absl::StatusOr<IntakeResult>& result,
                     const std::string& group_key);
  std::optional<Handler> GetRoute(absl::string_view path);
  // Runs `handler` on the blocking pool: it may read or write the store.
  void RunBlocking(Handler handler, Respond respond);
  void Accept();
  // After a failed accept: accepts again after a growing pause, logging at
  // a limited rate. On accept_strand.
  void AcceptLater(const beast::error_code& ec);
  // Builds `tls` from the deps' certificate, if any.
  absl::Status SetUpTls();

  HttpDeps deps;
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
  std::variant<std::unique_ptr<StreamSlot>, Reply> TryAcquireStream(
      const ConsoleEventStream& grant) {
    absl::MutexLock lock(&streams_mu);
    int& by_session = streams_by_session[grant.secret];
    int& by_person = streams_by_person[grant.caller.person_id];
    const bool session_full = by_session >= deps.max_event_streams_per_session;
    if (session_full || by_person >= deps.max_event_streams_per_person) {
      if (by_session == 0) streams_by_session.erase(grant.secret);
      if (by_person == 0) streams_by_person.erase(grant.caller.person_id);
      deps.metrics.HttpRefused("event_stream_limit").Increment();
      Reply reply = JsonError(
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

// One connection: (for HTTPS, completes the TLS handshake,) reads a
// request, answers it, repeats while keep-alive. Only one operation of a
// session is outstanding at a time, so its members need no lock even with
// several I/O threads. `Stream` is PlainStream or TlsStream.
template <typename Stream>
class HttpServer::Impl::Session
    : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // `slot`: the connection's; a refusing one makes this session answer 503
  // and close. `tls...`: the server's ssl::context, for a TlsStream.
  template <typename... Tls>
  Session(Impl& server, std::unique_ptr<ConnectionSlot> slot,
          tcp::socket socket, Tls&... tls)
      : server_(server),
        slot_(std::move(slot)),
        refusing_(slot_->refusing()),
        peer_(PeerAddress(socket)),
        stream_(std::move(socket), tls...) {}

  void Start() {
    if constexpr (kTls) {
      Tcp().expires_after(refusing_ ? kRefusalTimeout : kIdleTimeout);
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          [self = this->shared_from_this()](beast::error_code ec) {
            if (ec) return self->Tcp().close();  // not TLS, or refused
            self->refusing_ ? self->Refuse() : self->Read();
          });
    } else {
      refusing_ ? Refuse() : Read();
    }
  }

 private:
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  void Read() {
    request_id_.clear();
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(server_.deps.max_request_bytes);
    Tcp().expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](
                         beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      request_ = parser_->release();  // the headers, for the log line
      Accepted();
      if (request_.target() == kWebhookPath) {
        server_.deps.metrics.WebhooksRejected("too_large").Increment();
      }
      return Write(
          JsonError(413, "too_large",
                    absl::StrCat("request body exceeds the limit of ",
                                 server_.deps.max_request_bytes, " bytes")),
          /*keep_alive=*/false);
    }
    if (ec == http::error::header_limit) {
      request_ = {};
      Accepted();
      return Write(JsonError(431, "too_large", "request headers too large"),
                   false);
    }
    if (ec) return Close();  // timeout, reset, or the client went away
    request_ = parser_->release();
    parser_.reset();
    Accepted();
    const ScopedRequestId scope(request_id_);
    const bool keep_alive = request_.keep_alive();
    Tcp().expires_never();  // a slow commit is not an idle client
    server_.Dispatch(
        request_, stream_.get_executor(), peer_,
        [self = this->shared_from_this(), keep_alive](Reply reply) mutable {
          // Inline on one of our I/O threads; from another thread (the
          // blocking pool), queued onto ours.
          Session* s = self.get();
          asio::dispatch(s->stream_.get_executor(),
                         [self = std::move(self), reply = std::move(reply),
                          keep_alive]() mutable {
                           self->Write(std::move(reply), keep_alive);
                         });
        });
  }

  void Write(Reply reply, bool keep_alive) {
    if (reply.events) return StartEventStream(*std::move(reply.events));
    ApplySecurityDefaults(reply);
    if (!request_id_.empty()) LogRequest(reply.status);
    response_ = {};
    response_.version(11);
    response_.result(reply.status);
    response_.set(http::field::content_type, reply.content_type);
    for (auto& [name, value] : reply.headers) response_.set(name, value);
    if (!request_id_.empty()) response_.set(kRequestIdHeader, request_id_);
    response_.keep_alive(keep_alive);
    const bool head = request_.method() == http::verb::head;
    response_.body() = std::move(reply.body);
    response_.prepare_payload();
    if (head) response_.body().clear();  // Content-Length stays
    Tcp().expires_after(refusing_ ? kRefusalTimeout : kIdleTimeout);
    http::async_write(stream_, response_,
                      [self = this->shared_from_this(), keep_alive](
                          beast::error_code ec, size_t) {
                        if (ec || !keep_alive) return self->Close();
                        self->Read();
                      });
  }

  // Names and times the request just read.
  void Accepted() {
    request_id_ = AcceptRequestId(Header(request_, kRequestIdHeader));
    started_ = absl::Now();
  }

  // One line per answered request. The path only: queries carry tokens.
  void LogRequest(int status) {
    const absl::string_view target(request_.target().data(),
                                   request_.target().size());
    const ScopedRequestId scope(request_id_);
    Log(status >= 500 ? LogLevel::kWarn : LogLevel::kDebug, "http request",
        {{"method", std::string(request_.method_string())},
         {"path", std::string(target.substr(0, target.find('?')))},
         {"status", absl::StrCat(status)},
         {"duration_ms",
          absl::StrCat(absl::ToInt64Milliseconds(absl::Now() - started_))}});
  }

  void Close() {
    if constexpr (kTls) {
      // close_notify first, bounded by the idle timeout.
      Tcp().expires_after(refusing_ ? kRefusalTimeout : kIdleTimeout);
      stream_.async_shutdown([self = this->shared_from_this()](
                                 beast::error_code) { self->Tcp().close(); });
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      if (!refusing_) return stream_.close();
      // Read what the client sent until it closes (or briefly): closing
      // with its request unread would reset the connection, and the reset
      // can destroy the 503 before the client reads it.
      Tcp().expires_after(kRefusalTimeout);
      Discard();
    }
  }

  void Discard() {
    Tcp().async_read_some(
        asio::buffer(discard_),
        [self = this->shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->stream_.close();
          self->Discard();
        });
  }

  // Over the connection limit: a short 503 at once, then close.
  void Refuse() {
    Reply reply = JsonError(
        503, "overloaded",
        absl::StrCat("herald has its limit of ", server_.deps.max_connections,
                     " connections open; retry shortly"));
    reply.headers.emplace_back("Retry-After", "1");
    Write(std::move(reply), /*keep_alive=*/false);
  }

  // ---- a server-sent event stream (/console/events) ----
  // From here on the connection only writes: the header, then each event
  // the subscription queues, and a heartbeat comment; it reads only to
  // notice the client leaving. Its wake-ups, reads, writes and heartbeats
  // all run on `strand_`, one at a time. What waits to be written is
  // bounded (event_stream_buffer_bytes); beyond, events are dropped and
  // counted, and the client is told once it reads again.

  void StartEventStream(ConsoleEventStream grant) {
    auto slot = server_.TryAcquireStream(grant);
    if (auto* refused = std::get_if<Reply>(&slot)) {
      return Write(std::move(*refused), /*keep_alive=*/false);
    }
    stream_slot_ = std::get<std::unique_ptr<StreamSlot>>(std::move(slot));
    if (!request_id_.empty()) LogRequest(200);
    grant_ = std::move(grant);
    strand_.emplace(asio::make_strand(stream_.get_executor()));
    heartbeat_.emplace(*strand_);
    Tcp().expires_never();  // the heartbeat finds clients that went away
    asio::dispatch(*strand_, [self = this->shared_from_this()] {
      self->OpenEventStream();
    });
  }

  // On the strand, so that no wake-up can run before it is done.
  void OpenEventStream() {
    std::weak_ptr<Session> weak = this->shared_from_this();
    subscription_ = server_.deps.console->events->Subscribe(
        grant_.incident_id, [weak, strand = *strand_] {
          // Only posts: the session is locked (and perhaps destroyed) on
          // the strand, never on the publishing thread.
          asio::post(strand, [weak] {
            if (auto self = weak.lock()) self->DrainEvents();
          });
        });
    if (!server_.AddStream(subscription_)) {  // the server is stopping
      stream_ended_ = true;
      server_.deps.console->events->Unsubscribe(subscription_);
      return Close();
    }
    v1::WatchEvent watching;
    watching.set_kind("watching");
    watching.set_incident_id(grant_.incident_id);
    pending_ = absl::StrCat(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
        request_id_.empty()
            ? ""
            : absl::StrCat(kRequestIdHeader, ": ", request_id_, "\r\n"),
        "Connection: close\r\n\r\nretry: 3000\n\n", ServerSentEvent(watching));
    FlushEvents();
    Heartbeat();
    WatchForClose();
  }

  void DrainEvents() {
    if (stream_ended_) return;
    const size_t budget = server_.deps.event_stream_buffer_bytes;
    v1::WatchEvent event;
    while (subscription_->Pop(&event)) {
      std::string sse =
          ServerSentEvent(VisibleTo(grant_.caller, std::move(event)));
      // Once one event is dropped, every later one is, until the client
      // has been told: it then reloads, rather than see news with a gap.
      if (lagged_ > 0 || pending_.size() + sse.size() > budget) {
        ++lagged_;
        continue;
      }
      pending_ += sse;
    }
    FlushEvents();
  }

  void FlushEvents() {
    if (stream_ended_ || writing_) return;
    if (lagged_ > 0) {
      // Room again: after what came before the gap, say what was missed.
      server_.deps.metrics.HttpRefused("event_stream_lagged").Increment();
      v1::WatchEvent lagged;
      lagged.set_kind("lagged");
      lagged.set_actor("herald");
      lagged.set_incident_id(grant_.incident_id);
      lagged.set_text(absl::StrCat(
          lagged_,
          " event(s) dropped: this stream fell behind; reload for the "
          "current state"));
      pending_ += ServerSentEvent(lagged);
      lagged_ = 0;
    }
    if (pending_.empty()) return;
    writing_ = true;
    ++writes_started_;
    out_ = std::move(pending_);
    pending_.clear();
    asio::async_write(
        stream_, asio::buffer(out_),
        asio::bind_executor(*strand_, [self = this->shared_from_this()](
                                          beast::error_code ec, size_t) {
          self->writing_ = false;
          if (ec) return self->EndEventStream();  // the client went away
          self->FlushEvents();
        }));
  }

  void Heartbeat() {
    heartbeat_->expires_after(kEventStreamHeartbeat);
    heartbeat_->async_wait(
        [self = this->shared_from_this()](beast::error_code ec) {
          if (ec || self->stream_ended_) return;
          if (!self->server_.deps.console->sessions.Find(self->grant_.secret)) {
            return self->EndEventStream();  // signed out or expired
          }
          // The write that was pending at the last heartbeat still is: the
          // client has read nothing for a whole interval. Its reconnect
          // starts afresh.
          if (self->writing_ &&
              self->writes_started_ == self->write_at_last_heartbeat_) {
            self->server_.deps.metrics.HttpRefused("event_stream_lagged")
                .Increment();
            return self->EndEventStream();
          }
          self->write_at_last_heartbeat_ =
              self->writing_ ? self->writes_started_ : -1;
          if (self->pending_.size() <
              self->server_.deps.event_stream_buffer_bytes) {
            self->pending_ += ": heartbeat\n\n";
          }
          self->FlushEvents();
          self->Heartbeat();
        });
  }

  // An event stream's client sends nothing after its request: a read that
  // fails means it closed, and the stream ends now rather than at the next
  // failed write (which frees its slot for the session's next page).
  void WatchForClose() {
    stream_.async_read_some(
        asio::buffer(discard_),
        asio::bind_executor(*strand_, [self = this->shared_from_this()](
                                          beast::error_code ec, size_t) {
          if (!ec) return self->WatchForClose();  // ignore stray bytes
          self->EndEventStream();
        }));
  }

  void EndEventStream() {
    if (stream_ended_) return;
    stream_ended_ = true;
    heartbeat_->cancel();
    server_.EndStream(subscription_);
    if constexpr (kTls) {
      // No close_notify: its read would race WatchForClose's on the TLS
      // stream, and an event stream's end needs no proof of completeness.
      return Tcp().close();
    }
    Close();
  }

  static std::string PeerAddress(const tcp::socket& socket) {
    beast::error_code ec;
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    return ec ? std::string() : peer.address().to_string();
  }

  Impl& server_;
  const std::unique_ptr<ConnectionSlot> slot_;
  const bool refusing_;
  const std::string peer_;  // the client's address; "" if unknown
  Stream stream_;
  std::array<char, 1024> discard_;  // what a refused client sent
  ConsoleEventStream grant_;
  std::optional<asio::strand<asio::any_io_executor>> strand_;
  std::optional<asio::steady_timer> heartbeat_;
  std::shared_ptr<EventHub::Subscription> subscription_;
  std::unique_ptr<StreamSlot> stream_slot_;
  int64_t lagged_ = 0;  // events dropped and not yet reported
  int64_t writes_started_ = 0;
  int64_t write_at_last_heartbeat_ = -1;  // pending then; -1: none was
  std::string pending_;                   // events not yet written
  std::string out_;                       // being written
  bool writing_ = false;
  bool stream_ended_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request request_;
  std::string request_id_;  // empty until a request is read
  absl::Time started_;
  http::response<http::string_body> response_;
};

void HttpServer::Impl::Accept() {
  // Each connection gets a strand of its own: its handlers, the stream's
  // timeout and what the blocking pool hands back run one at a time, never
  // on two I/O threads at once (a timeout closing the socket while a read
  // completes elsewhere corrupted the reactor's state).
  acceptor.async_accept(
      asio::any_io_executor(asio::make_strand(io)),
      asio::bind_executor(accept_strand, [this](beast::error_code ec,
                                                tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
          return;  // stopping
        }
        // A connection the client gave up on before we took it is its own
        // failure; any other failure (EMFILE, ENFILE, ENOBUFS) would recur
        // at once.
        if (ec && ec != asio::error::connection_aborted) return AcceptLater(ec);
        if (!ec) {
          if (accept_backoff.count() > 0 &&
              absl::Now() - accept_logged >= kAcceptLogInterval) {
            LogInfo("http accepting again",
                    {{"failed_since_last_log",
                      absl::StrCat(accept_failures_unlogged)}});
            accept_logged = absl::Now();
            accept_failures_unlogged = 0;
          }
          accept_backoff = std::chrono::milliseconds(0);
          // Over the limit, a connection is answered 503 at once, while
          // few are; beyond those, it is closed unanswered.
          const bool admitted = connections.fetch_add(1) < deps.max_connections;
          if (!admitted) connections.fetch_sub(1);
          const bool refused =
              !admitted && refusing.fetch_add(1) < kMaxRefusing;
          if (!admitted && !refused) refusing.fetch_sub(1);
          if (!admitted) {
            deps.metrics.HttpRefused("connection_limit").Increment();
          }
          if (admitted || refused) {
            deps.metrics.http_connections.Increment();
            auto slot = std::make_unique<ConnectionSlot>(*this, refused);
            beast::error_code ignored;
            // Replies go out as soon as written; Nagle's algorithm meeting
            // the client's delayed ACK would otherwise hold each one ~40 ms.
            socket.set_option(tcp::no_delay(true), ignored);
            if (tls) {
              std::make_shared<Session<TlsStream>>(*this, std::move(slot),
                                                   std::move(socket), *tls)
                  ->Start();
            } else {
              std::make_shared<Session<PlainStream>>(*this, std::move(slot),
                                                     std::move(socket))
                  ->Start();
            }
          }
        }
        Accept();
      }));
}

void HttpServer::Impl::AcceptLater(const beast::error_code& ec) {
  deps.metrics.HttpRefused("accept_failed").Increment();
  ++accept_failures_unlogged;
  accept_backoff = std::min<std::chrono::milliseconds>(
      accept_backoff.count() == 0 ? kAcceptBackoffFirst : accept_backoff * 2,
      kAcceptBackoffCap);
  const absl::Time now = absl::Now();
  if (now - accept_logged >= kAcceptLogInterval) {
    LogWarn("http accept failing; pausing before accepting again",
            {{"error", ec.message()},
             {"failures", absl::StrCat(accept_failures_unlogged)},
             {"pause_ms", absl::StrCat(accept_backoff.count())}});
    accept_logged = now;
    accept_failures_unlogged = 0;
  }
  accept_timer.expires_after(accept_backoff);
  accept_timer.async_wait([this](beast::error_code wait) {
    if (wait || !acceptor.is_open()) return;  // stopping
    Accept();
  });
}

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
    Reply reply = JsonError(
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
    Reply reply =
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

Reply HttpServer::Impl::WebhookReply(const absl::StatusOr<IntakeResult>& result,
                                     const std::string& group_key) {
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
  return Reply{200, kJson, ToReplyJson(accepted), {}};
}

absl::Status HttpServer::Impl::SetUpTls() {
  if (deps.tls_cert_chain_pem.empty() && deps.tls_private_key_pem.empty()) {
    return absl::OkStatus();
  }
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  ctx.set_options(
      asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
      asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  beast::error_code ec;
  ctx.use_certificate_chain(asio::buffer(deps.tls_cert_chain_pem), ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS certificate chain refused: ", ec.message()));
  }
  ctx.use_private_key(asio::buffer(deps.tls_private_key_pem),
                      asio::ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS private key refused: ", ec.message()));
  }
  tls.emplace(std::move(ctx));
  return absl::OkStatus();
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

HttpServer::HttpServer(HttpDeps deps)
    : impl_(std::make_unique<Impl>(std::move(deps))) {}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<int> HttpServer::Bind(const std::string& host_port) {
  absl::StatusOr<std::pair<std::string, int>> addr = SplitHostPort(host_port);
  if (!addr.ok()) return addr.status();
  const auto& [host, port] = *addr;
  if (absl::Status s = impl_->SetUpTls(); !s.ok()) return s;
  beast::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected an IP address in \"", host_port, "\", got \"", host, "\""));
  }
  const tcp::endpoint endpoint(ip, static_cast<uint16_t>(port));
  tcp::acceptor& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(1024, ec);
  if (ec) {
    const std::string why = ec.message();
    acceptor.close(ec);
    return absl::UnavailableError(
        absl::StrCat("cannot bind HTTP to ", host_port, ": ", why));
  }
  return static_cast<int>(acceptor.local_endpoint().port());
}

void HttpServer::Start() {
  impl_->Accept();
  for (int i = 0; i < std::max(1, impl_->deps.io_threads); ++i) {
    impl_->threads.emplace_back([this] {
      pthread_setname_np(pthread_self(), "herald-http");
      impl_->io.run();
    });
  }
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  asio::post(s.accept_strand, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.accept_timer.cancel();
  });
  // Webhooks handed to the store must get their answer before the I/O
  // threads go; their callbacks refer to this server.
  {
    absl::MutexLock lock(&s.inflight_mu);
    s.inflight_mu.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &s.inflight));
  }
  s.blocking.join();
  // Event streams never end by themselves: end their subscriptions, then
  // let io.stop() drop the connections.
  std::vector<std::shared_ptr<EventHub::Subscription>> streams;
  {
    absl::MutexLock lock(&s.streams_mu);
    s.streams_closed = true;
    streams = s.streams;
  }
  for (const auto& sub : streams) s.EndStream(sub);
  s.work.reset();
  s.io.stop();
  for (std::thread& t : s.threads) t.join();
  s.threads.clear();
}

}  // namespace herald
