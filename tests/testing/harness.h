// CoreHarness builds heraldd's HeraldServer on an in-memory store, a fake
// clock and fake channels, with the embedded templates and demo
// organisation, for tests. Every write's transaction runs twice, the first
// run rolled back (RerunningStore), as a store that retries conflicts runs
// it: what a test sees is what one committed run leaves.
// Not thread-safe to construct; the parts it builds are as thread-safe as
// their own headers say.
#ifndef HERALD_TESTS_TESTING_HARNESS_H_
#define HERALD_TESTS_TESTING_HARNESS_H_

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "server/app/herald_server.h"
#include "server/config/config_loader.h"
#include "server/store/memory_store.h"
#include "tests/testing/fake_channel.h"
#include "tests/testing/rerunning_store.h"

namespace herald {
// Approves a draft as herald wrote it, engineers' words included: what a test
// of anything but the crafting check means by "approve".
inline const ApprovalChoice kAsWritten{.publish_as_written = true};
}  // namespace herald

namespace herald::testing {

// 2026-11-23T10:00:00Z, a Monday.
inline absl::Time TestEpoch() { return absl::FromUnixSeconds(1795428000); }

// A plain-text email's text with its line breaks as spaces, for asserting
// on sentences that the wrapping at 72 columns may have broken.
inline std::string OneLine(absl::string_view text) {
  std::string out(text);
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

inline std::string ReadTestData(const std::string& relative) {
  std::ifstream in(std::string(HERALD_TESTDATA_DIR) + "/" + relative,
                   std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// A HeraldServer as heraldd builds it, on the store given (in memory by
// default), a fake clock at TestEpoch(), seeded randomness and fake
// channels; nothing listens and no worker runs: tests call the parts.
// The credential Alertmanager sends to a test server's HTTP edge.
inline constexpr char kTestWebhookToken[] = "test-webhook-token";

// A file holding kTestWebhookToken, written once per test process.
inline const std::string& TestWebhookTokenFile() {
  static const std::string* const path = [] {
    auto* p = new std::string(
        absl::StrCat(::testing::TempDir(), "/webhook-token-", getpid()));
    std::ofstream(*p) << kTestWebhookToken << "\n";
    return p;
  }();
  return *path;
}

struct CoreHarness {
  // `rerun_writes` false: each write runs once, for benchmarks, which time
  // the real work.
  explicit CoreHarness(std::unique_ptr<Store> s = NewMemoryStore(),
                       const v1::Config& config = DefaultConfig(),
                       bool rerun_writes = true)
      : clock_owner(std::make_shared<FakeClock>(TestEpoch())),
        server(BuildServer(
            rerun_writes ? Rerunning(std::move(s)) : std::move(s), config)),
        store(&server->store()),
        clock(*clock_owner),
        renderer(&server->renderer()),
        org(server->org()),
        registry(server->registry()),
        metrics(server->metrics().core),
        delivery_metrics(server->metrics().delivery),
        http_metrics(server->metrics().http),
        grpc_metrics(server->metrics().grpc),
        events(server->events()),
        deps(server->deps()),
        links(server->links()),
        composer(server->composer()),
        domain(server->domain()),
        drafter(domain.drafter),
        planner(domain.planner),
        escalator(domain.escalator),
        cadence(domain.cadence),
        maintenance(domain.maintenance),
        affected(domain.affected),
        aftercare(domain.aftercare),
        follow_ups(domain.follow_ups),
        jobs(domain.jobs),
        overrides(domain.overrides),
        intake(domain.intake),
        workflow(domain.workflow),
        queries(domain.queries),
        subscribers(domain.subscribers),
        portal(domain.portal) {}

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

  // The platform a test server runs on: `store`, the fake clock, a fixed
  // seed and `channel` for every kind.
  Platform TestPlatform(std::unique_ptr<Store> s) {
    auto owned = std::make_shared<std::unique_ptr<Store>>(std::move(s));
    return Platform{.clock = clock_owner,
                    .random = std::make_shared<SeededRandom>(20261123),
                    .open_store = [owned](const v1::Config&, StoreObservers)
                        -> absl::StatusOr<std::unique_ptr<Store>> {
                      if (*owned == nullptr)
                        return absl::InternalError("opened twice");
                      return std::move(*owned);
                    },
                    .open_channels = FakeChannels(channel)};
  }

  static std::unique_ptr<Store> Rerunning(std::unique_ptr<Store> s) {
    return std::make_unique<RerunningStore>(std::move(s));
  }

  std::unique_ptr<HeraldServer> BuildServer(std::unique_ptr<Store> s,
                                            v1::Config config) {
    // Links in customers' messages point at the organisation's page.
    config.mutable_server()->set_public_url("https://status.acme.example");
    if (config.server().webhook_token_file().empty()) {
      config.mutable_server()->set_webhook_token_file(TestWebhookTokenFile());
    }
    absl::StatusOr<std::unique_ptr<HeraldServer>> built = HeraldServer::Create(
        ServerOptions{.config = std::move(config),
                      .config_source = "test",
                      .run_workers = false,
                      .grpc_stop_grace = absl::ZeroDuration()},
        TestPlatform(std::move(s)));
    if (!built.ok()) {
      std::fprintf(stderr, "test server: %s\n",
                   std::string(built.status().message()).c_str());
      std::abort();
    }
    return *std::move(built);
  }

  std::shared_ptr<FakeClock> clock_owner;
  FakeChannel channel;  // every delivery the server's outbox sends
  std::unique_ptr<HeraldServer> server;
  Store* store;
  FakeClock& clock;
  const MustacheRenderer* renderer;
  std::shared_ptr<const Organisation> org;
  prometheus::Registry& registry;
  CoreMetrics& metrics;  // each part's own (HeraldServer's ServerMetrics)
  DeliveryMetrics& delivery_metrics;
  HttpMetrics& http_metrics;
  GrpcMetrics& grpc_metrics;
  EventHub& events;
  const CoreDeps& deps;
  const LinkTokens& links;
  const DeliveryComposer& composer;
  Domain& domain;
  MessageDrafter& drafter;
  DeliveryPlanner& planner;
  Escalator& escalator;
  CadenceKeeper& cadence;
  MaintenanceScheduler& maintenance;
  AffectedCustomers& affected;
  Aftercare& aftercare;
  FollowUps& follow_ups;
  JobRunner& jobs;
  RotaOverrides& overrides;
  AlertIntake& intake;
  CommsWorkflow& workflow;
  IncidentQueries& queries;
  SubscriberDirectory& subscribers;
  SubscriptionPortal& portal;
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
