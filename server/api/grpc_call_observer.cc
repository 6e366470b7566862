#include "server/api/grpc_call_observer.h"

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "server/base/log.h"

namespace herald {

namespace {

using grpc::experimental::InterceptionHookPoints;

class GrpcCallObserver final : public grpc::experimental::Interceptor {
 public:
  GrpcCallObserver(GrpcMetrics& metrics, std::string method, LogLevel log_level)
      : metrics_(metrics),
        method_(std::move(method)),
        log_level_(log_level),
        start_(absl::Now()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      NameCall(*methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace(kRequestIdMetadata,
                                                 request_id_);
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unreadable_request_ = true;
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (unreadable_request_ && !status.ok()) {
        // gRPC answers a request protobuf cannot parse with a bare
        // UNIMPLEMENTED; the fault is the caller's: most often a string
        // that is not UTF-8.
        status = grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("the request is not a valid ", method_,
                         " request: every text field must be valid UTF-8"));
        methods->ModifySendStatus(status);
      }
      Finished(status);
    }
    methods->Proceed();
  }

 private:
  // Replaces whatever the client sent as x-request-id with the accepted id.
  // The map is the server context's own, so handlers see the same id; its
  // string_refs point into this interceptor, which outlives the call.
  void NameCall(std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
    auto presented = metadata.find(kRequestIdMetadata);
    request_id_ =
        AcceptRequestId(presented == metadata.end()
                            ? absl::string_view()
                            : absl::string_view(presented->second.data(),
                                                presented->second.size()));
    metadata.erase(kRequestIdMetadata);
    metadata.emplace(kRequestIdMetadata, request_id_);
  }

  void Finished(const grpc::Status& status) {
    const absl::Duration took = absl::Now() - start_;
    const std::string code = absl::StatusCodeToString(
        static_cast<absl::StatusCode>(status.error_code()));
    metrics_.CallFinished(method_, code, took);
    if (request_id_.empty()) request_id_ = NewRequestId();  // no metadata seen
    const ScopedRequestId scope(request_id_);
    Log(log_level_, "rpc",
        {{"method", method_},
         {"code", code},
         {"duration_ms", absl::StrCat(absl::ToInt64Milliseconds(took))}});
  }

  GrpcMetrics& metrics_;
  const std::string method_;
  const LogLevel log_level_;
  const absl::Time start_;
  std::string request_id_;
  bool unreadable_request_ = false;  // the request did not parse
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

grpc::experimental::Interceptor*
GrpcCallObserverFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  const bool health_check =
      info->method() != nullptr &&
      absl::StartsWith(info->method(), "/grpc.health.v1.Health/");
  return new GrpcCallObserver(
      metrics_, MethodLabel(info->method()),
      health_check ? LogLevel::kDebug : LogLevel::kInfo);
}

std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
GrpcInterceptors(GrpcMetrics& metrics) {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      out;
  out.push_back(std::make_unique<GrpcCallObserverFactory>(metrics));
  return out;
}

std::string RequestIdOf(const grpc::ServerContextBase& ctx) {
  auto id = ctx.client_metadata().find(kRequestIdMetadata);
  if (id == ctx.client_metadata().end()) return NewRequestId();
  return std::string(id->second.data(), id->second.size());
}

}  // namespace herald
