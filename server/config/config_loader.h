// Loads heraldd's YAML config onto proto/herald/v1/config.proto. The mapping
// is driven by the proto's descriptors, so the schema lives in one place:
// keys are field names, enums are written in lower case without their type
// prefix, and an unknown key is an error. Every error names the source, the
// line, the field path and what was expected. Stateless; thread-safe.
#ifndef HERALD_SERVER_CONFIG_CONFIG_LOADER_H_
#define HERALD_SERVER_CONFIG_CONFIG_LOADER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "herald/v1/config.pb.h"
#include "server/core/org/organisation.h"

namespace herald {

// Maps YAML text onto `message`. `source` names the text in errors.
absl::Status ParseYamlInto(absl::string_view yaml, absl::string_view source,
                           google::protobuf::Message* message);

// Reads, parses and validates a config file, with server defaults applied.
// Errors: "FILE:LINE:COL: FIELD: expected ..." (InvalidArgument), or
// NotFound when the file cannot be read.
absl::StatusOr<v1::Config> LoadConfigFile(const std::string& path);

// The embedded sample organisation heraldd runs on without --config.
v1::Config DefaultConfig();

// Fills unset server settings with their defaults.
void ApplyServerDefaults(v1::Config* config);

// Validates `config` and builds the Organisation. Errors are prefixed with
// `source` ("herald.yaml: rotas[0].members[1]: unknown person \"x\"").
absl::StatusOr<std::shared_ptr<const Organisation>> BuildOrganisation(
    v1::Config config, absl::string_view source);

// `heraldd --check-config`: validates `config` as BuildOrganisation does and
// returns a one-line summary of what it holds, or the error naming the bad
// field.
absl::StatusOr<std::string> CheckConfig(const v1::Config& config,
                                        absl::string_view source);

}  // namespace herald

#endif  // HERALD_SERVER_CONFIG_CONFIG_LOADER_H_
