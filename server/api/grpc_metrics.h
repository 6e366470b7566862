// A gRPC server interceptor that counts every finished call by method and
// status code and times it (herald_grpc_requests_total,
// herald_grpc_request_duration_seconds). A method no linked-in service
// defines is labelled "unknown", so the label set stays bounded.
// Thread-safe.
#ifndef HERALD_SERVER_API_GRPC_METRICS_H_
#define HERALD_SERVER_API_GRPC_METRICS_H_

#include <memory>
#include <vector>

#include "grpcpp/support/server_interceptor.h"
#include "server/core/metrics.h"

namespace herald {

class GrpcMetricsFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GrpcMetricsFactory(HeraldMetrics& metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  HeraldMetrics& metrics_;
};

// The interceptor creators a grpc::ServerBuilder takes, with the metrics
// one.
std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
GrpcInterceptors(HeraldMetrics& metrics);

}  // namespace herald

#endif  // HERALD_SERVER_API_GRPC_METRICS_H_
