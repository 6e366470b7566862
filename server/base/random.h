// Random: the only way herald draws random numbers (tokens, secrets, link
// keys, voucher codes, retry jitter), so tests can pin what is drawn.
// heraldd uses SecureRandom; tests may use SeededRandom.
// Implementations must be thread-safe.
#ifndef HERALD_SERVER_BASE_RANDOM_H_
#define HERALD_SERVER_BASE_RANDOM_H_

#include <cstdint>
#include <random>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace herald {

class Random {
 public:
  virtual ~Random() = default;

  // Fills `out` with random bytes.
  virtual void Fill(absl::Span<uint8_t> out) = 0;

  // Uniform in [0, 1), from 53 random bits.
  double Uniform();
  // `bytes` random bytes as lower-case hex.
  std::string Hex(int bytes);
};

// The operating system's CSPRNG, through OpenSSL's RAND_bytes. Aborts when
// it has no entropy: no secret may be made without it. Thread-safe.
class SecureRandom final : public Random {
 public:
  void Fill(absl::Span<uint8_t> out) override;
};

// The same bytes for the same seed; for tests and benchmarks, never for
// secrets. Thread-safe.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  void Fill(absl::Span<uint8_t> out) override;

 private:
  absl::Mutex mu_;
  std::mt19937_64 engine_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald

#endif  // HERALD_SERVER_BASE_RANDOM_H_
