// libFuzzer target: the config loader, YAML onto config.proto and then the
// organisation's validation. No input may crash or hang it; an error is
// InvalidArgument naming the source, and a config it accepts holds only
// valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "server/base/text.h"
#include "server/config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  herald::v1::Config config;
  absl::Status parsed = herald::ParseYamlInto(yaml, "fuzz.yaml", &config);
  if (!parsed.ok()) {
    if (parsed.code() != absl::StatusCode::kInvalidArgument ||
        !absl::StartsWith(parsed.message(), "fuzz.yaml")) {
      __builtin_trap();
    }
    return 0;
  }
  if (!herald::CheckUtf8Fields(config).ok()) __builtin_trap();
  herald::ApplyServerDefaults(&config);
  auto org = herald::BuildOrganisation(config, "fuzz.yaml");
  if (!org.ok() && org.status().code() != absl::StatusCode::kInvalidArgument) {
    __builtin_trap();
  }
  return 0;
}
