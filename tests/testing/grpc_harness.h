// GrpcHarness runs herald's gRPC services in-process on 127.0.0.1:0 over a
// CoreHarness, with one known token per demo person, for API and CLI tests.
#ifndef HERALD_TESTS_TESTING_GRPC_HARNESS_H_
#define HERALD_TESTS_TESTING_GRPC_HARNESS_H_

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/api/grpc_call_observer.h"
#include "server/api/grpc_services.h"
#include "server/core/console_sessions.h"
#include "server/core/secret_token.h"
#include "tests/testing/harness.h"

namespace herald::testing {

// The token each demo person holds in tests: "token-<person id>".
inline std::string TokenFor(const std::string& person) {
  return "token-" + person;
}

struct GrpcHarness {
  GrpcHarness()
      : authorizer(
            core.org,
            [&] {
              std::vector<Authorizer::TokenHash> tokens;
              for (const auto& p : core.org->config().people()) {
                tokens.push_back({Sha256Hex(TokenFor(p.id())), p.id()});
              }
              return tokens;
            }(),
            [this](absl::string_view secret) -> std::optional<Caller> {
              auto session = sessions.Find(secret);
              if (!session) return std::nullopt;
              return session->caller;
            }),
        api{authorizer,       core.workflow,           core.queries,
            core.escalator,   core.overrides,          core.maintenance,
            core.subscribers, core.affected,           core.aftercare,
            core.clock,       [this] { ++published; }, &core.events,
            core.store.get()},
        incidents(api),
        messages(api),
        oncall(api),
        subscribers(api),
        aftercare(api),
        admin(api) {
    grpc::EnableDefaultHealthCheckService(true);  // as heraldd
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&incidents);
    builder.RegisterService(&messages);
    builder.RegisterService(&oncall);
    builder.RegisterService(&subscribers);
    builder.RegisterService(&aftercare);
    builder.RegisterService(&admin);
    builder.experimental().SetInterceptorCreators(
        GrpcInterceptors(core.metrics));
    server = builder.BuildAndStart();
    channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                  grpc::InsecureChannelCredentials());
  }
  // Cancels what is still running (watch streams), as heraldd does.
  ~GrpcHarness() { server->Shutdown(std::chrono::system_clock::now()); }

  std::string address() const { return absl::StrCat("127.0.0.1:", port); }

  CoreHarness core;
  ConsoleSessions sessions{core.clock, absl::Hours(8)};  // the web console's
  Authorizer authorizer;
  ApiDeps api;
  IncidentServiceImpl incidents;
  MessageServiceImpl messages;
  OnCallServiceImpl oncall;
  SubscriberServiceImpl subscribers;
  AftercareServiceImpl aftercare;
  AdminServiceImpl admin;
  int port = 0;
  int published = 0;
  std::unique_ptr<grpc::Server> server;
  std::shared_ptr<grpc::Channel> channel;
};

}  // namespace herald::testing

#endif  // HERALD_TESTS_TESTING_GRPC_HARNESS_H_
