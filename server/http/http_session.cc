#include "server/http/http_server_internal.h"
#include "server/wire/wire_views.h"

namespace herald {

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
        [self = this->shared_from_this(), keep_alive](HttpReply reply) mutable {
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

  void Write(HttpReply reply, bool keep_alive) {
    if (reply.events) return StartEventStream(*std::move(reply.events));
    if (reply.serialized) {
      return WriteSerialized(reply.status, *std::move(reply.serialized),
                             keep_alive);
    }
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

  // A reply serialized ahead (a public document kept in memory): its
  // status line, its header lines, the connection's own, and its body (not
  // for HEAD), gathered into one write without copying any of them.
  void WriteSerialized(int status, SerializedReply reply, bool keep_alive) {
    if (!request_id_.empty()) LogRequest(status);
    serialized_ = std::move(reply);
    const bool http10 = request_.version() == 10;
    connection_lines_.clear();
    if (!request_id_.empty()) {
      absl::StrAppend(&connection_lines_, kRequestIdHeader, ": ", request_id_,
                      "\r\n");
    }
    // HTTP/1.1 keeps the connection by default, HTTP/1.0 closes it.
    if (!keep_alive) {
      connection_lines_ += "Connection: close\r\n";
    } else if (http10) {
      connection_lines_ += "Connection: keep-alive\r\n";
    }
    connection_lines_ += "\r\n";
    // AnswerPublicDocument serializes these three only.
    const absl::string_view status_line =
        status == 304   ? "HTTP/1.1 304 Not Modified\r\n"
        : status == 404 ? "HTTP/1.1 404 Not Found\r\n"
                        : "HTTP/1.1 200 OK\r\n";
    const bool head = request_.method() == http::verb::head;
    const std::array<asio::const_buffer, 4> buffers = {
        asio::buffer(status_line.data(), status_line.size()),
        asio::buffer(serialized_->head.data(), serialized_->head.size()),
        asio::buffer(connection_lines_),
        head
            ? asio::const_buffer()
            : asio::buffer(serialized_->body.data(), serialized_->body.size())};
    Tcp().expires_after(kIdleTimeout);
    asio::async_write(stream_, buffers,
                      [self = this->shared_from_this(), keep_alive](
                          beast::error_code ec, size_t) {
                        self->serialized_.reset();
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
    HttpReply reply = JsonError(
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
    if (auto* refused = std::get_if<HttpReply>(&slot)) {
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
    IncidentEvent event;
    while (subscription_->Pop(&event)) {
      std::string sse = ServerSentEvent(
          ToWatchEvent(VisibleTo(grant_.caller, std::move(event))));
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
  // The reply being written by WriteSerialized, kept alive until it is.
  std::optional<SerializedReply> serialized_;
  std::string connection_lines_;
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

}  // namespace herald
