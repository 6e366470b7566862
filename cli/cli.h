// The `herald` command line: parses arguments, calls the herald.v1 services
// through their generated StubInterfaces (so tests can hand in fakes), and
// prints a table or, with `-o json`, the protobuf JSON mapping of the
// response. Errors are one line on `err` with a non-zero exit code.
#ifndef HERALD_CLI_CLI_H_
#define HERALD_CLI_CLI_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "herald/v1/herald.grpc.pb.h"

namespace herald::cli {

struct ConnectOptions {
  std::string server;  // HOST:PORT
  std::string token;
  // PEM file of the CA that signed heraldd's certificate; set: TLS.
  std::string ca_cert_file;
};

// The stubs one invocation uses. Owned by the caller of RunCli's connector.
struct Stubs {
  std::unique_ptr<v1::IncidentService::StubInterface> incidents;
  std::unique_ptr<v1::MessageService::StubInterface> messages;
  std::unique_ptr<v1::OnCallService::StubInterface> oncall;
  std::unique_ptr<v1::SubscriberService::StubInterface> subscribers;
  std::unique_ptr<v1::AftercareService::StubInterface> aftercare;
  std::unique_ptr<v1::AdminService::StubInterface> admin;
  std::unique_ptr<grpc::health::v1::Health::StubInterface> health;
};

using Connector = std::function<Stubs(const ConnectOptions&)>;

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  // the server refused or failed
inline constexpr int kExitUsage = 2;  // bad arguments

// Runs one command. `env` looks up environment variables (HERALD_SERVER,
// HERALD_TOKEN, HERALD_CA_CERT); `connect` is only called once arguments
// are valid.
// `now` is when the command runs: `--at 8h` counts from it.
int Run(int argc, const char* const* argv, const Connector& connect,
        const std::function<std::string(const char*)>& env, std::ostream& out,
        std::ostream& err, absl::Time now = absl::Now());

// A connector for real gRPC channels: TLS verified against `ca_cert_file`
// when it is set, plain text otherwise.
Connector GrpcConnector();

}  // namespace herald::cli

#endif  // HERALD_CLI_CLI_H_
