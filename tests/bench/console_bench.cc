// Comms console benchmark: what the console's pages add over the plain
// reads the CLI makes, in the same run and store (SQLite).
//   inbox     IncidentQueries::Inbox (each waiting message with its
//             incident, audience count and cadence), with K open incidents
//             whose components have N subscribers each, against the K
//             audience counts alone, read straight from the store: what
//             the inbox adds to the one query it cannot do without
//   incident  GetIncident with its reach (a published message's N
//             deliveries counted per channel) against reading those N
//             deliveries straight from the store
// Each figure is the median of R repetitions. Asserts only correctness:
// the inbox holds K items, each with an audience of N.
//
// usage: console_bench N K

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/config/config_loader.h"
#include "server/store/sqlite_store.h"
#include "tests/bench/bench_util.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using bench::Check;

constexpr int kRepetitions = 15;

// The median seconds `fn` takes.
double Median(const std::function<void()>& fn) {
  std::vector<double> seconds;
  for (int i = 0; i < kRepetitions; ++i) {
    const absl::Time start = absl::Now();
    fn();
    seconds.push_back(absl::ToDoubleSeconds(absl::Now() - start));
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

int Main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 20000;
  const int k = argc > 2 ? std::atoi(argv[2]) : 50;
  const std::string dir = std::filesystem::temp_directory_path() /
                          absl::StrCat("herald-console-", getpid());
  std::filesystem::create_directories(dir);
  // K more components, svc0 to svc<K-1>, on the demo's comms rota: one
  // open incident each (alerts of one component join one incident).
  v1::Config config = DefaultConfig();
  for (int i = 0; i < k; ++i) {
    v1::ComponentConfig* c = config.add_components();
    c->set_id(absl::StrCat("svc", i));
    c->set_name(absl::StrCat("Service ", i));
    c->add_matchers(absl::StrCat("service=\"svc", i, "\""));
    config.mutable_rotas(0)->add_component_ids(c->id());
  }
  testing::CoreHarness h(*OpenSqliteStore(dir + "/herald.db"), config,
                         /*rerun_writes=*/false);
  // N subscribers, each of every one of them.
  bench::SeedCheckoutAudience(h, n, [k](int64_t i, v1::Subscriber& s) {
    s.set_name(absl::StrCat("Customer ", i));
    s.set_email(absl::StrCat("sub", i, "@bench.example"));
    for (int j = 0; j < k; ++j) s.add_component_ids(absl::StrCat("svc", j));
  });
  std::vector<int64_t> incidents;
  for (int i = 0; i < k; ++i) {
    incidents.push_back(h.intake
                            .Ingest(testing::FiringGroup(
                                absl::StrCat("g", i), absl::StrCat("svc", i),
                                {absl::StrCat("fp", i)}))
                            ->incident_id);
  }

  std::vector<v1::InboxItem> inbox;
  const double inbox_s = Median([&] { inbox = *h.queries.Inbox(); });
  const double counts_s = Median([&] {
    Check(h.store->Read([&](StoreReader& r) -> absl::Status {
      for (int i = 0; i < k; ++i) {
        absl::StatusOr<int64_t> n = r.CountAudience({absl::StrCat("svc", i)});
        if (!n.ok()) return n.status();
      }
      return absl::OkStatus();
    }),
          "count");
  });
  if (static_cast<int>(inbox.size()) != k) {
    std::fprintf(stderr, "inbox holds %zu of %d\n", inbox.size(), k);
    return 1;
  }
  for (const v1::InboxItem& item : inbox) {
    if (item.audience_size() != n) {
      std::fprintf(stderr, "audience %lld, not %lld\n",
                   static_cast<long long>(item.audience_size()),
                   static_cast<long long>(n));
      return 1;
    }
  }
  std::printf(
      "inbox of %d incidents, %lld subscribers each: %.2f ms, their %d "
      "audience counts alone %.2f ms, ratio %.2fx\n",
      k, static_cast<long long>(n), inbox_s * 1e3, k, counts_s * 1e3,
      inbox_s / counts_s);

  // Publish the first incident's draft to its N subscribers.
  const int64_t published = incidents.front();
  int64_t message = 0;
  for (const v1::InboxItem& item : inbox) {
    if (item.message().incident_id() == published) {
      message = item.message().id();
      Check(h.workflow.Approve(testing::CommsLead(), message, 0, kAsWritten)
                .status(),
            "approve");
    }
  }
  const double reach_s = Median([&] {
    Check(h.queries.GetIncident(published, true).status(), "incident");
  });
  const double plain_s = Median([&] {
    Check(h.store->Read([&](StoreReader& r) {
      return r.ListDeliveries(message, 0).status();
    }),
          "deliveries");
  });
  std::printf(
      "incident view with reach over %lld deliveries: %.2f ms, reading the "
      "deliveries alone %.2f ms, ratio %.2fx\n",
      static_cast<long long>(n), reach_s * 1e3, plain_s * 1e3,
      reach_s / plain_s);
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace herald

int main(int argc, char** argv) { return herald::Main(argc, argv); }
