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

namespace {

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
    IncidentEvent event;
    if (!sub_->Pop(&event)) return;
    next_ = ToWatchEvent(VisibleTo(caller_, std::move(event)));
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

}  // namespace

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
        *resp = ToGetIncidentResponse(*std::move(found));
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
        for (v1::Message& n : scheduled->notices) {
          *resp->add_notices() = std::move(n);
        }
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
                  *resp->mutable_incident() = std::move(cancelled->incident);
                  if (cancelled->draft.id() != 0) {
                    *resp->mutable_draft() = std::move(cancelled->draft);
                  }
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* IncidentServiceImpl::CompleteMaintenance(
    grpc::CallbackServerContext* ctx, const v1::CompleteMaintenanceRequest* req,
    v1::CompleteMaintenanceResponse* resp) {
  return Handle(ctx, deps_, Permission::kScheduleMaintenance,
                [&](const Caller& caller) -> absl::Status {
                  absl::StatusOr<int64_t> id = IncidentId(req->incident());
                  if (!id.ok()) return id.status();
                  auto completed = deps_.maintenance.Complete(caller, *id);
                  if (!completed.ok()) return completed.status();
                  *resp->mutable_incident() = std::move(completed->incident);
                  resp->set_deliveries_enqueued(
                      static_cast<int32_t>(completed->deliveries_enqueued));
                  return absl::OkStatus();
                });
}

}  // namespace herald
