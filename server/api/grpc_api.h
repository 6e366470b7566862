// GrpcApi: the six herald.v1 services over one ApiDeps, registered on a
// server together. heraldd and the test harnesses register the API through
// it, so a new service is added in one place. Thread-safe once registered.
#ifndef HERALD_SERVER_API_GRPC_API_H_
#define HERALD_SERVER_API_GRPC_API_H_

#include "grpcpp/grpcpp.h"
#include "server/api/grpc_services.h"

namespace herald {

class GrpcApi {
 public:
  explicit GrpcApi(ApiDeps deps)
      : deps_(std::move(deps)),
        incidents_(deps_),
        messages_(deps_),
        oncall_(deps_),
        subscribers_(deps_),
        aftercare_(deps_),
        admin_(deps_) {}
  GrpcApi(const GrpcApi&) = delete;
  GrpcApi& operator=(const GrpcApi&) = delete;

  // Registers every service on `builder`; this object must outlive the
  // server built from it.
  void RegisterOn(grpc::ServerBuilder& builder) {
    builder.RegisterService(&incidents_);
    builder.RegisterService(&messages_);
    builder.RegisterService(&oncall_);
    builder.RegisterService(&subscribers_);
    builder.RegisterService(&aftercare_);
    builder.RegisterService(&admin_);
  }

 private:
  const ApiDeps deps_;
  IncidentServiceImpl incidents_;
  MessageServiceImpl messages_;
  OnCallServiceImpl oncall_;
  SubscriberServiceImpl subscribers_;
  AftercareServiceImpl aftercare_;
  AdminServiceImpl admin_;
};

}  // namespace herald

#endif  // HERALD_SERVER_API_GRPC_API_H_
