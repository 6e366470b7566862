// HeraldServer: one heraldd, built from its options and a Platform, in the
// shape of leveldb's DB::Open: Create() opens the store and builds every
// part (or says which field or file is wrong), Start() binds the gRPC and
// HTTP ports and starts the background work, Shutdown() stops in the order
// that loses nothing. heraldd's main and the test harnesses build this same
// object; they differ only in the Platform (a MemoryStore, a fake clock and
// fake channels in tests) and in whether the background workers run.
//
// Thread-safety: Create, Start and Shutdown are called from one thread; the
// parts it hands out are as thread-safe as their own headers say.
#ifndef HERALD_SERVER_APP_HERALD_SERVER_H_
#define HERALD_SERVER_APP_HERALD_SERVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "herald/v1/config.pb.h"
#include "prometheus/registry.h"
#include "server/api/grpc_metrics.h"
#include "server/app/domain.h"
#include "server/base/clock.h"
#include "server/base/random.h"
#include "server/config/bootstrap.h"
#include "server/core/event_hub.h"
#include "server/core/metrics.h"
#include "server/core/org/authorizer.h"
#include "server/core/org/delivery_settings.h"
#include "server/delivery/channel.h"
#include "server/delivery/delivery_composer.h"
#include "server/delivery/delivery_metrics.h"
#include "server/delivery/delivery_outbox.h"
#include "server/http/http_metrics.h"
#include "server/render/mustache_renderer.h"
#include "server/statuspage/public_site.h"
#include "server/statuspage/status_mirror.h"
#include "server/store/store.h"
#include "server/store/store_metrics.h"

namespace grpc {
class Server;
}

namespace herald {

class ConsoleSessions;
class StoreBroadcast;
class GrpcApi;
class HttpServer;
class PeriodicRunner;
class StatusPage;
struct ConsoleDeps;
class ConsoleApi;

// Each part's metrics, on the server's one registry: every part is handed
// only its own.
struct ServerMetrics {
  explicit ServerMetrics(prometheus::Registry& registry)
      : core(registry),
        store(registry),
        delivery(registry),
        grpc(registry),
        http(registry) {}

  CoreMetrics core;
  StoreMetrics store;
  DeliveryMetrics delivery;
  GrpcMetrics grpc;
  HttpMetrics http;
};

// What a store is told about itself, for the server's metrics.
struct StoreObservers {
  // How long each commit took (SQLite's group commit and its fsync, or a
  // PostgreSQL COMMIT).
  std::function<void(absl::Duration)> on_commit;
  // A write conflicted with another and is run again (PostgreSQL).
  std::function<void()> on_conflict;
  // The kind of record each time a stored row cannot be read.
  std::function<void(absl::string_view record)> on_unreadable_row;
};

// The channels deliveries go out on, one per kind; a kind without one is
// refused and falls back to the recipient's next contact.
struct Channels {
  std::vector<std::unique_ptr<Channel>> owned;
  std::map<v1::ChannelKind, Channel*> by_kind;
};

// What the server runs on: everything that touches the world outside the
// process's logic, so that tests can replace it.
struct Platform {
  std::shared_ptr<const Clock> clock;
  std::shared_ptr<Random> random;
  // Opens (and migrates) the store the config names.
  std::function<absl::StatusOr<std::unique_ptr<Store>>(const v1::Config&,
                                                       StoreObservers)>
      open_store;
  // Builds the delivery channels the config describes.
  std::function<absl::StatusOr<Channels>(const v1::Config&,
                                         const DeliverySettings&, const Clock&)>
      open_channels;

  // The real world: the system clock, the OS's CSPRNG, the store the
  // config names (PostgreSQL, or SQLite in `server.data_dir`), SMTP and
  // HTTP (libcurl) channels.
  static Platform Production();
};

struct ServerOptions {
  v1::Config config;  // flags already applied
  // Where the config came from, for messages ("<embedded default config>").
  std::string config_source;
  // The embedded demo organisation: on first start, API and webhook tokens
  // are made and written to the data directory for the demo user.
  bool demo = false;
  // The outbox's senders, the job runner, the gauges and the purge run on
  // their own threads. Off in tests that drive them by hand.
  bool run_workers = true;
  // The process's open-file limit; server.max_connections is lowered to
  // leave room under it. 0: unlimited.
  uint64_t open_file_limit = 0;
  // Threads serving HTTP connections.
  int http_io_threads = 2;
  // How long a stop waits for gRPC calls in flight (Watch streams never end
  // by themselves) before cancelling them.
  absl::Duration grpc_stop_grace = absl::Seconds(10);
};

class HeraldServer {
 public:
  // Opens the store, seeds it from the config, makes missing credentials,
  // reads the listeners' secrets (webhook token, TLS) and builds every
  // part. Nothing listens yet. Errors name the config field or the file.
  static absl::StatusOr<std::unique_ptr<HeraldServer>> Create(
      ServerOptions options, Platform platform);
  ~HeraldServer();  // Shutdown()
  HeraldServer(const HeraldServer&) = delete;
  HeraldServer& operator=(const HeraldServer&) = delete;

  // Binds gRPC and HTTP (port 0 picks a free port), starts the workers and
  // turns ready. Once.
  absl::Status Start();
  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_port_; }
  // The address each listener is bound to, host and actual port.
  std::string grpc_address() const;
  std::string http_address() const;

  // Probes see the stop first; then nothing new is taken, the sends under
  // way complete or stay queued, HTTP stops (the console calls gRPC), then
  // gRPC and the workers. Idempotent.
  void Shutdown();

  // The parts, for the test harnesses and the in-process console.
  const v1::Config& config() const { return options_.config; }
  const Clock& clock() const { return *platform_.clock; }
  Random& random() { return *platform_.random; }
  prometheus::Registry& registry() { return registry_; }
  ServerMetrics& metrics() { return *metrics_; }
  Store& store() { return *store_; }
  std::shared_ptr<const Organisation> org() const { return org_; }
  const MustacheRenderer& renderer() const { return *renderer_; }
  const LinkTokens& links() const { return *links_; }
  EventHub& events() { return events_; }
  const CoreDeps& deps() const { return *deps_; }
  Domain& domain() { return *domain_; }
  ConsoleSessions& sessions() { return *sessions_; }
  const Authorizer& authorizer() const { return *authorizer_; }
  const DeliveryComposer& composer() const { return *composer_; }
  DeliveryOutbox& outbox() { return *outbox_; }
  const StatusPage& status_page() const { return *status_page_; }
  // Null before Start().
  grpc::Server* grpc_server() { return grpc_server_.get(); }

 private:
  HeraldServer(ServerOptions options, Platform platform);
  absl::Status Build();
  absl::Status StartGrpc();
  absl::Status StartHttp();
  // Builds the static mirror when the config asks for one.
  void BuildStatusMirror();
  void WakeSenders();

  ServerOptions options_;
  Platform platform_;
  prometheus::Registry registry_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<const Organisation> org_;
  std::unique_ptr<MustacheRenderer> renderer_;
  std::unique_ptr<LinkTokens> links_;
  EventHub events_;
  // With a shared store (PostgreSQL): what the other heraldd publish, and
  // what this one does, for their watchers. Destroyed after everything
  // that publishes.
  std::unique_ptr<StoreBroadcast> broadcast_;
  std::unique_ptr<CoreDeps> deps_;
  std::unique_ptr<Domain> domain_;
  std::unique_ptr<ConsoleSessions> sessions_;
  std::unique_ptr<Authorizer> authorizer_;
  Channels channels_;
  std::unique_ptr<DeliveryComposer> composer_;
  std::unique_ptr<DeliveryOutbox> outbox_;
  std::unique_ptr<StatusPage> status_page_;
  // With status_mirror.directory configured: the static mirror, its own
  // read of the public state, and its series (absent otherwise).
  std::unique_ptr<PublicSite> public_site_;
  std::unique_ptr<PublicStateCache> mirror_state_;
  std::unique_ptr<StatusMirrorMetrics> mirror_metrics_;
  std::unique_ptr<StatusMirror> mirror_;
  std::unique_ptr<GrpcApi> grpc_api_;
  std::vector<std::unique_ptr<PeriodicRunner>> workers_;
  std::vector<std::unique_ptr<PeriodicRunner>> senders_;

  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<ConsoleApi> console_api_;
  std::unique_ptr<ConsoleDeps> console_;
  std::unique_ptr<HttpServer> http_;
  int grpc_port_ = 0;
  int http_port_ = 0;
  // Read by Create: what Alertmanager's credential hashes to, and the
  // certificate both listeners serve (none: plain text).
  std::string webhook_token_sha256_;
  ServerTls tls_;
  // Ready from when everything serves until the stop begins.
  std::atomic<bool> ready_{false};
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace herald

#endif  // HERALD_SERVER_APP_HERALD_SERVER_H_
