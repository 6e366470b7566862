// GrpcHarness starts the test HeraldServer (CoreHarness) on 127.0.0.1 with
// free ports, gRPC and HTTP as heraldd serves them, and one known token per
// demo person, for API, console and CLI tests. Workers do not run; tests
// call the parts.
#ifndef HERALD_TESTS_TESTING_GRPC_HARNESS_H_
#define HERALD_TESTS_TESTING_GRPC_HARNESS_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/base/secret_token.h"
#include "server/http/console_sessions.h"
#include "tests/testing/harness.h"

namespace herald::testing {

// The token each demo person holds in tests: "token-<person id>".
inline std::string TokenFor(const std::string& person) {
  return "token-" + person;
}

// The demo organisation, listening on free local ports, with TokenFor's
// tokens.
inline v1::Config ServingConfig() {
  v1::Config config = DefaultConfig();
  v1::ServerConfig& server = *config.mutable_server();
  server.set_grpc_listen("127.0.0.1:0");
  server.set_http_listen("127.0.0.1:0");
  for (v1::PersonConfig& p : *config.mutable_people()) {
    p.set_token_sha256(Sha256Hex(TokenFor(p.id())));
  }
  return config;
}

struct GrpcHarness {
  GrpcHarness()
      : core(NewMemoryStore(), ServingConfig()),
        sessions(core.server->sessions()),
        authorizer(core.server->authorizer()) {
    if (absl::Status s = core.server->Start(); !s.ok()) {
      std::fprintf(stderr, "test server: %s\n",
                   std::string(s.message()).c_str());
      std::abort();
    }
    server = core.server->grpc_server();
    port = core.server->grpc_port();
    channel =
        grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  }
  // Cancels what is still running (watch streams), as heraldd does.
  ~GrpcHarness() { core.server->Shutdown(); }

  std::string address() const { return absl::StrCat("127.0.0.1:", port); }
  int http_port() const { return core.server->http_port(); }

  CoreHarness core;
  ConsoleSessions& sessions;  // the web console's
  const Authorizer& authorizer;
  grpc::Server* server = nullptr;
  int port = 0;
  std::shared_ptr<grpc::Channel> channel;
};

}  // namespace herald::testing

#endif  // HERALD_TESTS_TESTING_GRPC_HARNESS_H_
