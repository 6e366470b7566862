// Small helpers shared by the benchmark binaries: exit on an error, the
// process's peak resident set size, and an audience of N subscribers.
#ifndef HERALD_TESTS_BENCH_BENCH_UTIL_H_
#define HERALD_TESTS_BENCH_BENCH_UTIL_H_

#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/harness.h"

namespace herald::bench {

// Exits 1, naming `what`, unless `s` is OK.
inline void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

inline double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

// Unsubscribes the demo organisation's three subscribers.
inline void RemoveDemoAudience(testing::CoreHarness& h) {
  for (const char* demo : {"globex", "initech", "umbrella"}) {
    h.subscribers.Remove(testing::Comms(), demo).IgnoreError();
  }
}

// Stores `n` subscribers of checkout, "sub0" to "sub<n-1>", each filled in
// by `fill(i, subscriber)`, in transactions of 50,000; then unsubscribes the
// demo's three, so that checkout's audience is exactly these `n`.
template <typename Fill>
void SeedCheckoutAudience(testing::CoreHarness& h, int64_t n, Fill fill) {
  for (int64_t from = 0; from < n; from += 50000) {
    Check(h.store->Write([&](StoreTxn& t) -> absl::Status {
      for (int64_t i = from; i < std::min(n, from + 50000); ++i) {
        v1::Subscriber s;
        s.set_id(absl::StrCat("sub", i));
        s.add_component_ids("checkout");
        fill(i, s);
        if (auto st = t.PutSubscriber(s); !st.ok()) return st;
      }
      return absl::OkStatus();
    }),
          "subscribers");
  }
  RemoveDemoAudience(h);
}

}  // namespace herald::bench

#endif  // HERALD_TESTS_BENCH_BENCH_UTIL_H_
