// heraldd: parses flags and config, then builds, starts and stops one
// HeraldServer (server/app/). Wiring lives there, behaviour in the libraries.
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "server/app/herald_server.h"
#include "server/app/migrate_store_command.h"
#include "server/app/process.h"
#include "server/base/log.h"
#include "server/config/config_loader.h"

namespace herald {
namespace {

struct Flags {
  std::string config_path;
  std::string grpc_listen;
  std::string http_listen;
  std::string data_dir;
  std::string store;
  std::string webhook_token_file;
  std::string log_level = "info";
  bool check_config = false;
};

int Fail(const absl::Status& s) {
  std::cerr << "heraldd: " << s.message() << "\n";
  return 1;
}

int Run(const Flags& flags) {
  LogLevel level;
  if (!ParseLogLevel(flags.log_level, &level)) {
    return Fail(absl::InvalidArgumentError(
        "--log-level: expected debug, info, warn or error"));
  }
  SetLogLevel(level);
  const bool demo = flags.config_path.empty();
  ServerOptions options{
      .config_source = demo ? "<embedded default config>" : flags.config_path,
      .demo = demo};
  absl::StatusOr<v1::Config> config =
      demo ? DefaultConfig() : LoadConfigFile(flags.config_path);
  if (!config.ok()) return Fail(config.status());
  options.config = *std::move(config);
  v1::ServerConfig& server = *options.config.mutable_server();
  if (!flags.grpc_listen.empty()) server.set_grpc_listen(flags.grpc_listen);
  if (!flags.http_listen.empty()) server.set_http_listen(flags.http_listen);
  if (!flags.data_dir.empty()) server.set_data_dir(flags.data_dir);
  if (flags.store == "sqlite") {
    options.config.clear_store();
  } else if (!flags.store.empty()) {
    options.config.mutable_store()->mutable_postgres()->set_dsn(flags.store);
  }
  if (!flags.webhook_token_file.empty())
    server.set_webhook_token_file(flags.webhook_token_file);
  if (flags.check_config) {
    absl::StatusOr<std::string> summary =
        CheckConfig(options.config, options.config_source);
    if (!summary.ok()) return Fail(summary.status());
    std::cout << *summary << "\n";
    return 0;
  }

  options.open_file_limit = RaiseOpenFileLimit();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  absl::StatusOr<std::unique_ptr<HeraldServer>> herald =
      HeraldServer::Create(std::move(options), Platform::Production());
  if (!herald.ok()) return Fail(herald.status());
  if (absl::Status s = (*herald)->Start(); !s.ok()) return Fail(s);
  LogInfo("shutting down", {{"signal", WaitForStopSignal()}});
  (*herald)->Shutdown();
  LogInfo("stopped");
  return 0;
}

}  // namespace
}  // namespace herald

int main(int argc, char** argv) {
  herald::BlockStopSignals();  // every thread; the main thread waits for them
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
  app.add_option("--store", flags.store,
                 "sqlite (in --data-dir), or a PostgreSQL DSN such as "
                 "postgresql://herald@db/herald: the database several heraldd "
                 "share (overrides the config's store)");
  app.add_option("--webhook-token-file", flags.webhook_token_file,
                 "File holding the bearer credential Alertmanager must send");
  app.add_option("--log-level", flags.log_level, "debug, info, warn or error")
      ->capture_default_str();
  app.add_flag("--check-config", flags.check_config,
               "Check the config (and flags) and exit: 0 when heraldd would "
               "accept it, 1 with the bad field named otherwise");
  herald::MigrateStoreFlags migrate;
  CLI::App* migrate_store = app.add_subcommand(
      "migrate-store",
      "Copy a SQLite deployment's state into an empty PostgreSQL database, "
      "checking each table's row count; run it with heraldd stopped");
  migrate_store
      ->add_option("--from", migrate.from,
                   "The SQLite file: DATA_DIR/herald.db")
      ->required();
  migrate_store
      ->add_option("--to", migrate.to,
                   "The PostgreSQL DSN, e.g. postgresql://herald@db/herald")
      ->required();
  migrate_store->add_option("--password-file", migrate.password_file,
                            "File holding the PostgreSQL password");
  migrate_store->add_option("-o,--output", migrate.output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (migrate_store->parsed()) {
    return herald::RunMigrateStore(migrate, std::cout, std::cerr);
  }
  return herald::Run(flags);
}
