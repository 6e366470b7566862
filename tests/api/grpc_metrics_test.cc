// Every gRPC call is counted by method and status code and timed, with a
// bounded label set.
#include "server/api/grpc_metrics.h"

#include <future>

#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "tests/testing/grpc_harness.h"

namespace herald {
namespace {

using testing::GrpcHarness;
using testing::TokenFor;

grpc::Status ListIncidents(GrpcHarness& h, const std::string& token) {
  auto stub = v1::IncidentService::NewStub(h.channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  v1::ListIncidentsResponse resp;
  return stub->ListIncidents(&ctx, v1::ListIncidentsRequest(), &resp);
}

double Calls(GrpcHarness& h, const std::string& method,
             const std::string& code) {
  return h.core.metrics.grpc_requests.Add({{"method", method}, {"code", code}})
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
    return h.core.metrics.grpc_request_duration_seconds
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

}  // namespace
}  // namespace herald
