#include "cli/output.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/util/json_util.h"
#include "server/base/text.h"

namespace herald::cli {

std::string When(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(ts.seconds()),
                          absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> ParseWhen(const std::string& text,
                                     absl::string_view flag, absl::Time now) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return t;
  absl::Duration d;
  if (absl::ParseDuration(text, &d)) return now + d;
  return absl::InvalidArgumentError(
      absl::StrCat(flag,
                   ": expected an RFC 3339 time (2026-11-24T03:00:00Z) or a "
                   "duration from now (8h), got \"",
                   text, "\""));
}

std::string Money(int64_t cents, const std::string& currency) {
  return absl::StrFormat("%s %d.%02d", currency, cents / 100, cents % 100);
}

std::string Duration(const google::protobuf::Timestamp& from,
                     const google::protobuf::Timestamp& to) {
  if (from.seconds() == 0 || to.seconds() == 0) return "-";
  return absl::FormatDuration(absl::Seconds(to.seconds() - from.seconds()));
}

std::string OneLine(const std::string& s, size_t max) {
  const std::string flat = absl::StrReplaceAll(s, {{"\n", " "}, {"\r", " "}});
  if (flat.size() <= max) return flat;
  return TruncateUtf8(flat, max - 3, "...");  // never half a character
}

void PrintJson(const google::protobuf::Message& m, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  // Every field, with its default when unset: a script reads "incidents": []
  // for an empty list, never a missing key (kubectl's habit).
  options.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(m, &json, options);
  out << json;
  if (json.empty() || json.back() != '\n') out << "\n";
}

void PrintJsonLine(const google::protobuf::Message& m, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(m, &json, options);
  out << json << "\n";
}

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "invalid argument";
    case grpc::StatusCode::NOT_FOUND:
      return "not found";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "already exists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "permission denied";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "unauthenticated";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "failed precondition";
    case grpc::StatusCode::ABORTED:
      return "aborted";
    case grpc::StatusCode::UNAVAILABLE:
      return "unavailable";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline exceeded";
    default:
      return absl::StrCat("error ", static_cast<int>(code));
  }
}

}  // namespace herald::cli
