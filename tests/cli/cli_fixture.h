// The CLI's commands against a real in-process server.
#ifndef HERALD_TESTS_CLI_CLI_FIXTURE_H_
#define HERALD_TESTS_CLI_CLI_FIXTURE_H_

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_format.h"
#include "cli/cli.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/grpc_harness.h"

namespace herald::cli {
// Named, not anonymous: the fixture is one type in every file.
namespace cli_testing {

using herald::testing::FiringGroup;
using herald::testing::GrpcHarness;
using herald::testing::TokenFor;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class CliTest : public ::testing::Test {
 protected:
  struct Outcome {
    int code;
    std::string out, err;
  };

  Outcome Run(std::vector<std::string> args,
              const std::string& person = "alice") {
    args.insert(args.begin(), "herald");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    Connector connect = [this](const ConnectOptions& o) {
      EXPECT_EQ(o.server, h_.address());
      Stubs s;
      s.incidents = v1::IncidentService::NewStub(h_.channel);
      s.messages = v1::MessageService::NewStub(h_.channel);
      s.oncall = v1::OnCallService::NewStub(h_.channel);
      s.subscribers = v1::SubscriberService::NewStub(h_.channel);
      s.aftercare = v1::AftercareService::NewStub(h_.channel);
      s.admin = v1::AdminService::NewStub(h_.channel);
      s.health = grpc::health::v1::Health::NewStub(h_.channel);
      return s;
    };
    auto env = [&](const char* name) -> std::string {
      if (std::string(name) == "HERALD_SERVER") return h_.address();
      if (std::string(name) == "HERALD_TOKEN")
        return person.empty() ? "" : TokenFor(person);
      if (std::string(name) == "EDITOR") return editor_;
      return "";
    };
    const int code = cli::Run(static_cast<int>(argv.size()), argv.data(),
                              connect, env, out, err);
    return {code, out.str(), err.str()};
  }

  std::string OpenIncident() {
    return h_.core.queries
        .GetIncident(
            h_.core.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))
                ->incident_id)
        ->incident.ref();
  }

  // The draft an update on a fresh incident makes; returns its ref.
  std::string Draft() {
    return DraftRef(
        Run({"update", OpenIncident(), "rolled back, errors falling"}));
  }
  static std::string DraftRef(const Outcome& update) {
    EXPECT_EQ(update.code, kExitOk) << update.err;
    std::smatch ref;
    EXPECT_TRUE(std::regex_search(update.out, ref, std::regex("MSG-[0-9]+")));
    return ref.empty() ? "" : ref.str();
  }

  GrpcHarness h_;
  std::string editor_;  // $EDITOR as the CLI sees it
};

}  // namespace cli_testing
}  // namespace herald::cli

#endif  // HERALD_TESTS_CLI_CLI_FIXTURE_H_
