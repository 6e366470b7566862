#include "server/http/http_server_internal.h"

namespace herald {

const std::vector<std::string>& PublicDocumentPaths() {
  return PublicSite::FixedPaths();
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
