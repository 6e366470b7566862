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

grpc::ServerUnaryReactor* MessageServiceImpl::ListMessages(
    grpc::CallbackServerContext* ctx, const v1::ListMessagesRequest* req,
    v1::ListMessagesResponse* resp) {
  return Handle(
      ctx, deps_, Permission::kRead, [&](const Caller&) -> absl::Status {
        int64_t incident_id = 0;
        if (!req->incident().empty()) {
          absl::StatusOr<int64_t> id = IncidentId(req->incident());
          if (!id.ok()) return id.status();
          incident_id = *id;
        }
        std::vector<v1::MessageState> states;
        for (int s : req->states())
          states.push_back(static_cast<v1::MessageState>(s));
        auto page =
            deps_.queries.ListMessages(incident_id, std::move(states),
                                       {req->page_size(), req->page_token()});
        if (!page.ok()) return page.status();
        for (auto& m : page->items) *resp->add_messages() = std::move(m);
        resp->set_next_page_token(std::move(page->next_page_token));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MessageServiceImpl::ApproveMessage(
    grpc::CallbackServerContext* ctx, const v1::ApproveMessageRequest* req,
    v1::ApproveMessageResponse* resp) {
  return Handle(
      ctx, deps_, Permission::kApproveMessage,
      [&](const Caller& caller) -> absl::Status {
        absl::StatusOr<int64_t> id = MessageId(req->message());
        if (!id.ok()) return id.status();
        ApprovalChoice choice{.publish_as_written = req->publish_as_written()};
        // A maintenance announcement covers a handful of notices.
        constexpr int kMaxCovered = 16;
        if (req->covered_versions_size() > kMaxCovered) {
          return absl::InvalidArgumentError(
              absl::StrCat("covered_versions: at most ", kMaxCovered,
                           " notices, got ", req->covered_versions_size()));
        }
        if (!req->covered_versions().empty()) {
          choice.covered_versions.emplace(req->covered_versions().begin(),
                                          req->covered_versions().end());
        }
        auto published =
            deps_.workflow.Approve(caller, *id, req->version(), choice);
        if (!published.ok()) return published.status();
        LogInfo("message published",
                {{"message", published->message.ref()},
                 {"approver", caller.person_id},
                 {"deliveries", absl::StrCat(published->deliveries_enqueued)}});
        *resp->mutable_message() = std::move(published->message);
        resp->set_deliveries_enqueued(published->deliveries_enqueued);
        if (deps_.on_published) deps_.on_published();
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MessageServiceImpl::GetMessage(
    grpc::CallbackServerContext* ctx, const v1::GetMessageRequest* req,
    v1::GetMessageResponse* resp) {
  return Handle(ctx, deps_, Permission::kRead,
                [&](const Caller&) -> absl::Status {
                  absl::StatusOr<int64_t> id = MessageId(req->message());
                  if (!id.ok()) return id.status();
                  auto found = deps_.queries.GetMessage(*id);
                  if (!found.ok()) return found.status();
                  *resp = ToGetMessageResponse(*std::move(found));
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* MessageServiceImpl::EditMessage(
    grpc::CallbackServerContext* ctx, const v1::EditMessageRequest* req,
    v1::EditMessageResponse* resp) {
  return Handle(ctx, deps_, Permission::kEditMessage,
                [&](const Caller& caller) -> absl::Status {
                  absl::StatusOr<int64_t> id = MessageId(req->message());
                  if (!id.ok()) return id.status();
                  std::map<std::string, v1::ComponentStatus> statuses;
                  for (const auto& [c, st] : req->component_statuses()) {
                    statuses[c] = static_cast<v1::ComponentStatus>(st);
                  }
                  const std::map<std::string, v1::Translation> translations(
                      req->translations().begin(), req->translations().end());
                  auto edited = deps_.workflow.Edit(caller, *id, req->version(),
                                                    req->title(), req->body(),
                                                    statuses, translations);
                  if (!edited.ok()) return edited.status();
                  *resp->mutable_message() = *std::move(edited);
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* MessageServiceImpl::RejectMessage(
    grpc::CallbackServerContext* ctx, const v1::RejectMessageRequest* req,
    v1::RejectMessageResponse* resp) {
  return Handle(ctx, deps_, Permission::kApproveMessage,
                [&](const Caller& caller) -> absl::Status {
                  absl::StatusOr<int64_t> id = MessageId(req->message());
                  if (!id.ok()) return id.status();
                  auto rejected = deps_.workflow.Reject(
                      caller, *id, req->version(), req->reason());
                  if (!rejected.ok()) return rejected.status();
                  *resp->mutable_message() = *std::move(rejected);
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* MessageServiceImpl::ListAudit(
    grpc::CallbackServerContext* ctx, const v1::ListAuditRequest* req,
    v1::ListAuditResponse* resp) {
  return Handle(ctx, deps_, Permission::kRead,
                [&](const Caller&) -> absl::Status {
                  int64_t incident_id = 0;
                  if (!req->incident().empty()) {
                    absl::StatusOr<int64_t> id = IncidentId(req->incident());
                    if (!id.ok()) return id.status();
                    incident_id = *id;
                  }
                  auto page = deps_.queries.ListAudit(
                      incident_id, {req->page_size(), req->page_token()});
                  if (!page.ok()) return page.status();
                  for (auto& e : page->items) {
                    *resp->add_entries() = std::move(e);
                  }
                  resp->set_next_page_token(std::move(page->next_page_token));
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* MessageServiceImpl::RetryDeliveries(
    grpc::CallbackServerContext* ctx, const v1::RetryDeliveriesRequest* req,
    v1::RetryDeliveriesResponse* resp) {
  return Handle(
      ctx, deps_, Permission::kRetryDeliveries,
      [&](const Caller& caller) -> absl::Status {
        if (req->failed() == !req->message().empty()) {
          return absl::InvalidArgumentError(
              "name a message, or ask for every failed delivery; not both");
        }
        CommsWorkflow::RetryFilter filter;
        if (!req->failed()) {
          if (req->has_since() ||
              req->channel() != v1::CHANNEL_KIND_UNSPECIFIED) {
            return absl::InvalidArgumentError(
                "since and channel go with failed, not with a message");
          }
          absl::StatusOr<int64_t> id = MessageId(req->message());
          if (!id.ok()) return id.status();
          filter.message_id = *id;
        }
        if (req->has_since()) filter.since = FromProtoTime(req->since());
        if (!v1::ChannelKind_IsValid(req->channel())) {
          return absl::InvalidArgumentError(
              absl::StrCat("channel: unknown channel ", req->channel()));
        }
        filter.channel = req->channel();
        absl::StatusOr<int> requeued =
            deps_.workflow.RetryFailedDeliveries(caller, filter);
        if (!requeued.ok()) return requeued.status();
        resp->set_requeued(*requeued);
        if (*requeued > 0 && deps_.on_published) deps_.on_published();
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MessageServiceImpl::ListDeliveries(
    grpc::CallbackServerContext* ctx, const v1::ListDeliveriesRequest* req,
    v1::ListDeliveriesResponse* resp) {
  return Handle(
      ctx, deps_, Permission::kReadDeliveries,
      [&](const Caller&) -> absl::Status {
        if (req->failed() == !req->message().empty()) {
          return absl::InvalidArgumentError(
              "name a message, or ask for the failed deliveries; not both");
        }
        // `limit` is what older clients send for page_size.
        const PageRequest page_request{
            req->page_size() > 0 ? req->page_size()
                                 : std::min(req->limit(), kMaxPageSize),
            req->page_token()};
        absl::StatusOr<Page<v1::Delivery>> page;
        if (req->failed()) {
          page = deps_.queries.ListFailedDeliveries(page_request);
        } else {
          absl::StatusOr<int64_t> id = MessageId(req->message());
          if (!id.ok()) return id.status();
          page = deps_.queries.ListDeliveries(*id, page_request);
        }
        if (!page.ok()) return page.status();
        for (auto& d : page->items) *resp->add_deliveries() = std::move(d);
        resp->set_next_page_token(std::move(page->next_page_token));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MessageServiceImpl::GetInbox(
    grpc::CallbackServerContext* ctx, const v1::GetInboxRequest*,
    v1::GetInboxResponse* resp) {
  return Handle(ctx, deps_, Permission::kRead,
                [&](const Caller&) -> absl::Status {
                  auto items = deps_.queries.Inbox();
                  if (!items.ok()) return items.status();
                  for (auto& i : *items) *resp->add_items() = std::move(i);
                  return absl::OkStatus();
                });
}

}  // namespace herald
