// libFuzzer target: `herald subscribers import`'s CSV reader. No input may
// crash or hang it, an error names the file and is text, and every
// subscriber it returns holds only valid UTF-8 (protobuf could not send
// anything else).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "cli/subscriber_csv.h"
#include "server/base/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  absl::StatusOr<herald::cli::CsvSubscribers> read =
      herald::cli::ReadSubscriberCsv("fuzz.csv", in);
  if (!read.ok()) {
    if (read.status().code() != absl::StatusCode::kInvalidArgument ||
        !herald::IsValidUtf8(read.status().message())) {
      __builtin_trap();
    }
    return 0;
  }
  if (read->subscribers.size() != read->sources.size()) __builtin_trap();
  for (const auto& subscriber : read->subscribers) {
    if (!herald::CheckUtf8Fields(subscriber).ok()) __builtin_trap();
  }
  return 0;
}
