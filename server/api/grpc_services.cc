#include "server/api/grpc_services.h"

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
#include "server/core/oncall/paging.h"

namespace herald {
namespace {

// The caller behind the request's bearer token.
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

// The caller, if authenticated and holding `permission`.
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

// Finishes a unary RPC with `status`, logging the failures that are ours.
void FinishRpc(grpc::ServerUnaryReactor* reactor, const absl::Status& status) {
  if (absl::IsInternal(status) || absl::IsUnavailable(status) ||
      absl::IsDataLoss(status)) {
    LogError("rpc failed", {{"error", status.ToString()}});
  }
  reactor->Finish(ToGrpcStatus(status));
}

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

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& s) {
  // absl and gRPC share their code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

grpc::ServerUnaryReactor* IncidentServiceImpl::ListIncidents(
    grpc::CallbackServerContext* ctx, const v1::ListIncidentsRequest* req,
    v1::ListIncidentsResponse* resp) {
  return Handle(
      ctx, deps_, Permission::kRead, [&](const Caller&) -> absl::Status {
        auto page = deps_.queries.ListIncidents(
            req->include_resolved(), {req->page_size(), req->page_token()});
        if (!page.ok()) return page.status();
        for (auto& i : page->items) *resp->add_incidents() = std::move(i);
        resp->set_next_page_token(std::move(page->next_page_token));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* IncidentServiceImpl::GetIncident(
    grpc::CallbackServerContext* ctx, const v1::GetIncidentRequest* req,
    v1::GetIncidentResponse* resp) {
  return Handle(
      ctx, deps_, Permission::kRead, [&](const Caller&) -> absl::Status {
        absl::StatusOr<int64_t> id = IncidentId(req->incident());
        if (!id.ok()) return id.status();
        auto found = deps_.queries.GetIncident(
            *id, req->include_reach(), {req->page_size(), req->page_token()});
        if (!found.ok()) return found.status();
        *resp = *std::move(found);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* IncidentServiceImpl::PostUpdate(
    grpc::CallbackServerContext* ctx, const v1::PostUpdateRequest* req,
    v1::PostUpdateResponse* resp) {
  return HandleAsync(ctx, deps_, Permission::kPostUpdate,
                     [&](const Caller& caller, auto finish) {
                       absl::StatusOr<int64_t> id = IncidentId(req->incident());
                       if (!id.ok()) return finish(id.status());
                       UpdateDetails details;
                       details.status_hint = req->status();
                       if (req->has_eta())
                         details.eta = FromProtoDuration(req->eta());
                       details.next_step = req->next_step();
                       deps_.workflow.PostUpdateAsync(
                           caller, *id, req->text(), details,
                           [resp, finish](absl::StatusOr<PostedUpdate> posted) {
                             if (!posted.ok()) return finish(posted.status());
                             *resp->mutable_update() =
                                 std::move(posted->update);
                             *resp->mutable_draft() = std::move(posted->draft);
                             finish(absl::OkStatus());
                           });
                     });
}

grpc::ServerUnaryReactor* IncidentServiceImpl::ResolveIncident(
    grpc::CallbackServerContext* ctx, const v1::ResolveIncidentRequest* req,
    v1::ResolveIncidentResponse* resp) {
  return Handle(ctx, deps_, Permission::kResolve,
                [&](const Caller& caller) -> absl::Status {
                  absl::StatusOr<int64_t> id = IncidentId(req->incident());
                  if (!id.ok()) return id.status();
                  auto resolved =
                      deps_.workflow.Resolve(caller, *id, req->note());
                  if (!resolved.ok()) return resolved.status();
                  *resp->mutable_incident() = std::move(resolved->incident);
                  for (auto& m : resolved->drafts)
                    *resp->add_drafts() = std::move(m);
                  return absl::OkStatus();
                });
}

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
        auto published = deps_.workflow.Approve(caller, *id, req->version());
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
                  *resp = *std::move(found);
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
                  auto edited =
                      deps_.workflow.Edit(caller, *id, req->version(),
                                          req->title(), req->body(), statuses);
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

// One watcher: writes the events its subscription queues, one at a time.
// Publishing threads only wake it; a watcher that stops reading stalls its
// own writes and, once its queue is full, loses its oldest events, never
// anyone else's.
class WatchReactor final : public grpc::ServerWriteReactor<v1::WatchEvent> {
 public:
  WatchReactor(EventHub& hub, Caller caller, int64_t incident_id,
               absl::Time now)
      : hub_(hub), caller_(std::move(caller)) {
    // First, say what is being watched: the caller knows the stream is live.
    next_.set_kind("watching");
    next_.set_actor("herald");
    *next_.mutable_at() = ToProtoTime(now);
    next_.set_incident_id(incident_id);
    if (incident_id != 0) next_.set_incident_ref(IncidentRef(incident_id));
    next_.set_text(incident_id == 0 ? "every incident"
                                    : IncidentRef(incident_id));
    writing_ = true;
    StartWrite(&next_);
    sub_ = hub_.Subscribe(incident_id, [this] { MaybeWrite(); });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      FinishOnce(grpc::Status::OK);  // the watcher went away
      return;
    }
    WriteNextLocked();
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (!writing_) FinishOnce(grpc::Status::OK);
    cancelled_ = true;
  }
  void OnDone() override {
    hub_.Unsubscribe(sub_);  // after this, no wake-up touches `this`
    delete this;
  }

 private:
  void MaybeWrite() {
    absl::MutexLock lock(&mu_);
    WriteNextLocked();
  }
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (cancelled_) return FinishOnce(grpc::Status::OK);
    if (!sub_->Pop(&next_)) return;
    next_ = VisibleTo(caller_, std::move(next_));
    writing_ = true;
    StartWrite(&next_);
  }
  void FinishOnce(const grpc::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(s);
  }

  EventHub& hub_;
  const Caller caller_;
  std::shared_ptr<EventHub::Subscription> sub_;
  absl::Mutex mu_;
  v1::WatchEvent next_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// Finishes a stream at once with `status`.
template <typename T>
class RefusedStream final : public grpc::ServerWriteReactor<T> {
 public:
  explicit RefusedStream(const absl::Status& status) {
    this->Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

grpc::ServerWriteReactor<v1::WatchEvent>* IncidentServiceImpl::Watch(
    grpc::CallbackServerContext* ctx, const v1::WatchRequest* req) {
  absl::StatusOr<Caller> caller =
      AuthorizedCaller(ctx, deps_, Permission::kRead);
  absl::Status status = caller.status();
  int64_t incident_id = 0;
  if (status.ok() && !req->incident().empty()) {
    absl::StatusOr<int64_t> id = IncidentId(req->incident());
    status = id.status();
    if (id.ok()) incident_id = *id;
  }
  if (status.ok() && deps_.events == nullptr) {
    status = absl::UnavailableError("this server has no event stream");
  }
  if (!status.ok()) return new RefusedStream<v1::WatchEvent>(status);
  return new WatchReactor(*deps_.events, *std::move(caller), incident_id,
                          deps_.clock.Now());
}

grpc::ServerUnaryReactor* IncidentServiceImpl::AcknowledgeIncident(
    grpc::CallbackServerContext* ctx, const v1::AcknowledgeIncidentRequest* req,
    v1::AcknowledgeIncidentResponse* resp) {
  return Handle(ctx, deps_, Permission::kAcknowledge,
                [&](const Caller& caller) -> absl::Status {
                  absl::StatusOr<int64_t> id = IncidentId(req->incident());
                  if (!id.ok()) return id.status();
                  auto acked = deps_.escalator.Acknowledge(caller, *id);
                  if (!acked.ok()) return acked.status();
                  *resp->mutable_incident() = *std::move(acked);
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* IncidentServiceImpl::ListAlerts(
    grpc::CallbackServerContext* ctx, const v1::ListAlertsRequest* req,
    v1::ListAlertsResponse* resp) {
  return Handle(
      ctx, deps_, Permission::kRead, [&](const Caller&) -> absl::Status {
        int64_t incident_id = 0;
        if (!req->unrouted_only()) {
          absl::StatusOr<int64_t> id = IncidentId(req->incident());
          if (!id.ok()) return id.status();
          incident_id = *id;
        }
        auto page =
            deps_.queries.ListAlerts(incident_id, req->unrouted_only(),
                                     {req->page_size(), req->page_token()});
        if (!page.ok()) return page.status();
        for (auto& a : page->alerts) *resp->add_alerts() = std::move(a);
        resp->set_next_page_token(std::move(page->next_page_token));
        resp->set_total_count(page->total);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* IncidentServiceImpl::ScheduleMaintenance(
    grpc::CallbackServerContext* ctx, const v1::ScheduleMaintenanceRequest* req,
    v1::ScheduleMaintenanceResponse* resp) {
  return Handle(
      ctx, deps_, Permission::kScheduleMaintenance,
      [&](const Caller& caller) -> absl::Status {
        if (!req->has_starts_at() || !req->has_ends_at()) {
          return absl::InvalidArgumentError(
              "starts_at, ends_at: a maintenance window needs both");
        }
        MaintenanceRequest m{
            {req->component_ids().begin(), req->component_ids().end()},
            FromProtoTime(req->starts_at()),
            FromProtoTime(req->ends_at()),
            req->text(),
            req->title()};
        auto scheduled = deps_.maintenance.Schedule(caller, std::move(m));
        if (!scheduled.ok()) return scheduled.status();
        *resp->mutable_incident() = std::move(scheduled->incident);
        *resp->mutable_draft() = std::move(scheduled->draft);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* IncidentServiceImpl::CancelMaintenance(
    grpc::CallbackServerContext* ctx, const v1::CancelMaintenanceRequest* req,
    v1::CancelMaintenanceResponse* resp) {
  return Handle(ctx, deps_, Permission::kScheduleMaintenance,
                [&](const Caller& caller) -> absl::Status {
                  absl::StatusOr<int64_t> id = IncidentId(req->incident());
                  if (!id.ok()) return id.status();
                  auto cancelled =
                      deps_.maintenance.Cancel(caller, *id, req->reason());
                  if (!cancelled.ok()) return cancelled.status();
                  *resp->mutable_incident() = *std::move(cancelled);
                  return absl::OkStatus();
                });
}

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
                  *resp = *std::move(list);
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
                  *resp = *std::move(approved);
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

namespace {

// Streams the backup file at `path` in chunks, in order, and removes it
// when the call is over, whatever became of it.
class BackupStream final : public grpc::ServerWriteReactor<v1::BackupChunk> {
 public:
  BackupStream(std::string path, int64_t size)
      : path_(std::move(path)), in_(path_, std::ios::binary), size_(size) {
    WriteNext();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::CANCELLED);  // the client went away
    WriteNext();
  }
  void OnDone() override {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
    delete this;
  }

 private:
  static constexpr size_t kChunkBytes = 1 << 20;

  void WriteNext() {
    std::string data(kChunkBytes, '\0');
    in_.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<size_t>(in_.gcount()));
    if (data.empty()) {
      return Finish(in_.bad() ? grpc::Status(grpc::StatusCode::INTERNAL,
                                             "reading the backup failed")
                              : grpc::Status::OK);
    }
    chunk_.set_data(std::move(data));
    chunk_.set_total_bytes(size_);
    StartWrite(&chunk_);
  }

  const std::string path_;
  std::ifstream in_;
  const int64_t size_;
  v1::BackupChunk chunk_;
};

}  // namespace

grpc::ServerWriteReactor<v1::BackupChunk>* AdminServiceImpl::Backup(
    grpc::CallbackServerContext* ctx, const v1::BackupRequest*) {
  const ScopedRequestId scope(RequestIdOf(*ctx));
  absl::StatusOr<Caller> caller =
      AuthorizedCaller(ctx, deps_, Permission::kBackup);
  if (!caller.ok()) {
    return new RefusedStream<v1::BackupChunk>(caller.status());
  }
  if (deps_.store == nullptr) {
    return new RefusedStream<v1::BackupChunk>(
        absl::UnimplementedError("this server cannot take backups"));
  }
  const std::string path =
      (std::filesystem::temp_directory_path() /
       absl::StrCat("herald-backup-", deps_.random.Hex(8), ".db"))
          .string();
  absl::Status copied = deps_.store->BackupTo(path);
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (copied.ok() && error) {
    copied = absl::InternalError(
        absl::StrCat("the backup file vanished: ", error.message()));
  }
  if (!copied.ok()) {
    std::filesystem::remove(path, error);
    return new RefusedStream<v1::BackupChunk>(copied);
  }
  LogInfo("backup taken",
          {{"by", caller->person_id}, {"bytes", absl::StrCat(size)}});
  return new BackupStream(path, static_cast<int64_t>(size));
}

}  // namespace herald
