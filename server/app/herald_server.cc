#include "server/app/herald_server.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "server/api/grpc_api.h"
#include "server/api/grpc_call_observer.h"
#include "server/base/log.h"
#include "server/base/private_files.h"
#include "server/base/secret_token.h"
#include "server/config/bootstrap.h"
#include "server/config/config_loader.h"
#include "server/delivery/http_channel.h"
#include "server/delivery/smtp_channel.h"
#include "server/http/console_api.h"
#include "server/http/console_routes.h"
#include "server/http/console_sessions.h"
#include "server/http/http_server.h"
#include "server/runtime/periodic_runner.h"
#include "server/statuspage/status_page.h"
#include "server/store/broadcast.h"
#include "server/store/postgres_store.h"
#include "server/store/sqlite_store.h"
#include "server/wire/wire_views.h"

namespace herald {
namespace {

// gRPC's own bounds per client, which it enforces itself: streams on one
// connection, metadata size, and the memory all calls together may hold;
// connections idle this long are closed (a Watch stream is not idle).
constexpr int kGrpcMaxStreamsPerConnection = 100;
constexpr int kGrpcMaxMetadataBytes = 16 * 1024;
constexpr int kGrpcMaxConnectionIdleMs = 15 * 60 * 1000;
constexpr size_t kGrpcMemoryQuotaBytes = size_t{512} << 20;

// The HTTP connection limit that leaves room under the open-file limit for
// the store, gRPC, the outbox's senders and connections being refused.
int FitConnectionLimit(int configured, uint64_t open_files) {
  if (open_files == 0) return configured;
  const uint64_t reserve = std::max<uint64_t>(64, open_files / 4);
  const uint64_t room = open_files > reserve ? open_files - reserve : 0;
  const int fit = static_cast<int>(
      std::clamp<uint64_t>(room, 8, std::numeric_limits<int>::max()));
  if (configured <= fit) return configured;
  LogWarn("server.max_connections lowered to fit the open-file limit",
          {{"configured", absl::StrCat(configured)},
           {"open_file_limit", absl::StrCat(open_files)},
           {"max_connections", absl::StrCat(fit)}});
  return fit;
}

// "host:port" with the port actually bound.
std::string BoundAddress(const std::string& listen, int port) {
  return absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port);
}

// store.postgres as the store's options (its password read from its file).
absl::StatusOr<PostgresStoreOptions> PostgresOptions(const v1::Config& config) {
  const v1::PostgresConfig& pg = config.store().postgres();
  std::string password;
  if (!pg.password_file().empty()) {
    absl::StatusOr<std::string> read =
        ReadSecretFile(pg.password_file(), "store.postgres.password_file");
    if (!read.ok()) return read.status();
    password = *std::move(read);
  }
  return PostgresStoreOptions{
      .dsn = pg.dsn(),
      .password = std::move(password),
      .pool_size = pg.pool_size() > 0 ? pg.pool_size() : 8};
}

absl::StatusOr<std::unique_ptr<Store>> OpenConfiguredStore(
    const v1::Config& config, StoreObservers observers) {
  if (config.store().has_postgres()) {
    absl::StatusOr<PostgresStoreOptions> options = PostgresOptions(config);
    if (!options.ok()) return options.status();
    options->on_commit = std::move(observers.on_commit);
    options->on_conflict = std::move(observers.on_conflict);
    options->on_unreadable_row = std::move(observers.on_unreadable_row);
    return OpenPostgresStore(*std::move(options));
  }
  const std::string& data_dir = config.server().data_dir();
  // The data directory holds the database and the demo's credentials:
  // owner-only, and tightened if an older heraldd left it open.
  if (absl::Status s = EnsurePrivateDirectory(data_dir); !s.ok()) {
    return absl::UnavailableError(absl::StrCat("--data-dir: ", s.message()));
  }
  return OpenSqliteStore(
      (std::filesystem::path(data_dir) / "herald.db").string(),
      SqliteStoreOptions{
          .on_commit = std::move(observers.on_commit),
          .on_unreadable_row = std::move(observers.on_unreadable_row)});
}

absl::StatusOr<Channels> OpenRealChannels(const v1::Config& config,
                                          const DeliverySettings& delivery,
                                          const Clock& clock) {
  std::string smtp_password;
  if (!config.smtp().password_file().empty()) {
    absl::StatusOr<std::string> pw =
        ReadSecretFile(config.smtp().password_file(), "smtp.password_file");
    if (!pw.ok()) return pw.status();
    smtp_password = *std::move(pw);
  }
  Channels channels;
  auto smtp = std::make_unique<SmtpChannel>(
      SmtpOptions{.url = config.smtp().url(),
                  .from = config.smtp().from(),
                  .from_name = config.server().page_name(),
                  .username = config.smtp().username(),
                  .password = smtp_password,
                  .timeout = absl::Seconds(config.smtp().timeout_seconds())},
      clock);
  auto http = std::make_unique<HttpChannel>(
      HttpChannelOptions{.timeout = delivery.http_timeout}, clock);
  // The SMS gateway serves every recipient: its outages are the channel's,
  // not a recipient's. (A Slack contact is the customer's own incoming
  // webhook URL, like a webhook.)
  auto gateway = std::make_unique<HttpChannel>(
      HttpChannelOptions{.timeout = delivery.http_timeout,
                         .shared_endpoint = true},
      clock);
  channels.by_kind = {{v1::CHANNEL_KIND_EMAIL, smtp.get()},
                      {v1::CHANNEL_KIND_WEBHOOK, http.get()},
                      {v1::CHANNEL_KIND_SLACK, http.get()},
                      {v1::CHANNEL_KIND_SMS, gateway.get()}};
  channels.owned.push_back(std::move(smtp));
  channels.owned.push_back(std::move(http));
  channels.owned.push_back(std::move(gateway));
  return channels;
}

}  // namespace

Platform Platform::Production() {
  return Platform{.clock = std::make_shared<SystemClock>(),
                  .random = std::make_shared<SecureRandom>(),
                  .open_store = OpenConfiguredStore,
                  .open_channels = OpenRealChannels};
}

HeraldServer::HeraldServer(ServerOptions options, Platform platform)
    : options_(std::move(options)), platform_(std::move(platform)) {}

HeraldServer::~HeraldServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<HeraldServer>> HeraldServer::Create(
    ServerOptions options, Platform platform) {
  std::unique_ptr<HeraldServer> server(
      new HeraldServer(std::move(options), std::move(platform)));
  if (absl::Status s = server->Build(); !s.ok()) return s;
  return server;
}

absl::Status HeraldServer::Build() {
  v1::Config& config = options_.config;
  v1::ServerConfig& server = *config.mutable_server();
  absl::StatusOr<std::shared_ptr<const Organisation>> org =
      BuildOrganisation(config, options_.config_source);
  if (!org.ok()) return org.status();
  org_ = *std::move(org);
  const DeliverySettings& tuning = org_->delivery();
  for (const std::string& deprecation : tuning.deprecations) {
    LogWarn("the config uses a deprecated setting", {{"what", deprecation}});
  }

  metrics_ = std::make_unique<ServerMetrics>(registry_);
  StoreMetrics& store_metrics = metrics_->store;
  absl::StatusOr<std::unique_ptr<Store>> store = platform_.open_store(
      config,
      StoreObservers{
          .on_commit =
              [&store_metrics,
               postgres = config.store().has_postgres()](absl::Duration d) {
                (postgres ? store_metrics.postgres_commit_duration_seconds
                          : store_metrics.sqlite_commit_duration_seconds)
                    .Observe(absl::ToDoubleSeconds(d));
              },
          .on_conflict =
              [&store_metrics] { store_metrics.write_conflicts.Increment(); },
          .on_unreadable_row =
              [&store_metrics](absl::string_view record) {
                store_metrics.UnreadableRecords(record).Increment();
              }});
  if (!store.ok()) return store.status();
  store_ = *std::move(store);
  if (config.store().has_postgres()) {
    absl::StatusOr<PostgresStoreOptions> pg = PostgresOptions(config);
    if (!pg.ok()) return pg.status();
    broadcast_ = OpenPostgresBroadcast(*pg);
    broadcast_->Listen([this](absl::string_view line) {
      events_.Receive(line.empty() ? std::nullopt : FromBroadcastLine(line));
    });
    events_.SetRelay([broadcast = broadcast_.get()](const IncidentEvent& e) {
      broadcast->Send(ToBroadcastLine(e));
    });
  }
  if (absl::Status s = SeedStore(*store_, *org_); !s.ok()) return s;

  Random& random = *platform_.random;
  if (options_.demo && server.webhook_token_file().empty()) {
    // The demo's credentials are written there, whatever the store.
    if (absl::Status s = EnsurePrivateDirectory(server.data_dir()); !s.ok()) {
      return absl::UnavailableError(absl::StrCat("--data-dir: ", s.message()));
    }
    absl::StatusOr<std::string> env =
        EnsureDemoCredentials(*store_, *org_, server.data_dir(), random);
    if (!env.ok()) return env.status();
    server.set_webhook_token_file(DemoWebhookTokenPath(server.data_dir()));
    LogInfo("demo organisation: credentials are in the env file",
            {{"file", *env}});
  }
  // The listeners' secrets are read now, in the order heraldd always read
  // them, so that a wrong file is named before anything else is changed.
  if (server.webhook_token_file().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        options_.config_source,
        ": server.webhook_token_file: required (or --webhook-token-file): "
        "the credential Alertmanager must send"));
  }
  absl::StatusOr<std::string> webhook_token =
      ReadSecretFile(server.webhook_token_file(), "server.webhook_token_file");
  if (!webhook_token.ok()) return webhook_token.status();
  webhook_token_sha256_ = Sha256Hex(*webhook_token);
  absl::StatusOr<ServerTls> tls = ReadServerTls(server.tls());
  if (!tls.ok()) return tls.status();
  tls_ = *std::move(tls);

  absl::StatusOr<std::unique_ptr<MustacheRenderer>> renderer =
      MustacheRenderer::WithOverrides(config.templates_dir(),
                                      org_->default_locale());
  if (!renderer.ok()) return renderer.status();
  renderer_ = *std::move(renderer);
  absl::StatusOr<std::vector<Authorizer::TokenHash>> tokens =
      LoadTokenHashes(*store_);
  if (!tokens.ok()) return tokens.status();
  absl::StatusOr<std::string> link_key = EnsureLinkKey(*store_, random);
  if (!link_key.ok()) return link_key.status();
  links_ = std::make_unique<LinkTokens>(*std::move(link_key));

  const Clock& clock = *platform_.clock;
  deps_ = std::make_unique<CoreDeps>(CoreDeps{.store = *store_,
                                              .clock = clock,
                                              .random = random,
                                              .renderer = *renderer_,
                                              .org = org_,
                                              .metrics = metrics_->core,
                                              .events = &events_});
  domain_ =
      std::make_unique<Domain>(*deps_, *links_, [this] { WakeSenders(); });
  status_page_ = std::make_unique<StatusPage>(*deps_);
  BuildStatusMirror();
  sessions_ =
      std::make_unique<ConsoleSessions>(*store_, clock, random, absl::Hours(8));
  authorizer_ = std::make_unique<Authorizer>(org_, *std::move(tokens), random,
                                             sessions_->Lookup());
  grpc_api_ = std::make_unique<GrpcApi>(
      ApiDeps{.authorizer = *authorizer_,
              .workflow = domain_->workflow,
              .queries = domain_->queries,
              .escalator = domain_->escalator,
              .overrides = domain_->overrides,
              .maintenance = domain_->maintenance,
              .subscribers = domain_->subscribers,
              .affected = domain_->affected,
              .aftercare = domain_->aftercare,
              .clock = clock,
              .random = random,
              .on_published = [this] { WakeSenders(); },
              .events = &events_,
              .store = store_.get()});

  absl::StatusOr<std::vector<std::string>> sms_secrets =
      ReadSmsGatewaySecrets(config.delivery().sms_gateway());
  if (!sms_secrets.ok()) return sms_secrets.status();
  absl::StatusOr<Channels> channels =
      platform_.open_channels(config, tuning, clock);
  if (!channels.ok()) return channels.status();
  channels_ = *std::move(channels);
  composer_ = std::make_unique<DeliveryComposer>(
      domain_->drafter, org_,
      ComposerOptions{.public_url = server.public_url(),
                      .sms_gateway_url = config.delivery().sms_gateway().url(),
                      .sms_gateway_secrets = *std::move(sms_secrets),
                      .links = links_.get()});
  outbox_ = std::make_unique<DeliveryOutbox>(OutboxDeps{
      .store = *store_,
      .clock = clock,
      .composer = *composer_,
      .channels = channels_.by_kind,
      .metrics = metrics_->delivery,
      .delivery = tuning,
      .random = [&random] { return random.Uniform(); },
      .events = &events_,
      .channel_health =
          ChannelHealthOptions{.probe_base = tuning.channel_probe_base,
                               .probe_cap = tuning.channel_probe_cap,
                               .patience = tuning.channel_patience}});
  // SQLite serves one process: what it left in `sending` was interrupted.
  // Several heraldd share PostgreSQL: what is `sending` there may be another
  // replica's send under way, and only its lease's end says otherwise.
  if (config.store().has_postgres()) {
    // Left to the leases.
  } else if (absl::StatusOr<int> n = outbox_->RecoverInterrupted(); !n.ok()) {
    return n.status();
  } else if (*n > 0) {
    LogWarn("requeued deliveries interrupted by a previous stop",
            {{"count", absl::StrCat(*n)}});
  }

  // The outbox's workers share its queue of claimed deliveries; sends to
  // slow receivers overlap.
  for (int i = 0; i < tuning.workers; ++i) {
    senders_.push_back(std::make_unique<PeriodicRunner>(
        absl::StrCat("outbox-", i), [this] { return outbox_->RunOnce(); },
        absl::Milliseconds(500)));
  }
  workers_.push_back(std::make_unique<PeriodicRunner>(
      "gauges",
      [this]() -> absl::StatusOr<int> {
        if (absl::Status s = outbox_->RefreshGauges(); !s.ok()) return s;
        if (absl::Status s = domain_->gauges.Refresh(); !s.ok()) return s;
        return 0;
      },
      absl::Seconds(5)));
  workers_.push_back(std::make_unique<PeriodicRunner>(
      "jobs", [this] { return domain_->jobs.RunDueJobs(); }, absl::Seconds(1)));
  // Pending subscribers whose confirmation link expired; a sweep, not a
  // durable job per subscriber, so it survives restarts by rereading.
  workers_.push_back(std::make_unique<PeriodicRunner>(
      "purge-unconfirmed",
      [this] { return domain_->portal.PurgeUnconfirmed(); },
      absl::Minutes(10)));
  // Expired console sessions and rate-limit windows; any replica may.
  workers_.push_back(std::make_unique<PeriodicRunner>(
      "purge-expired",
      [this]() -> absl::StatusOr<int> {
        // In batches, till none is left: a flood of self-service requests
        // leaves many.
        constexpr int kBatch = 10000;
        int64_t purged = 0;
        for (int64_t batch = kBatch; batch == kBatch;) {
          absl::Status s = store_->Write([&](StoreTxn& txn) -> absl::Status {
            absl::StatusOr<int64_t> n =
                txn.PurgeExpired(platform_.clock->Now(), kBatch);
            if (!n.ok()) return n.status();
            batch = *n;
            return absl::OkStatus();
          });
          if (!s.ok()) return s;
          purged += batch;
        }
        return static_cast<int>(purged);
      },
      absl::Minutes(10)));
  return absl::OkStatus();
}

void HeraldServer::BuildStatusMirror() {
  const v1::StatusMirrorConfig& config = options_.config.status_mirror();
  if (config.directory().empty()) return;
  StatusMirrorOptions options{.directory = config.directory(),
                              .after_write = config.after_write()};
  // Validated with the rest of the config (ValidateStatusMirror).
  if (!config.after_write_timeout().empty()) {
    (void)absl::ParseDuration(config.after_write_timeout(),
                              &options.after_write_timeout);
  }
  if (!config.after_write_retry_cap().empty()) {
    (void)absl::ParseDuration(config.after_write_retry_cap(),
                              &options.after_write_retry_cap);
  }
  options.links.subscribe_action =
      config.omit_subscribe_form()
          ? ""
          : absl::StrCat(
                absl::StripSuffix(options_.config.server().public_url(), "/"),
                "/subscribe");
  public_site_ = std::make_unique<PublicSite>(*status_page_);
  // Read again on every change, and every 10 s for what moves with time.
  mirror_state_ = std::make_unique<PublicStateCache>(*status_page_, &events_,
                                                     absl::Seconds(10));
  mirror_metrics_ = std::make_unique<StatusMirrorMetrics>(registry_);
  mirror_ = std::make_unique<StatusMirror>(std::move(options), *public_site_,
                                           *mirror_state_, *platform_.clock,
                                           *mirror_metrics_);
  // Each change wakes the mirror, which writes within a pass; one within
  // 100 ms of the last idle pass waits out the rest of those 100 ms, so that
  // an alert storm, a change per batch the page does not show, reads about
  // ten times a second at most. Once a second without a change: its
  // command's retries, and what moves with time.
  auto runner = std::make_unique<PeriodicRunner>(
      "status-mirror", [this] { return mirror_->Pass(); }, absl::Seconds(1),
      absl::Milliseconds(100));
  events_.OnChange([mirror = runner.get()] { mirror->Wake(); });
  workers_.push_back(std::move(runner));
}

void HeraldServer::WakeSenders() {
  for (auto& sender : senders_) sender->Wake();
}

absl::Status HeraldServer::Start() {
  if (started_) return absl::FailedPreconditionError("already started");
  started_ = true;
  const v1::ServerConfig& server = options_.config.server();
  if (absl::Status s = StartGrpc(); !s.ok()) return s;
  if (absl::Status s = StartHttp(); !s.ok()) return s;

  if (options_.run_workers) {
    for (auto& sender : senders_) sender->Start();
    for (auto& worker : workers_) worker->Start();
  }
  http_->Start();
  ready_ = true;
  grpc_server_->GetHealthCheckService()->SetServingStatus(true);
  LogInfo("heraldd serving",
          {{"grpc", grpc_address()},
           {"http", http_address()},
           {"data_dir", server.data_dir()},
           // Which database, never its DSN: it may hold a password.
           {"store",
            options_.config.store().has_postgres() ? "postgres" : "sqlite"},
           {"tls", tls_.enabled() ? "on" : "off"},
           {"organisation",
            options_.demo ? "embedded demo" : options_.config_source}});
  return absl::OkStatus();
}

absl::Status HeraldServer::StartGrpc() {
  const ServerTls& tls = tls_;
  const v1::ServerConfig& server = options_.config.server();
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::InsecureServerCredentials();
  if (tls.enabled()) {
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({tls.private_key_pem, tls.cert_chain_pem});
    credentials = grpc::SslServerCredentials(ssl);
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(server.grpc_listen(), credentials, &grpc_port_);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(server.max_request_bytes()));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             kGrpcMaxStreamsPerConnection);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, kGrpcMaxMetadataBytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             kGrpcMaxConnectionIdleMs);
  grpc::ResourceQuota quota("heraldd");
  quota.Resize(kGrpcMemoryQuotaBytes);
  builder.SetResourceQuota(quota);
  grpc_api_->RegisterOn(builder);
  builder.experimental().SetInterceptorCreators(
      GrpcInterceptors(metrics_->grpc));
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", server.grpc_listen()));
  }
  // Not ready until everything serves.
  grpc_server_->GetHealthCheckService()->SetServingStatus(false);

  // The console calls the same gRPC services in-process, as the session.
  console_api_ = std::make_unique<ConsoleApi>(
      grpc_server_->InProcessChannel(grpc::ChannelArguments()),
      authorizer_->console_channel_key());
  console_ =
      std::make_unique<ConsoleDeps>(ConsoleDeps{.authorizer = *authorizer_,
                                                .sessions = *sessions_,
                                                .renderer = *renderer_,
                                                .page_name = server.page_name(),
                                                .tls = tls_.enabled(),
                                                .api = console_api_.get(),
                                                .events = &events_});
  return absl::OkStatus();
}

absl::Status HeraldServer::StartHttp() {
  const v1::ServerConfig& server = options_.config.server();
  http_ = std::make_unique<HttpServer>(HttpDeps{
      .intake = domain_->intake,
      .status_page = *status_page_,
      .registry = registry_,
      .metrics = metrics_->http,
      .webhook_token_sha256 = webhook_token_sha256_,
      .webhook_basic_username = server.webhook_basic_username(),
      .max_request_bytes = static_cast<size_t>(server.max_request_bytes()),
      .max_inflight_webhooks = server.max_inflight_webhooks(),
      .ready = [this] { return ready_.load(); },
      .io_threads = options_.http_io_threads,
      .portal = &domain_->portal,
      .follow_ups = &domain_->follow_ups,
      .tls_cert_chain_pem = tls_.cert_chain_pem,
      .tls_private_key_pem = tls_.private_key_pem,
      .public_caching = {.max_age =
                             absl::Seconds(server.public_max_age_seconds())},
      .public_changes = &events_,
      .clock = platform_.clock.get(),
      .console = console_.get(),
      .max_connections = FitConnectionLimit(server.max_connections(),
                                            options_.open_file_limit),
      .max_event_streams_per_session = server.max_event_streams_per_session(),
      .max_event_streams_per_person = server.max_event_streams_per_person()});
  absl::StatusOr<int> port = http_->Bind(server.http_listen());
  if (!port.ok()) return port.status();
  http_port_ = *port;
  return absl::OkStatus();
}

std::string HeraldServer::grpc_address() const {
  return BoundAddress(options_.config.server().grpc_listen(), grpc_port_);
}

std::string HeraldServer::http_address() const {
  return BoundAddress(options_.config.server().http_listen(), http_port_);
}

void HeraldServer::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  // Probes see the stop first; then no new work is taken, what is in
  // flight finishes, and the sends under way complete or are left queued.
  ready_ = false;
  if (grpc_server_ != nullptr) {
    grpc_server_->GetHealthCheckService()->SetServingStatus(false);
  }
  if (outbox_ != nullptr) outbox_->StopSending();
  // HTTP first: the console's API calls in flight use the gRPC services.
  if (http_ != nullptr) http_->Stop();
  if (grpc_server_ != nullptr) {
    grpc_server_->Shutdown(
        absl::ToChronoTime(absl::Now() + options_.grpc_stop_grace));
  }
  // What counts changes may outlive the runners (the broadcast from the
  // other heraldd is destroyed after them): the mirror's is woken no more.
  events_.OnChange(nullptr);
  for (auto& worker : workers_) worker->Stop();
  for (auto& sender : senders_) sender->Stop();
}

}  // namespace herald
