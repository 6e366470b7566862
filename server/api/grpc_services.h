// The herald.v1 gRPC services (callback API), one .cc file per service
// (incident_service.cc, ...), over the shared steps in handler.h. Each method
// authenticates the caller from `authorization: Bearer <token>`, checks the
// role its permission needs, translates the request, calls core/ and maps the
// absl::Status one-to-one onto a gRPC status. Thread-safe.
#ifndef HERALD_SERVER_API_GRPC_SERVICES_H_
#define HERALD_SERVER_API_GRPC_SERVICES_H_

#include <functional>
#include <string>

#include "grpcpp/grpcpp.h"
#include "herald/v1/herald.grpc.pb.h"
#include "server/base/clock.h"
#include "server/base/random.h"
#include "server/core/aftercare/affected_customers.h"
#include "server/core/aftercare/aftercare.h"
#include "server/core/comms/comms_workflow.h"
#include "server/core/comms/maintenance_scheduler.h"
#include "server/core/event_hub.h"
#include "server/core/incidents/incident_queries.h"
#include "server/core/oncall/escalator.h"
#include "server/core/oncall/rota_overrides.h"
#include "server/core/org/authorizer.h"
#include "server/core/subscribers/subscriber_directory.h"

namespace herald {

struct ApiDeps {
  const Authorizer& authorizer;
  CommsWorkflow& workflow;
  const IncidentQueries& queries;
  const Escalator& escalator;
  const RotaOverrides& overrides;
  const MaintenanceScheduler& maintenance;
  const SubscriberDirectory& subscribers;
  const AffectedCustomers& affected;
  const Aftercare& aftercare;
  const Clock& clock;
  // Names the temporary file a backup is written to.
  Random& random;
  // Called after a message is published, e.g. to wake the outbox.
  std::function<void()> on_published;
  // Where Watch subscribes; may be null (Watch then fails UNAVAILABLE).
  EventHub* events = nullptr;
  // What Backup copies; null: UNIMPLEMENTED.
  Store* store = nullptr;
};

grpc::Status ToGrpcStatus(const absl::Status& s);

class IncidentServiceImpl final : public v1::IncidentService::CallbackService {
 public:
  explicit IncidentServiceImpl(const ApiDeps& deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* ListIncidents(
      grpc::CallbackServerContext* ctx, const v1::ListIncidentsRequest* req,
      v1::ListIncidentsResponse* resp) override;
  grpc::ServerUnaryReactor* GetIncident(grpc::CallbackServerContext* ctx,
                                        const v1::GetIncidentRequest* req,
                                        v1::GetIncidentResponse* resp) override;
  grpc::ServerUnaryReactor* ScheduleMaintenance(
      grpc::CallbackServerContext* ctx,
      const v1::ScheduleMaintenanceRequest* req,
      v1::ScheduleMaintenanceResponse* resp) override;
  grpc::ServerUnaryReactor* CancelMaintenance(
      grpc::CallbackServerContext* ctx, const v1::CancelMaintenanceRequest* req,
      v1::CancelMaintenanceResponse* resp) override;
  grpc::ServerUnaryReactor* CompleteMaintenance(
      grpc::CallbackServerContext* ctx,
      const v1::CompleteMaintenanceRequest* req,
      v1::CompleteMaintenanceResponse* resp) override;
  grpc::ServerUnaryReactor* PostUpdate(grpc::CallbackServerContext* ctx,
                                       const v1::PostUpdateRequest* req,
                                       v1::PostUpdateResponse* resp) override;
  grpc::ServerUnaryReactor* ResolveIncident(
      grpc::CallbackServerContext* ctx, const v1::ResolveIncidentRequest* req,
      v1::ResolveIncidentResponse* resp) override;
  grpc::ServerUnaryReactor* AcknowledgeIncident(
      grpc::CallbackServerContext* ctx,
      const v1::AcknowledgeIncidentRequest* req,
      v1::AcknowledgeIncidentResponse* resp) override;
  grpc::ServerUnaryReactor* ListAlerts(grpc::CallbackServerContext* ctx,
                                       const v1::ListAlertsRequest* req,
                                       v1::ListAlertsResponse* resp) override;

  grpc::ServerWriteReactor<v1::WatchEvent>* Watch(
      grpc::CallbackServerContext* ctx, const v1::WatchRequest* req) override;

 private:
  const ApiDeps& deps_;
};

class MessageServiceImpl final : public v1::MessageService::CallbackService {
 public:
  explicit MessageServiceImpl(const ApiDeps& deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* ListMessages(
      grpc::CallbackServerContext* ctx, const v1::ListMessagesRequest* req,
      v1::ListMessagesResponse* resp) override;
  grpc::ServerUnaryReactor* GetMessage(grpc::CallbackServerContext* ctx,
                                       const v1::GetMessageRequest* req,
                                       v1::GetMessageResponse* resp) override;
  grpc::ServerUnaryReactor* EditMessage(grpc::CallbackServerContext* ctx,
                                        const v1::EditMessageRequest* req,
                                        v1::EditMessageResponse* resp) override;
  grpc::ServerUnaryReactor* ApproveMessage(
      grpc::CallbackServerContext* ctx, const v1::ApproveMessageRequest* req,
      v1::ApproveMessageResponse* resp) override;
  grpc::ServerUnaryReactor* RejectMessage(
      grpc::CallbackServerContext* ctx, const v1::RejectMessageRequest* req,
      v1::RejectMessageResponse* resp) override;
  grpc::ServerUnaryReactor* ListDeliveries(
      grpc::CallbackServerContext* ctx, const v1::ListDeliveriesRequest* req,
      v1::ListDeliveriesResponse* resp) override;
  grpc::ServerUnaryReactor* RetryDeliveries(
      grpc::CallbackServerContext* ctx, const v1::RetryDeliveriesRequest* req,
      v1::RetryDeliveriesResponse* resp) override;
  grpc::ServerUnaryReactor* GetInbox(grpc::CallbackServerContext* ctx,
                                     const v1::GetInboxRequest* req,
                                     v1::GetInboxResponse* resp) override;
  grpc::ServerUnaryReactor* ListAudit(grpc::CallbackServerContext* ctx,
                                      const v1::ListAuditRequest* req,
                                      v1::ListAuditResponse* resp) override;

 private:
  const ApiDeps& deps_;
};

class OnCallServiceImpl final : public v1::OnCallService::CallbackService {
 public:
  explicit OnCallServiceImpl(const ApiDeps& deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* GetOnCall(grpc::CallbackServerContext* ctx,
                                      const v1::GetOnCallRequest* req,
                                      v1::GetOnCallResponse* resp) override;
  grpc::ServerUnaryReactor* CreateOverride(
      grpc::CallbackServerContext* ctx, const v1::CreateOverrideRequest* req,
      v1::CreateOverrideResponse* resp) override;
  grpc::ServerUnaryReactor* ListOverrides(
      grpc::CallbackServerContext* ctx, const v1::ListOverridesRequest* req,
      v1::ListOverridesResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteOverride(
      grpc::CallbackServerContext* ctx, const v1::DeleteOverrideRequest* req,
      v1::DeleteOverrideResponse* resp) override;

 private:
  const ApiDeps& deps_;
};

class SubscriberServiceImpl final
    : public v1::SubscriberService::CallbackService {
 public:
  explicit SubscriberServiceImpl(const ApiDeps& deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* AddSubscriber(
      grpc::CallbackServerContext* ctx, const v1::AddSubscriberRequest* req,
      v1::AddSubscriberResponse* resp) override;
  grpc::ServerUnaryReactor* ListSubscribers(
      grpc::CallbackServerContext* ctx, const v1::ListSubscribersRequest* req,
      v1::ListSubscribersResponse* resp) override;
  grpc::ServerUnaryReactor* RemoveSubscriber(
      grpc::CallbackServerContext* ctx, const v1::RemoveSubscriberRequest* req,
      v1::RemoveSubscriberResponse* resp) override;
  grpc::ServerUnaryReactor* ImportSubscribers(
      grpc::CallbackServerContext* ctx, const v1::ImportSubscribersRequest* req,
      v1::ImportSubscribersResponse* resp) override;
  grpc::ServerUnaryReactor* ListAffectedCustomers(
      grpc::CallbackServerContext* ctx,
      const v1::ListAffectedCustomersRequest* req,
      v1::ListAffectedCustomersResponse* resp) override;

 private:
  const ApiDeps& deps_;
};

class AftercareServiceImpl final
    : public v1::AftercareService::CallbackService {
 public:
  explicit AftercareServiceImpl(const ApiDeps& deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* ListAmends(grpc::CallbackServerContext* ctx,
                                       const v1::ListAmendsRequest* req,
                                       v1::ListAmendsResponse* resp) override;
  grpc::ServerUnaryReactor* ApproveCredits(
      grpc::CallbackServerContext* ctx, const v1::ApproveCreditsRequest* req,
      v1::ApproveCreditsResponse* resp) override;
  grpc::ServerUnaryReactor* AttachPostmortem(
      grpc::CallbackServerContext* ctx, const v1::AttachPostmortemRequest* req,
      v1::AttachPostmortemResponse* resp) override;

 private:
  const ApiDeps& deps_;
};

class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(const ApiDeps& deps) : deps_(deps) {}

  // Copies the store to a temporary file (blocking this callback thread for
  // as long as the copy takes), then streams it and removes it.
  grpc::ServerWriteReactor<v1::BackupChunk>* Backup(
      grpc::CallbackServerContext* ctx, const v1::BackupRequest* req) override;

 private:
  const ApiDeps& deps_;
};

}  // namespace herald

#endif  // HERALD_SERVER_API_GRPC_SERVICES_H_
