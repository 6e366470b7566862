// Domain: herald's domain services, each built once over the same CoreDeps
// in the order they depend on one another. HeraldServer builds it, and so
// do the test harnesses through HeraldServer: nothing else assembles the
// domain. `deps` and `links` must outlive it. Each member is as thread-safe
// as its own header says.
#ifndef HERALD_SERVER_APP_DOMAIN_H_
#define HERALD_SERVER_APP_DOMAIN_H_

#include <functional>

#include "server/core/aftercare/affected_customers.h"
#include "server/core/aftercare/aftercare.h"
#include "server/core/aftercare/follow_ups.h"
#include "server/core/comms/cadence_keeper.h"
#include "server/core/comms/comms_workflow.h"
#include "server/core/comms/delivery_planner.h"
#include "server/core/comms/maintenance_scheduler.h"
#include "server/core/comms/message_drafter.h"
#include "server/core/core_deps.h"
#include "server/core/incidents/alert_intake.h"
#include "server/core/incidents/incident_gauges.h"
#include "server/core/incidents/incident_queries.h"
#include "server/core/job_runner.h"
#include "server/core/oncall/escalator.h"
#include "server/core/oncall/rota_overrides.h"
#include "server/core/subscribers/link_tokens.h"
#include "server/core/subscribers/subscriber_directory.h"
#include "server/core/subscribers/subscription_portal.h"

namespace herald {

struct Domain {
  // `wake_senders` asks the outbox to look for work now (after a customer
  // confirms a subscription, say); empty: nobody is woken.
  Domain(const CoreDeps& deps, const LinkTokens& links,
         std::function<void()> wake_senders = {})
      : drafter(deps.renderer, deps.org),
        planner(deps, drafter),
        escalator(deps, planner),
        cadence(deps, drafter, planner),
        maintenance(deps, drafter, planner),
        affected(deps),
        aftercare(deps, affected, planner),
        follow_ups(deps, drafter, planner, links),
        jobs(deps, escalator, cadence, maintenance, aftercare, follow_ups),
        overrides(deps),
        intake(deps, drafter, planner, escalator, cadence),
        workflow(deps, drafter, planner, cadence, aftercare),
        queries(deps, planner, aftercare),
        subscribers(deps),
        portal(deps, drafter, links, std::move(wake_senders)),
        gauges(deps) {}
  Domain(const Domain&) = delete;
  Domain& operator=(const Domain&) = delete;

  MessageDrafter drafter;
  DeliveryPlanner planner;
  Escalator escalator;
  CadenceKeeper cadence;
  MaintenanceScheduler maintenance;
  AffectedCustomers affected;
  Aftercare aftercare;
  FollowUps follow_ups;
  JobRunner jobs;
  RotaOverrides overrides;
  AlertIntake intake;
  CommsWorkflow workflow;
  IncidentQueries queries;
  SubscriberDirectory subscribers;
  SubscriptionPortal portal;
  IncidentGauges gauges;
};

}  // namespace herald

#endif  // HERALD_SERVER_APP_DOMAIN_H_
