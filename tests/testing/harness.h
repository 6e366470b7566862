// CoreHarness assembles herald's domain logic on an in-memory store, a fake
// clock and the embedded templates and demo organisation, for tests.
// Not thread-safe to construct; the parts it builds are as thread-safe as
// their own headers say.
#ifndef HERALD_TESTS_TESTING_HARNESS_H_
#define HERALD_TESTS_TESTING_HARNESS_H_

#include <algorithm>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "prometheus/registry.h"
#include "server/config/bootstrap.h"
#include "server/config/config_loader.h"
#include "server/core/affected_customers.h"
#include "server/core/aftercare.h"
#include "server/core/alert_intake.h"
#include "server/core/comms_workflow.h"
#include "server/core/escalator.h"
#include "server/core/follow_ups.h"
#include "server/core/incident_queries.h"
#include "server/core/job_runner.h"
#include "server/core/mustache_renderer.h"
#include "server/core/rota_overrides.h"
#include "server/core/subscriber_directory.h"
#include "server/core/subscription_portal.h"
#include "server/delivery/delivery_composer.h"
#include "server/store/memory_store.h"

namespace herald::testing {

// 2026-11-23T10:00:00Z, a Monday.
inline absl::Time TestEpoch() { return absl::FromUnixSeconds(1795428000); }

inline std::string ReadTestData(const std::string& relative) {
  std::ifstream in(std::string(HERALD_TESTDATA_DIR) + "/" + relative,
                   std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

struct CoreHarness {
  explicit CoreHarness(std::unique_ptr<Store> s = NewMemoryStore(),
                       const v1::Config& config = DefaultConfig())
      : store(std::move(s)),
        clock(TestEpoch()),
        renderer(*MustacheRenderer::WithOverrides("")),
        org(*BuildOrganisation(config, "test")),
        metrics(registry),
        deps{*store, clock, *renderer, org, metrics, &events},
        drafter(*renderer, org),
        planner(deps, drafter),
        escalator(deps, planner),
        cadence(deps, drafter, planner),
        maintenance(deps, drafter, planner),
        affected(deps),
        links("test-link-signing-key-0123456789abcdef0123456789abcdef"),
        aftercare(deps, affected, planner),
        follow_ups(deps, drafter, planner, links),
        jobs(deps, escalator, cadence, maintenance, aftercare, follow_ups),
        overrides(deps),
        intake(deps, drafter, planner, escalator, cadence),
        workflow(deps, drafter, planner, cadence, aftercare),
        queries(deps, planner, aftercare),
        subscribers(deps),
        portal(deps, drafter, links),
        composer(
            drafter, org,
            ComposerOptions{"https://status.acme.example", "", {}, &links}) {
    if (!SeedStore(*store, *org).ok()) std::abort();
  }

  // What `fn` reads from the store; aborts the test binary on a store error.
  // Taking the value out of the StatusOr here keeps callers from iterating a
  // temporary that dies before the loop body.
  template <typename T>
  T Read(const std::function<absl::StatusOr<T>(StoreReader&)>& fn) {
    T out{};
    absl::Status s = store->Read([&](StoreReader& r) -> absl::Status {
      absl::StatusOr<T> v = fn(r);
      if (!v.ok()) return v.status();
      out = *std::move(v);
      return absl::OkStatus();
    });
    if (!s.ok()) std::abort();
    return out;
  }

  // What `delivery` sends to the recipient's first contact, rendered as the
  // outbox renders it.
  Outgoing Compose(const v1::Delivery& delivery) {
    return Read<Outgoing>([&](StoreReader& r) -> absl::StatusOr<Outgoing> {
      absl::StatusOr<Recipient> who = composer.LoadRecipient(r, delivery);
      if (!who.ok()) return who.status();
      return composer.Compose(r, delivery, *who, 0);
    });
  }

  // Staff notifications queued for `incident_id`, in order; the "a draft
  // is waiting" notices to comms leads only when asked for.
  std::vector<v1::Delivery> StaffDeliveries(int64_t incident_id,
                                            bool with_draft_notices = false) {
    std::vector<v1::Delivery> out;
    for (v1::Delivery& d : Read<std::vector<v1::Delivery>>([&](StoreReader& r) {
           return r.ListDeliveries(0, incident_id);
         })) {
      const bool draft_notice =
          d.idempotency_key().find("-draft-") != std::string::npos;
      if (with_draft_notices || !draft_notice) out.push_back(std::move(d));
    }
    return out;
  }

  std::unique_ptr<Store> store;
  FakeClock clock;
  std::unique_ptr<MustacheRenderer> renderer;
  std::shared_ptr<const Organisation> org;
  prometheus::Registry registry;
  HeraldMetrics metrics;
  EventHub events;
  CoreDeps deps;
  MessageDrafter drafter;
  DeliveryPlanner planner;
  Escalator escalator;
  CadenceKeeper cadence;
  MaintenanceScheduler maintenance;
  AffectedCustomers affected;
  LinkTokens links;
  Aftercare aftercare;
  FollowUps follow_ups;
  JobRunner jobs;
  RotaOverrides overrides;
  AlertIntake intake;
  CommsWorkflow workflow;
  IncidentQueries queries;
  SubscriberDirectory subscribers;
  SubscriptionPortal portal;
  DeliveryComposer composer;
};

// Demo people as callers.
inline Caller Engineer() { return {"alice", {v1::ROLE_ENGINEER}}; }
inline Caller CommsLead() { return {"carol", {v1::ROLE_COMMS_LEAD}}; }
inline Caller Comms(const std::string& who = "bob") {
  return {who, {v1::ROLE_COMMS}};
}

// A firing alert group for `service` with one alert per fingerprint.
inline v1::AlertGroup FiringGroup(
    const std::string& group_key, const std::string& service,
    std::initializer_list<std::string> fingerprints,
    const std::string& severity = "critical") {
  v1::AlertGroup g;
  g.set_source("alertmanager");
  g.set_group_key(group_key);
  g.set_status(v1::ALERT_STATUS_FIRING);
  (*g.mutable_common_annotations())["summary"] = service + " is failing";
  for (const auto& fp : fingerprints) {
    v1::Alert* a = g.add_alerts();
    a->set_fingerprint(fp);
    a->set_group_key(group_key);
    a->set_status(v1::ALERT_STATUS_FIRING);
    (*a->mutable_labels())["alertname"] = "HighErrorRate";
    (*a->mutable_labels())["service"] = service;
    (*a->mutable_labels())["severity"] = severity;
    a->mutable_starts_at()->set_seconds(absl::ToUnixSeconds(TestEpoch()) - 60);
  }
  return g;
}

// Opens one checkout incident holding `n` firing alerts (fingerprints
// "fp00000", "fp00001", ...), brought by notifications of `batch` alerts
// each, so its timeline holds one event per alert too. Each alert carries a
// summary of about 200 bytes, like a real one. Returns the incident's id.
inline int64_t IncidentWithManyAlerts(CoreHarness& h, int n, int batch = 5000) {
  int64_t id = 0;
  for (int start = 0; start < n; start += batch) {
    v1::AlertGroup g = FiringGroup("big", "checkout", {});
    for (int i = start; i < std::min(n, start + batch); ++i) {
      v1::Alert* a = g.add_alerts();
      a->set_fingerprint(absl::StrFormat("fp%05d", i));
      a->set_group_key("big");
      a->set_status(v1::ALERT_STATUS_FIRING);
      (*a->mutable_labels())["alertname"] = "HighErrorRate";
      (*a->mutable_labels())["service"] = "checkout";
      (*a->mutable_labels())["severity"] = "critical";
      (*a->mutable_labels())["pod"] = absl::StrCat("checkout-", i);
      (*a->mutable_annotations())["summary"] = absl::StrCat(
          "Checkout pod ", i, " answers 5xx to more than 5% of requests ",
          std::string(140, '.'));
      a->mutable_starts_at()->set_seconds(absl::ToUnixSeconds(TestEpoch()));
    }
    absl::StatusOr<IntakeResult> r = h.intake.Ingest(g);
    if (!r.ok()) std::abort();
    id = r->incident_id;
  }
  return id;
}

inline v1::AlertGroup Resolved(v1::AlertGroup g) {
  g.set_status(v1::ALERT_STATUS_RESOLVED);
  for (auto& a : *g.mutable_alerts()) a.set_status(v1::ALERT_STATUS_RESOLVED);
  return g;
}

}  // namespace herald::testing

#endif  // HERALD_TESTS_TESTING_HARNESS_H_
