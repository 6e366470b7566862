// JSON for herald's HTTP replies: the protobuf JSON mapping with the field
// names as written in the .proto (snake_case, as Statuspage uses) and every
// field printed, defaults included. Stateless; thread-safe.
#ifndef HERALD_PROTO_JSON_OUTPUT_H_
#define HERALD_PROTO_JSON_OUTPUT_H_

#include <string>

#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"

namespace herald {

inline std::string ToReplyJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  // Printing a generated message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  out.push_back('\n');
  return out;
}

}  // namespace herald

#endif  // HERALD_PROTO_JSON_OUTPUT_H_
