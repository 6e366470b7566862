// Small helpers shared by the benchmark binaries: exit on an error, and the
// process's peak resident set size.
#ifndef HERALD_TESTS_BENCH_BENCH_UTIL_H_
#define HERALD_TESTS_BENCH_BENCH_UTIL_H_

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"

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

}  // namespace herald::bench

#endif  // HERALD_TESTS_BENCH_BENCH_UTIL_H_
