// A gRPC server interceptor that observes every call:
// - names it with a request id: the client's `x-request-id` metadata when
//   usable (see AcceptRequestId), a fresh one otherwise. Handlers read it
//   with RequestIdOf(); the reply's initial metadata carries it back.
// - counts it by method and status code and times it
//   (herald_grpc_requests_total, herald_grpc_request_duration_seconds). A
//   method no linked-in service defines is labelled "unknown", so the label
//   set stays bounded.
// - logs one line when it finishes: method, code, duration and request id
//   (info; debug for health checks, which probes make every few seconds).
// Thread-safe.
#ifndef HERALD_SERVER_API_GRPC_CALL_OBSERVER_H_
#define HERALD_SERVER_API_GRPC_CALL_OBSERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"
#include "server/api/grpc_metrics.h"

namespace herald {

inline constexpr char kRequestIdMetadata[] = "x-request-id";

class GrpcCallObserverFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GrpcCallObserverFactory(GrpcMetrics& metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  GrpcMetrics& metrics_;
};

// The interceptor creators a grpc::ServerBuilder takes: the call observer.
std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
GrpcInterceptors(GrpcMetrics& metrics);

// The request id the observer gave this call; a fresh one on a server
// without the observer.
std::string RequestIdOf(const grpc::ServerContextBase& ctx);

}  // namespace herald

#endif  // HERALD_SERVER_API_GRPC_CALL_OBSERVER_H_
