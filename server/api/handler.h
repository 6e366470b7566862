// What every herald.v1 service method does first and last: authenticate
// the caller, check the permission, run the call (waiting for no commit on
// an RPC thread) and map the absl::Status onto gRPC. Shared by the
// *_service.cc files; thread-safe.
#ifndef HERALD_SERVER_API_HANDLER_H_
#define HERALD_SERVER_API_HANDLER_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "server/api/grpc_call_observer.h"
#include "server/api/grpc_services.h"
#include "server/base/log.h"

namespace herald {

// The caller behind the request's bearer token.
absl::StatusOr<Caller> Authenticate(grpc::CallbackServerContext* ctx,
                                    const ApiDeps& deps);

// The caller, if authenticated and holding `permission`.
absl::StatusOr<Caller> AuthorizedCaller(grpc::CallbackServerContext* ctx,
                                        const ApiDeps& deps,
                                        Permission permission);

// Finishes a unary RPC with `status`, logging the failures that are ours.
void FinishRpc(grpc::ServerUnaryReactor* reactor, const absl::Status& status);

// Runs `fn` with the authorized caller and a `finish` to call exactly once,
// from any thread (the store's writer thread, typically), so that no RPC
// thread need wait for a commit. Both log under the call's request id.
template <typename Fn>
grpc::ServerUnaryReactor* HandleAsync(grpc::CallbackServerContext* ctx,
                                      const ApiDeps& deps,
                                      Permission permission, Fn fn) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  const ScopedRequestId scope(RequestIdOf(*ctx));
  auto finish = [reactor,
                 request_id = CurrentRequestId()](const absl::Status& s) {
    const ScopedRequestId scope(request_id);
    FinishRpc(reactor, s);
  };
  absl::StatusOr<Caller> caller = AuthorizedCaller(ctx, deps, permission);
  if (!caller.ok()) {
    finish(caller.status());
    return reactor;
  }
  fn(*caller, std::move(finish));
  return reactor;
}

// HandleAsync for calls that finish before returning: `fn` returns the
// outcome.
template <typename Fn>
grpc::ServerUnaryReactor* Handle(grpc::CallbackServerContext* ctx,
                                 const ApiDeps& deps, Permission permission,
                                 Fn fn) {
  return HandleAsync(
      ctx, deps, permission,
      [&fn](const Caller& caller, auto finish) { finish(fn(caller)); });
}

// The id an incident reference ("INC-12") names; InvalidArgument names the
// `incident` field otherwise.
absl::StatusOr<int64_t> IncidentId(const std::string& ref);

// The id a message reference ("MSG-40") names; InvalidArgument names the
// `message` field otherwise.
absl::StatusOr<int64_t> MessageId(const std::string& ref);

// Finishes a stream at once with `status`.
template <typename T>
class RefusedStream final : public grpc::ServerWriteReactor<T> {
 public:
  explicit RefusedStream(const absl::Status& status) {
    this->Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace herald

#endif  // HERALD_SERVER_API_HANDLER_H_
