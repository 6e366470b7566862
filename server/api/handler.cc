#include "server/api/handler.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/api/grpc_call_observer.h"
#include "server/base/authorization_header.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"
#include "server/base/secret_token.h"
#include "server/core/paging.h"

namespace herald {

absl::StatusOr<Caller> Authenticate(grpc::CallbackServerContext* ctx,
                                    const ApiDeps& deps) {
  std::string token;
  auto header = ctx->client_metadata().find("authorization");
  if (header != ctx->client_metadata().end()) {
    const PresentedCredential cred = ParseAuthorizationHeader(
        absl::string_view(header->second.data(), header->second.size()));
    if (cred.scheme == PresentedCredential::Scheme::kBearer)
      token = cred.secret;
  }
  // The console's in-process calls present its channel's key; only then
  // may the bearer be a console session's secret.
  std::string console_key;
  auto key = ctx->client_metadata().find(kConsoleKeyMetadata);
  if (key != ctx->client_metadata().end()) {
    console_key.assign(key->second.data(), key->second.size());
  }
  return deps.authorizer.Authenticate(token, console_key);
}

absl::StatusOr<Caller> AuthorizedCaller(grpc::CallbackServerContext* ctx,
                                        const ApiDeps& deps,
                                        Permission permission) {
  absl::StatusOr<Caller> caller = Authenticate(ctx, deps);
  if (!caller.ok()) return caller.status();
  if (absl::Status s = Authorizer::Authorize(*caller, permission); !s.ok()) {
    return s;
  }
  return caller;
}

void FinishRpc(grpc::ServerUnaryReactor* reactor, const absl::Status& status) {
  if (absl::IsInternal(status) || absl::IsUnavailable(status) ||
      absl::IsDataLoss(status)) {
    LogError("rpc failed", {{"error", status.ToString()}});
  }
  reactor->Finish(ToGrpcStatus(status));
}

absl::StatusOr<int64_t> IncidentId(const std::string& ref) {
  if (ref.empty())
    return absl::InvalidArgumentError("incident: required, e.g. INC-12");
  absl::StatusOr<int64_t> id = ParseRef("INC", ref);
  if (!id.ok())
    return absl::InvalidArgumentError(
        absl::StrCat("incident: ", id.status().message()));
  return id;
}

absl::StatusOr<int64_t> MessageId(const std::string& ref) {
  if (ref.empty())
    return absl::InvalidArgumentError("message: required, e.g. MSG-40");
  absl::StatusOr<int64_t> id = ParseRef("MSG", ref);
  if (!id.ok())
    return absl::InvalidArgumentError(
        absl::StrCat("message: ", id.status().message()));
  return id;
}

grpc::Status ToGrpcStatus(const absl::Status& s) {
  // absl and gRPC share their code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

}  // namespace herald
