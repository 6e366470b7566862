// Every gRPC call is counted by method and status code and timed, with a
// bounded label set, and carries a request id into the logs and back to the
// client.
#include "server/api/grpc_call_observer.h"

#include <future>

#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "tests/testing/captured_logs.h"
#include "tests/testing/grpc_harness.h"

namespace herald {
namespace {

using testing::CapturedLogs;
using testing::GrpcHarness;
using ::testing::HasSubstr;
using testing::TokenFor;

// ListIncidents with `token`, sending `request_id` if not empty; the
// server's x-request-id goes to `*replied_id`.
grpc::Status ListIncidents(GrpcHarness& h, const std::string& token,
                           const std::string& request_id = "",
                           std::string* replied_id = nullptr) {
  auto stub = v1::IncidentService::NewStub(h.channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  if (!request_id.empty()) ctx.AddMetadata("x-request-id", request_id);
  v1::ListIncidentsResponse resp;
  grpc::Status status =
      stub->ListIncidents(&ctx, v1::ListIncidentsRequest(), &resp);
  if (replied_id != nullptr) {
    auto id = ctx.GetServerInitialMetadata().find("x-request-id");
    *replied_id = id == ctx.GetServerInitialMetadata().end()
                      ? ""
                      : std::string(id->second.data(), id->second.size());
  }
  return status;
}

double Calls(GrpcHarness& h, const std::string& method,
             const std::string& code) {
  return h.core.grpc_metrics.grpc_requests
      .Add({{"method", method}, {"code", code}})
      .Value();
}

TEST(GrpcMetricsTest, CallsAreCountedByMethodAndCodeAndTimed) {
  GrpcHarness h;
  const std::string method = "/herald.v1.IncidentService/ListIncidents";
  ASSERT_TRUE(ListIncidents(h, TokenFor("alice")).ok());
  ASSERT_TRUE(ListIncidents(h, TokenFor("carol")).ok());
  EXPECT_EQ(ListIncidents(h, "not-a-token").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Calls(h, method, "OK"), 2);
  EXPECT_EQ(Calls(h, method, "UNAUTHENTICATED"), 1);
  auto timed = [&](const std::string& code) {
    return h.core.grpc_metrics.grpc_request_duration_seconds
        .Add({{"method", method}, {"code", code}},
             prometheus::Histogram::BucketBoundaries{})
        .Collect()
        .histogram.sample_count;
  };
  EXPECT_EQ(timed("OK"), 2u);
  EXPECT_EQ(timed("UNAUTHENTICATED"), 1u);
}

TEST(GrpcMetricsTest, AMadeUpMethodIsCountedAsUnknown) {
  GrpcHarness h;
  grpc::GenericStub stub(h.channel);
  grpc::ClientContext ctx;
  grpc::Slice empty("", 0);
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/herald.v1.IncidentService/NoSuchMethod-12345",
                 grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(std::move(s)); });
  EXPECT_EQ(done.get_future().get().error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  for (const prometheus::MetricFamily& f : h.core.registry.Collect()) {
    if (f.name != "herald_grpc_requests_total") continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      for (const prometheus::ClientMetric::Label& l : m.label) {
        EXPECT_THAT(l.value, ::testing::Not(::testing::HasSubstr("12345")));
      }
    }
  }
}

// A client that sends a string that is not UTF-8 (another language's
// library may, and C++ serializes it with only a log line) gets
// INVALID_ARGUMENT saying so, not INTERNAL, and nothing reaches a handler.
TEST(GrpcCallObserverTest, ARequestThatIsNotUtf8IsAnInvalidArgument) {
  GrpcHarness h;
  ASSERT_TRUE(
      h.core.intake.Ingest(testing::FiringGroup("g1", "checkout", {"fp"}))
          .ok());
  auto stub = v1::IncidentService::NewStub(h.channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + TokenFor("alice"));
  v1::PostUpdateRequest req;
  req.set_incident("INC-1");
  req.set_text("rolled back \xff");
  v1::PostUpdateResponse resp;
  const grpc::Status status = stub->PostUpdate(&ctx, req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("UTF-8"));
  EXPECT_EQ(
      Calls(h, "/herald.v1.IncidentService/PostUpdate", "INVALID_ARGUMENT"), 1);
  EXPECT_EQ(h.core
                .Read<std::vector<v1::Update>>(
                    [](StoreReader& r) { return r.ListUpdates(1); })
                .size(),
            0u);
}

TEST(GrpcCallObserverTest, TheClientsRequestIdIsEchoedAndLoggedWithTheCall) {
  CapturedLogs logs;
  GrpcHarness h;
  std::string replied;
  ASSERT_TRUE(ListIncidents(h, TokenFor("alice"), "cli-42", &replied).ok());
  EXPECT_EQ(replied, "cli-42");
  const std::vector<std::string> lines = logs.Matching("request_id=cli-42");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("msg=rpc"));
  EXPECT_THAT(lines[0],
              HasSubstr("method=/herald.v1.IncidentService/ListIncidents"));
  EXPECT_THAT(lines[0], HasSubstr("code=OK"));
}

TEST(GrpcCallObserverTest, ACallWithoutAUsableIdGetsAFreshOneLoggedWithIt) {
  CapturedLogs logs;
  GrpcHarness h;
  std::string replied;
  ASSERT_EQ(ListIncidents(h, "wrong", "x y=forged", &replied).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(replied, ::testing::MatchesRegex("[0-9a-f]{16}"));
  const std::vector<std::string> lines = logs.Matching("request_id=" + replied);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("code=UNAUTHENTICATED"));
  EXPECT_THAT(logs.Matching("forged"), ::testing::IsEmpty());
  EXPECT_THAT(logs.Matching("wrong"), ::testing::IsEmpty());
}

}  // namespace
}  // namespace herald
