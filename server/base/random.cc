#include "server/base/random.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace herald {

double Random::Uniform() {
  uint8_t bytes[8];
  Fill(absl::MakeSpan(bytes));
  uint64_t bits = 0;
  std::memcpy(&bits, bytes, sizeof bits);
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

std::string Random::Hex(int bytes) {
  std::string raw(static_cast<size_t>(bytes), '\0');
  Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(raw.data()), raw.size()));
  return absl::BytesToHexString(raw);
}

void SecureRandom::Fill(absl::Span<uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    std::abort();  // no entropy: cannot go on safely
  }
}

void SeededRandom::Fill(absl::Span<uint8_t> out) {
  absl::MutexLock lock(&mu_);
  for (uint8_t& b : out) b = static_cast<uint8_t>(engine_());
}

}  // namespace herald
