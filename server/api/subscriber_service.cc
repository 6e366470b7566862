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

grpc::ServerUnaryReactor* SubscriberServiceImpl::AddSubscriber(
    grpc::CallbackServerContext* ctx, const v1::AddSubscriberRequest* req,
    v1::AddSubscriberResponse* resp) {
  return Handle(ctx, deps_, Permission::kManageSubscribers,
                [&](const Caller& caller) -> absl::Status {
                  auto added = deps_.subscribers.Add(caller, req->subscriber());
                  if (!added.ok()) return added.status();
                  *resp->mutable_subscriber() = *std::move(added);
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* SubscriberServiceImpl::ListSubscribers(
    grpc::CallbackServerContext* ctx, const v1::ListSubscribersRequest* req,
    v1::ListSubscribersResponse* resp) {
  return Handle(ctx, deps_, Permission::kManageSubscribers,
                [&](const Caller&) -> absl::Status {
                  auto page = deps_.subscribers.List(
                      {.component_id = req->component(),
                       .include_unsubscribed = req->include_unsubscribed()},
                      {req->page_size(), req->page_token()});
                  if (!page.ok()) return page.status();
                  for (auto& s : page->items) {
                    *resp->add_subscribers() = std::move(s);
                  }
                  resp->set_next_page_token(std::move(page->next_page_token));
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* SubscriberServiceImpl::ListAffectedCustomers(
    grpc::CallbackServerContext* ctx,
    const v1::ListAffectedCustomersRequest* req,
    v1::ListAffectedCustomersResponse* resp) {
  return Handle(
      ctx, deps_, Permission::kManageSubscribers,
      [&](const Caller&) -> absl::Status {
        absl::StatusOr<int64_t> id = IncidentId(req->incident());
        if (!id.ok()) return id.status();
        auto list = deps_.affected.ForIncident(*id);
        if (!list.ok()) return list.status();
        auto page = SlicePage(
            *std::move(list), {req->page_size(), req->page_token()},
            [](const v1::AffectedCustomer& c) { return c.subscriber().id(); });
        if (!page.ok()) return page.status();
        for (auto& c : page->items) {
          *c.mutable_subscriber() =
              WithoutSecrets(std::move(*c.mutable_subscriber()));
          *resp->add_customers() = std::move(c);
        }
        resp->set_next_page_token(std::move(page->next_page_token));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SubscriberServiceImpl::RemoveSubscriber(
    grpc::CallbackServerContext* ctx, const v1::RemoveSubscriberRequest* req,
    v1::RemoveSubscriberResponse* resp) {
  return Handle(ctx, deps_, Permission::kManageSubscribers,
                [&](const Caller& caller) -> absl::Status {
                  if (req->id().empty()) {
                    return absl::InvalidArgumentError("id: required");
                  }
                  auto removed = deps_.subscribers.Remove(caller, req->id());
                  if (!removed.ok()) return removed.status();
                  *resp->mutable_subscriber() = *std::move(removed);
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* SubscriberServiceImpl::ImportSubscribers(
    grpc::CallbackServerContext* ctx, const v1::ImportSubscribersRequest* req,
    v1::ImportSubscribersResponse* resp) {
  return Handle(
      ctx, deps_, Permission::kManageSubscribers,
      [&](const Caller& caller) -> absl::Status {
        auto imported = deps_.subscribers.Import(
            caller, {req->subscribers().begin(), req->subscribers().end()},
            {req->sources().begin(), req->sources().end()});
        if (!imported.ok()) return imported.status();
        resp->set_added(imported->added);
        resp->set_updated(imported->updated);
        resp->set_skipped_unsubscribed(imported->skipped_unsubscribed);
        return absl::OkStatus();
      });
}

}  // namespace herald
