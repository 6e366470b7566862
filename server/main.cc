// heraldd: parses flags and config, builds the parts, serves until SIGTERM.
// Wiring only; behaviour lives in the libraries.
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <random>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "prometheus/registry.h"
#include "server/api/grpc_call_observer.h"
#include "server/api/grpc_services.h"
#include "server/base/private_files.h"
#include "server/config/bootstrap.h"
#include "server/config/config_loader.h"
#include "server/core/aftercare.h"
#include "server/core/alert_intake.h"
#include "server/core/comms_workflow.h"
#include "server/core/console_sessions.h"
#include "server/core/escalator.h"
#include "server/core/follow_ups.h"
#include "server/core/incident_gauges.h"
#include "server/core/incident_queries.h"
#include "server/core/job_runner.h"
#include "server/core/link_tokens.h"
#include "server/core/log.h"
#include "server/core/mustache_renderer.h"
#include "server/core/rota_overrides.h"
#include "server/core/secret_token.h"
#include "server/core/subscription_portal.h"
#include "server/delivery/delivery_composer.h"
#include "server/delivery/delivery_outbox.h"
#include "server/delivery/http_channel.h"
#include "server/delivery/smtp_channel.h"
#include "server/http/console_api.h"
#include "server/http/http_server.h"
#include "server/runtime/periodic_runner.h"
#include "server/statuspage/status_page.h"
#include "server/store/sqlite_store.h"

namespace herald {
namespace {

struct Flags {
  std::string config_path;
  std::string grpc_listen;
  std::string http_listen;
  std::string data_dir;
  std::string webhook_token_file;
  std::string log_level = "info";
  bool check_config = false;
};

int Fail(const absl::Status& s) {
  std::cerr << "heraldd: " << s.message() << "\n";
  return 1;
}

// Raises the soft limit on open files to the hard one (a connection is a
// file) and returns the limit in force.
rlim_t RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    const rlim_t was = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      LogWarn("cannot raise the open-file limit",
              {{"soft", absl::StrCat(was)},
               {"hard", absl::StrCat(limit.rlim_max)}});
      return was;
    }
  }
  return limit.rlim_cur;
}

// The HTTP connection limit that leaves room under the open-file limit for
// the store, gRPC, the outbox's senders and connections being refused.
int FitConnectionLimit(int configured, rlim_t open_files) {
  if (open_files == RLIM_INFINITY) return configured;
  const rlim_t reserve = std::max<rlim_t>(64, open_files / 4);
  const rlim_t room = open_files > reserve ? open_files - reserve : 0;
  const int fit = static_cast<int>(
      std::clamp<rlim_t>(room, 8, std::numeric_limits<int>::max()));
  if (configured <= fit) return configured;
  LogWarn("server.max_connections lowered to fit the open-file limit",
          {{"configured", absl::StrCat(configured)},
           {"open_file_limit", absl::StrCat(open_files)},
           {"max_connections", absl::StrCat(fit)}});
  return fit;
}

// gRPC's own bounds per client, which it enforces itself: streams on one
// connection, metadata size, and the memory all calls together may hold;
// connections idle this long are closed (a Watch stream is not idle).
constexpr int kGrpcMaxStreamsPerConnection = 100;
constexpr int kGrpcMaxMetadataBytes = 16 * 1024;
constexpr int kGrpcMaxConnectionIdleMs = 15 * 60 * 1000;
constexpr size_t kGrpcMemoryQuotaBytes = size_t{512} << 20;

int Run(const Flags& flags) {
  LogLevel level;
  if (!ParseLogLevel(flags.log_level, &level)) {
    return Fail(absl::InvalidArgumentError(
        "--log-level: expected debug, info, warn or error"));
  }
  SetLogLevel(level);

  const bool demo = flags.config_path.empty();
  v1::Config config;
  if (demo) {
    config = DefaultConfig();
  } else {
    absl::StatusOr<v1::Config> loaded = LoadConfigFile(flags.config_path);
    if (!loaded.ok()) return Fail(loaded.status());
    config = *std::move(loaded);
  }
  v1::ServerConfig& server = *config.mutable_server();
  if (!flags.grpc_listen.empty()) server.set_grpc_listen(flags.grpc_listen);
  if (!flags.http_listen.empty()) server.set_http_listen(flags.http_listen);
  if (!flags.data_dir.empty()) server.set_data_dir(flags.data_dir);
  if (!flags.webhook_token_file.empty())
    server.set_webhook_token_file(flags.webhook_token_file);

  const std::string source =
      demo ? "<embedded default config>" : flags.config_path;
  absl::StatusOr<std::shared_ptr<const Organisation>> org =
      BuildOrganisation(config, source);
  if (!org.ok()) return Fail(org.status());
  if (flags.check_config) {
    std::cout << source << ": OK: " << config.components_size()
              << " component(s), " << config.people_size() << " person(s), "
              << config.rotas_size() << " rota(s), "
              << config.subscribers_size()
              << " subscriber(s). Files it names (tokens, TLS, templates) "
                 "are read at start, not now.\n";
    return 0;
  }

  const rlim_t open_files = RaiseOpenFileLimit();
  // The data directory holds the database and the demo's credentials:
  // owner-only, and tightened if an older heraldd left it open.
  if (absl::Status s = EnsurePrivateDirectory(server.data_dir()); !s.ok()) {
    return Fail(
        absl::UnavailableError(absl::StrCat("--data-dir: ", s.message())));
  }
  const std::string db_path =
      (std::filesystem::path(server.data_dir()) / "herald.db").string();
  prometheus::Registry registry;
  HeraldMetrics metrics(registry);
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(
      db_path,
      SqliteStoreOptions{.on_commit =
                             [&metrics](absl::Duration d) {
                               metrics.sqlite_commit_duration_seconds.Observe(
                                   absl::ToDoubleSeconds(d));
                             },
                         .on_unreadable_row =
                             [&metrics](absl::string_view record) {
                               metrics.unreadable_records
                                   .Add({{"record", std::string(record)}})
                                   .Increment();
                             }});
  if (!store.ok()) return Fail(store.status());
  if (auto s = SeedStore(**store, **org); !s.ok()) return Fail(s);

  if (demo && server.webhook_token_file().empty()) {
    absl::StatusOr<std::string> env =
        EnsureDemoCredentials(**store, **org, server.data_dir());
    if (!env.ok()) return Fail(env.status());
    server.set_webhook_token_file(DemoWebhookTokenPath(server.data_dir()));
    LogInfo("demo organisation: credentials are in the env file",
            {{"file", *env}});
  }
  if (server.webhook_token_file().empty()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        source,
        ": server.webhook_token_file: required (or --webhook-token-file): "
        "the credential Alertmanager must send")));
  }
  absl::StatusOr<std::string> webhook_token =
      ReadSecretFile(server.webhook_token_file(), "server.webhook_token_file");
  if (!webhook_token.ok()) return Fail(webhook_token.status());
  absl::StatusOr<ServerTls> tls = ReadServerTls(server.tls());
  if (!tls.ok()) return Fail(tls.status());

  std::string smtp_password;
  if (!config.smtp().password_file().empty()) {
    absl::StatusOr<std::string> pw =
        ReadSecretFile(config.smtp().password_file(), "smtp.password_file");
    if (!pw.ok()) return Fail(pw.status());
    smtp_password = *std::move(pw);
  }

  absl::StatusOr<std::unique_ptr<MustacheRenderer>> renderer =
      MustacheRenderer::WithOverrides(config.templates_dir());
  if (!renderer.ok()) return Fail(renderer.status());

  absl::StatusOr<std::vector<Authorizer::TokenHash>> tokens =
      LoadTokenHashes(**store);
  if (!tokens.ok()) return Fail(tokens.status());
  absl::StatusOr<std::string> link_key = EnsureLinkKey(**store);
  if (!link_key.ok()) return Fail(link_key.status());
  const LinkTokens links(*std::move(link_key));

  SystemClock clock;
  EventHub events;
  CoreDeps deps{**store, clock, **renderer, *org, metrics, &events};
  MessageDrafter drafter(**renderer, *org);
  DeliveryPlanner planner(deps, drafter);
  Escalator escalator(deps, planner);
  CadenceKeeper cadence(deps, drafter, planner);
  MaintenanceScheduler maintenance(deps, drafter, planner);
  AffectedCustomers affected(deps);
  Aftercare aftercare(deps, affected, planner);
  FollowUps follow_ups(deps, drafter, planner, links);
  JobRunner jobs(deps, escalator, cadence, maintenance, aftercare, follow_ups);
  RotaOverrides overrides(deps);
  AlertIntake intake(deps, drafter, planner, escalator, cadence);
  CommsWorkflow workflow(deps, drafter, planner, cadence, aftercare);
  IncidentQueries queries(deps, planner, aftercare);
  SubscriberDirectory subscribers(deps);
  StatusPage status_page(deps);
  ConsoleSessions console_sessions(clock, absl::Hours(8));
  Authorizer authorizer(
      *org, *std::move(tokens),
      [&console_sessions](absl::string_view secret) -> std::optional<Caller> {
        std::optional<ConsoleSessions::Session> session =
            console_sessions.Find(secret);
        if (!session) return std::nullopt;
        return session->caller;
      });

  absl::StatusOr<std::vector<std::string>> sms_secrets =
      ReadSmsGatewaySecrets(config.delivery().sms_gateway());
  if (!sms_secrets.ok()) return Fail(sms_secrets.status());
  const DeliverySettings& tuning = (*org)->delivery();
  for (const std::string& deprecation : tuning.deprecations) {
    LogWarn("the config uses a deprecated setting", {{"what", deprecation}});
  }
  SmtpChannel smtp(
      SmtpOptions{config.smtp().url(), config.smtp().from(), server.page_name(),
                  config.smtp().username(), smtp_password,
                  absl::Seconds(config.smtp().timeout_seconds())},
      clock);
  HttpChannel http_channel(HttpChannelOptions{tuning.http_timeout}, clock);
  // The SMS gateway serves every recipient: its outages are the channel's,
  // not a recipient's. (A Slack contact is the customer's own incoming
  // webhook URL, like a webhook.)
  HttpChannel provider_channel(
      HttpChannelOptions{.timeout = tuning.http_timeout,
                         .shared_endpoint = true},
      clock);
  DeliveryComposer composer(
      drafter, *org,
      ComposerOptions{server.public_url(),
                      config.delivery().sms_gateway().url(),
                      *std::move(sms_secrets), &links});
  std::mt19937_64 rng{std::random_device{}()};
  absl::Mutex rng_mu;
  DeliveryOutbox outbox(
      OutboxDeps{**store,
                 clock,
                 composer,
                 {{v1::CHANNEL_KIND_EMAIL, &smtp},
                  {v1::CHANNEL_KIND_WEBHOOK, &http_channel},
                  {v1::CHANNEL_KIND_SLACK, &http_channel},
                  {v1::CHANNEL_KIND_SMS, &provider_channel}},
                 metrics,
                 tuning,
                 [&] {
                   absl::MutexLock lock(&rng_mu);
                   return std::uniform_real_distribution<double>(0, 1)(rng);
                 },
                 &events,
                 ChannelHealthOptions{.probe_base = tuning.channel_probe_base,
                                      .probe_cap = tuning.channel_probe_cap,
                                      .patience = tuning.channel_patience}});
  if (absl::StatusOr<int> n = outbox.RecoverInterrupted(); !n.ok()) {
    return Fail(n.status());
  } else if (*n > 0) {
    LogWarn("requeued deliveries interrupted by a previous stop",
            {{"count", absl::StrCat(*n)}});
  }
  // Each worker claims its own batch; sends to slow receivers overlap.
  std::vector<std::unique_ptr<PeriodicRunner>> senders;
  for (int i = 0; i < tuning.workers; ++i) {
    senders.push_back(std::make_unique<PeriodicRunner>(
        absl::StrCat("outbox-", i), [&] { return outbox.RunOnce(); },
        absl::Milliseconds(500)));
  }
  IncidentGauges incident_gauges(deps);
  PeriodicRunner gauges(
      "gauges",
      [&]() -> absl::StatusOr<int> {
        if (absl::Status s = outbox.RefreshGauges(); !s.ok()) return s;
        if (absl::Status s = incident_gauges.Refresh(); !s.ok()) return s;
        return 0;
      },
      absl::Seconds(5));
  const auto wake_senders = [&] {
    for (auto& s : senders) s->Wake();
  };
  SubscriptionPortal portal(deps, drafter, links, wake_senders);
  PeriodicRunner job_runner(
      "jobs", [&] { return jobs.RunDueJobs(); }, absl::Seconds(1));
  // Pending subscribers whose confirmation link expired; a sweep, not a
  // durable job per subscriber, so it survives restarts by rereading.
  PeriodicRunner purge_pending(
      "purge-unconfirmed", [&] { return portal.PurgeUnconfirmed(); },
      absl::Minutes(10));

  ApiDeps api{authorizer,   workflow,    queries,     escalator, overrides,
              maintenance,  subscribers, affected,    aftercare, clock,
              wake_senders, &events,     store->get()};
  IncidentServiceImpl incident_service(api);
  MessageServiceImpl message_service(api);
  OnCallServiceImpl oncall_service(api);
  SubscriberServiceImpl subscriber_service(api);
  AftercareServiceImpl aftercare_service(api);
  AdminServiceImpl admin_service(api);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  std::shared_ptr<grpc::ServerCredentials> grpc_credentials =
      grpc::InsecureServerCredentials();
  if (tls->enabled()) {
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back(
        {tls->private_key_pem, tls->cert_chain_pem});
    grpc_credentials = grpc::SslServerCredentials(ssl);
  }
  builder.AddListeningPort(server.grpc_listen(), grpc_credentials, &grpc_port);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(server.max_request_bytes()));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             kGrpcMaxStreamsPerConnection);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, kGrpcMaxMetadataBytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             kGrpcMaxConnectionIdleMs);
  grpc::ResourceQuota grpc_quota("heraldd");
  grpc_quota.Resize(kGrpcMemoryQuotaBytes);
  builder.SetResourceQuota(grpc_quota);
  builder.RegisterService(&incident_service);
  builder.RegisterService(&message_service);
  builder.RegisterService(&oncall_service);
  builder.RegisterService(&subscriber_service);
  builder.RegisterService(&aftercare_service);
  builder.RegisterService(&admin_service);
  builder.experimental().SetInterceptorCreators(GrpcInterceptors(metrics));
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  if (grpc_server == nullptr || grpc_port == 0) {
    return Fail(absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", server.grpc_listen())));
  }
  // Not ready until everything serves (see below).
  grpc_server->GetHealthCheckService()->SetServingStatus(false);

  // The console calls the same gRPC services in-process, as the session.
  const ConsoleApi console_api(
      grpc_server->InProcessChannel(grpc::ChannelArguments()),
      authorizer.console_channel_key());
  const ConsoleDeps console{
      authorizer,     console_sessions, **renderer, server.page_name(),
      tls->enabled(), &console_api,     &events};
  // Ready from when everything below serves until the stop begins: the
  // store is open and migrated long before.
  std::atomic<bool> ready{false};
  HttpServer http(HttpDeps{
      intake, status_page, registry, metrics, Sha256Hex(*webhook_token),
      server.webhook_basic_username(),
      static_cast<size_t>(server.max_request_bytes()),
      server.max_inflight_webhooks(), [&ready] { return ready.load(); },
      /*io_threads=*/2, &portal, &follow_ups, tls->cert_chain_pem,
      tls->private_key_pem, &console,
      FitConnectionLimit(server.max_connections(), open_files),
      server.max_event_streams_per_session(),
      server.max_event_streams_per_person()});
  absl::StatusOr<int> http_port = http.Bind(server.http_listen());
  if (!http_port.ok()) return Fail(http_port.status());

  for (auto& s : senders) s->Start();
  gauges.Start();
  job_runner.Start();
  purge_pending.Start();
  http.Start();
  ready = true;
  grpc_server->GetHealthCheckService()->SetServingStatus(true);
  LogInfo("heraldd serving",
          {{"grpc", absl::StrCat(server.grpc_listen().substr(
                                     0, server.grpc_listen().rfind(':')),
                                 ":", grpc_port)},
           {"http", absl::StrCat(server.http_listen().substr(
                                     0, server.http_listen().rfind(':')),
                                 ":", *http_port)},
           {"data_dir", server.data_dir()},
           {"tls", tls->enabled() ? "on" : "off"},
           {"organisation", demo ? "embedded demo" : flags.config_path}});

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int received = 0;
  sigwait(&signals, &received);
  LogInfo("shutting down",
          {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
  // Probes see the stop first; then no new work is taken, what is in
  // flight finishes, and the sends under way complete or are left queued.
  ready = false;
  grpc_server->GetHealthCheckService()->SetServingStatus(false);
  outbox.StopSending();  // each worker's send under way still completes
  // HTTP first: the console's API calls in flight use the gRPC services.
  http.Stop();
  grpc_server->Shutdown(std::chrono::system_clock::now() +
                        std::chrono::seconds(10));
  purge_pending.Stop();
  job_runner.Stop();
  gauges.Stop();
  for (auto& s : senders) s->Stop();
  LogInfo("stopped");
  return 0;
}

}  // namespace
}  // namespace herald

int main(int argc, char** argv) {
  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  herald::Flags flags;
  CLI::App app{"heraldd: the herald incident-communication server"};
  app.add_option("--config", flags.config_path,
                 "YAML config file (default: the embedded demo organisation)")
      ->check(CLI::ExistingFile);
  app.add_option("--grpc-listen", flags.grpc_listen,
                 "gRPC address HOST:PORT (default 127.0.0.1:7601)");
  app.add_option("--http-listen", flags.http_listen,
                 "HTTP address HOST:PORT (default 127.0.0.1:7600)");
  app.add_option("--data-dir", flags.data_dir,
                 "Directory for the SQLite database (default ./.herald-data)");
  app.add_option("--webhook-token-file", flags.webhook_token_file,
                 "File holding the bearer credential Alertmanager must send");
  app.add_option("--log-level", flags.log_level, "debug, info, warn or error")
      ->capture_default_str();
  app.add_flag("--check-config", flags.check_config,
               "Check the config (and flags) and exit: 0 when heraldd would "
               "accept it, 1 with the bad field named otherwise");
  CLI11_PARSE(app, argc, argv);
  return herald::Run(flags);
}
