// Human and config names for herald's proto enums: the value name without
// its type prefix, in lower case (IMPACT_CRITICAL -> "critical",
// ROLE_COMMS_LEAD -> "comms_lead"). Stateless; thread-safe.
#ifndef HERALD_PROTO_ENUM_LABELS_H_
#define HERALD_PROTO_ENUM_LABELS_H_

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace herald {

// "ComponentStatus" -> "COMPONENT_STATUS_".
inline std::string EnumValuePrefix(const google::protobuf::EnumDescriptor& e) {
  std::string out;
  for (char c : e.name()) {
    if (absl::ascii_isupper(c) && !out.empty()) out.push_back('_');
    out.push_back(absl::ascii_toupper(c));
  }
  return out + "_";
}

inline std::string EnumLabel(const google::protobuf::EnumValueDescriptor& v) {
  const std::string prefix = EnumValuePrefix(*v.type());
  std::string name = v.name();
  if (absl::StartsWith(name, prefix)) name = name.substr(prefix.size());
  return absl::AsciiStrToLower(name);
}

// The label of `value`, or "unknown" for a number the enum does not define.
template <typename E>
std::string EnumLabel(E value) {
  const auto* v = google::protobuf::GetEnumDescriptor<E>()->FindValueByNumber(
      static_cast<int>(value));
  return v == nullptr ? "unknown" : EnumLabel(*v);
}

// The value whose label is `label`; false when there is none (or it is 0).
template <typename E>
bool ParseEnumLabel(const std::string& label, E* value) {
  const auto* d = google::protobuf::GetEnumDescriptor<E>();
  const auto* v =
      d->FindValueByName(EnumValuePrefix(*d) + absl::AsciiStrToUpper(label));
  if (v == nullptr || v->number() == 0) return false;
  *value = static_cast<E>(v->number());
  return true;
}

}  // namespace herald

#endif  // HERALD_PROTO_ENUM_LABELS_H_
