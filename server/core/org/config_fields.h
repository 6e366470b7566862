// Helpers that turn config values into settings and name the field when a
// value is wrong ("delivery.retry_schedule[2]: expected ..."). Stateless;
// thread-safe.
#ifndef HERALD_SERVER_CORE_ORG_CONFIG_FIELDS_H_
#define HERALD_SERVER_CORE_ORG_CONFIG_FIELDS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace herald {

// InvalidArgument "<path>: <what>".
absl::Status FieldError(absl::string_view path, absl::string_view what);

// Parses `text` into `*out` when it is set; it must be a positive Go
// duration or a number of days ("7d"), at most 365 days. `example` shows the
// expected form in the error.
absl::Status ParsePositiveDuration(absl::string_view field,
                                   const std::string& text,
                                   absl::string_view example,
                                   absl::Duration* out);

}  // namespace herald

#endif  // HERALD_SERVER_CORE_ORG_CONFIG_FIELDS_H_
