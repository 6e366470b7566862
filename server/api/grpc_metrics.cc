#include "server/api/grpc_metrics.h"

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"

namespace herald {
namespace {

class GrpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  GrpcMetricsInterceptor(HeraldMetrics& metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)), start_(absl::Now()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      metrics_.GrpcCallFinished(
          method_,
          absl::StatusCodeToString(
              static_cast<absl::StatusCode>(status.error_code())),
          absl::Now() - start_);
    }
    methods->Proceed();
  }

 private:
  HeraldMetrics& metrics_;
  const std::string method_;
  const absl::Time start_;
};

}  // namespace

// "/herald.v1.IncidentService/PostUpdate" as it came, when a linked-in
// service defines it; "unknown" otherwise, so that made-up method names
// cannot grow the label set.
std::string MethodLabel(const char* method) {
  std::string full = method == nullptr ? "" : method;
  std::string dotted = full.size() > 1 ? full.substr(1) : "";
  std::replace(dotted.begin(), dotted.end(), '/', '.');
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
             dotted) != nullptr
             ? full
             : "unknown";
}

grpc::experimental::Interceptor* GrpcMetricsFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new GrpcMetricsInterceptor(metrics_, MethodLabel(info->method()));
}

std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
GrpcInterceptors(HeraldMetrics& metrics) {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      out;
  out.push_back(std::make_unique<GrpcMetricsFactory>(metrics));
  return out;
}

}  // namespace herald
