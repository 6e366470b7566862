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
#include "server/api/grpc_services.h"
#include "server/api/handler.h"
#include "server/base/authorization_header.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"
#include "server/base/secret_token.h"
#include "server/core/paging.h"

namespace herald {

grpc::ServerUnaryReactor* OnCallServiceImpl::GetOnCall(
    grpc::CallbackServerContext* ctx, const v1::GetOnCallRequest* req,
    v1::GetOnCallResponse* resp) {
  return Handle(
      ctx, deps_, Permission::kRead, [&](const Caller&) -> absl::Status {
        const absl::Time at =
            req->has_at() ? FromProtoTime(req->at()) : deps_.clock.Now();
        auto list = deps_.queries.OnCall(req->component(), at);
        if (!list.ok()) return list.status();
        for (auto& a : *list) *resp->add_assignments() = std::move(a);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* OnCallServiceImpl::CreateOverride(
    grpc::CallbackServerContext* ctx, const v1::CreateOverrideRequest* req,
    v1::CreateOverrideResponse* resp) {
  return Handle(ctx, deps_, Permission::kManageRota,
                [&](const Caller& caller) -> absl::Status {
                  v1::RotaOverride o;
                  o.set_rota_id(req->rota());
                  o.set_person_id(req->person());
                  if (req->has_starts_at()) {
                    *o.mutable_starts_at() = req->starts_at();
                  }
                  if (req->has_ends_at()) *o.mutable_ends_at() = req->ends_at();
                  o.set_reason(req->reason());
                  auto created = deps_.overrides.Create(caller, std::move(o));
                  if (!created.ok()) return created.status();
                  *resp->mutable_override() = *std::move(created);
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* OnCallServiceImpl::ListOverrides(
    grpc::CallbackServerContext* ctx, const v1::ListOverridesRequest* req,
    v1::ListOverridesResponse* resp) {
  return Handle(ctx, deps_, Permission::kRead,
                [&](const Caller&) -> absl::Status {
                  auto list = deps_.overrides.List(req->rota());
                  if (!list.ok()) return list.status();
                  for (auto& o : *list) *resp->add_overrides() = std::move(o);
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* OnCallServiceImpl::DeleteOverride(
    grpc::CallbackServerContext* ctx, const v1::DeleteOverrideRequest* req,
    v1::DeleteOverrideResponse*) {
  return Handle(ctx, deps_, Permission::kManageRota,
                [&](const Caller& caller) -> absl::Status {
                  if (req->id() <= 0) {
                    return absl::InvalidArgumentError("id: required");
                  }
                  return deps_.overrides.Delete(caller, req->id());
                });
}

}  // namespace herald
