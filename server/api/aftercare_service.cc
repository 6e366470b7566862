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
#include "server/wire/wire_views.h"

namespace herald {

grpc::ServerUnaryReactor* AftercareServiceImpl::ListAmends(
    grpc::CallbackServerContext* ctx, const v1::ListAmendsRequest* req,
    v1::ListAmendsResponse* resp) {
  return Handle(ctx, deps_, Permission::kManageSubscribers,
                [&](const Caller&) -> absl::Status {
                  absl::StatusOr<int64_t> id = IncidentId(req->incident());
                  if (!id.ok()) return id.status();
                  auto list = deps_.aftercare.ListAmends(
                      *id, {req->page_size(), req->page_token()});
                  if (!list.ok()) return list.status();
                  *resp = ToListAmendsResponse(*std::move(list));
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* AftercareServiceImpl::ApproveCredits(
    grpc::CallbackServerContext* ctx, const v1::ApproveCreditsRequest* req,
    v1::ApproveCreditsResponse* resp) {
  return Handle(ctx, deps_, Permission::kApproveCredits,
                [&](const Caller& caller) -> absl::Status {
                  absl::StatusOr<int64_t> id = IncidentId(req->incident());
                  if (!id.ok()) return id.status();
                  auto approved = deps_.aftercare.ApproveCredits(caller, *id);
                  if (!approved.ok()) return approved.status();
                  *resp = ToApproveCreditsResponse(*std::move(approved));
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* AftercareServiceImpl::AttachPostmortem(
    grpc::CallbackServerContext* ctx, const v1::AttachPostmortemRequest* req,
    v1::AttachPostmortemResponse* resp) {
  return Handle(ctx, deps_, Permission::kPublishPostmortem,
                [&](const Caller& caller) -> absl::Status {
                  absl::StatusOr<int64_t> id = IncidentId(req->incident());
                  if (!id.ok()) return id.status();
                  auto incident = deps_.aftercare.AttachPostmortem(
                      caller, *id, req->summary());
                  if (!incident.ok()) return incident.status();
                  *resp->mutable_incident() = *std::move(incident);
                  return absl::OkStatus();
                });
}

}  // namespace herald
