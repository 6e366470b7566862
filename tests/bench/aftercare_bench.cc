// Aftercare benchmark: the personal apology to N affected customers against
// a status update to the same N subscribers, in the same run and store.
//   approve  approving the apology (working out N customers' amends, minting
//            voucher codes, storing them, and queuing N deliveries) against
//            approving the status update (queuing N deliveries)
//   compose  rendering every recipient's email of the apology (with its
//            amends looked up per recipient) against that of the update
// Prints one line per figure and the peak RSS. Asserts only correctness:
// every customer has amends and a delivery.
//
// usage: aftercare_bench N

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/delivery/delivery_composer.h"
#include "server/store/sqlite_store.h"
#include "tests/bench/bench_util.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using bench::Check;
using bench::PeakRssMiB;

// Seconds to approve `message_id`, which must reach `n` recipients.
double Approve(testing::CoreHarness& h, int64_t message_id, int64_t n) {
  const absl::Time start = absl::Now();
  absl::StatusOr<Publication> pub =
      h.workflow.Approve(testing::CommsLead(), message_id, 0, kAsWritten);
  Check(pub.status(), "approve");
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (pub->deliveries_enqueued != n) {
    std::fprintf(stderr, "queued %lld of %lld\n",
                 static_cast<long long>(pub->deliveries_enqueued),
                 static_cast<long long>(n));
    std::exit(1);
  }
  return seconds;
}

// Seconds to render every recipient's email of `message_id`.
double ComposeAll(testing::CoreHarness& h, const DeliveryComposer& composer,
                  int64_t message_id) {
  const absl::Time start = absl::Now();
  Check(h.store->Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<v1::Delivery>> all =
        r.ListDeliveries(message_id, 0);
    if (!all.ok()) return all.status();
    for (const v1::Delivery& d : *all) {
      absl::StatusOr<Recipient> who = composer.LoadRecipient(r, d);
      if (!who.ok()) return who.status();
      absl::StatusOr<Outgoing> out = composer.Compose(r, d, *who, 0);
      if (!out.ok()) return out.status();
    }
    return absl::OkStatus();
  }),
        "compose");
  return absl::ToDoubleSeconds(absl::Now() - start);
}

int64_t DraftOf(testing::CoreHarness& h, int64_t incident,
                v1::MessageKind kind) {
  for (const v1::Message& m :
       h.Read<std::vector<v1::Message>>([&](StoreReader& r) {
         return r.ListMessages({incident, {v1::MESSAGE_STATE_DRAFT}});
       })) {
    if (m.kind() == kind) return m.id();
  }
  std::fprintf(stderr, "no draft of kind %d\n", kind);
  std::exit(1);
}

int Main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 20000;
  const std::string dir = std::filesystem::temp_directory_path() /
                          absl::StrCat("herald-aftercare-", getpid());
  std::filesystem::create_directories(dir);
  testing::CoreHarness h(*OpenSqliteStore(dir + "/herald.db"), DefaultConfig(),
                         /*rerun_writes=*/false);
  // N customers of checkout on the demo plans: business and enterprise earn
  // credits, starter a voucher.
  const char* plans[] = {"business", "enterprise", "starter"};
  bench::SeedCheckoutAudience(h, n, [&](int64_t i, v1::Subscriber& s) {
    s.set_name(absl::StrCat("Customer ", i));
    s.set_email(absl::StrCat("sub", i, "@bench.example"));
    s.set_account(absl::StrCat("Account ", i));
    s.set_plan(plans[i % 3]);
  });
  const int64_t incident =
      h.intake.Ingest(testing::FiringGroup("g1", "checkout", {"fp1"}))
          ->incident_id;
  const int64_t update = h.Read<std::vector<v1::Message>>([&](StoreReader& r) {
                            return r.ListMessages({incident, {}});
                          })[0]
                             .id();
  const double update_approve = Approve(h, update, n);
  h.clock.Advance(absl::Minutes(45));
  Check(h.workflow.Resolve(testing::CommsLead(), incident, "bench").status(),
        "resolve");
  const int64_t apology = DraftOf(h, incident, v1::MESSAGE_KIND_APOLOGY);
  const double apology_approve = Approve(h, apology, n);
  const int64_t amends = h.Read<std::vector<v1::Amends>>([&](StoreReader& r) {
                            return r.ListAmends(incident);
                          }).size();
  if (amends != n) {
    std::fprintf(stderr, "%lld amends for %lld customers\n",
                 static_cast<long long>(amends), static_cast<long long>(n));
    return 1;
  }
  std::printf(
      "approve for %lld customers: apology %.2f s, status update %.2f s, "
      "ratio %.2fx\n",
      static_cast<long long>(n), apology_approve, update_approve,
      apology_approve / update_approve);

  DeliveryComposer composer(h.drafter, h.org, ComposerOptions{});
  const double update_compose = ComposeAll(h, composer, update);
  const double apology_compose = ComposeAll(h, composer, apology);
  std::printf(
      "compose %lld emails: apology %.2f s (%.0f/s), status update %.2f s "
      "(%.0f/s), ratio %.2fx\n",
      static_cast<long long>(n), apology_compose, n / apology_compose,
      update_compose, n / update_compose, apology_compose / update_compose);
  std::printf("peak RSS %.0f MiB\n", PeakRssMiB());
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace herald

int main(int argc, char** argv) { return herald::Main(argc, argv); }
