#include "server/core/incidents/intake_limits.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/base/secret_token.h"
#include "server/base/text.h"

namespace herald {
namespace {

constexpr absl::string_view kDigestMarker = "…sha256:";
constexpr size_t kDigestBytes = 64;  // hex SHA-256

absl::Status LimitError(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("intake.limits.", field, ": ", what));
}

// Sets `out` from `value` unless it is 0 (the default stays).
absl::Status Setting(absl::string_view field, int64_t value, int64_t at_least,
                     size_t& out) {
  if (value == 0) return absl::OkStatus();
  if (value < at_least) {
    return LimitError(field,
                      absl::StrCat("expected at least ", at_least,
                                   " (or 0 for the default), got ", value));
  }
  out = static_cast<size_t>(value);
  return absl::OkStatus();
}

// Cuts every value of `map` to `max_bytes`; refuses a name over
// `max_name_bytes` or more than `max_entries` entries. Returns how many
// values it cut.
absl::StatusOr<int> BoundMap(
    absl::string_view field,
    google::protobuf::Map<std::string, std::string>& map, size_t max_name_bytes,
    size_t max_bytes, size_t max_entries) {
  if (map.size() > max_entries) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", map.size(), " entries, at most ", max_entries,
                     " (intake.limits.max_labels_per_alert)"));
  }
  int cut = 0;
  for (auto& [name, value] : map) {
    if (name.size() > max_name_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": a name of ", name.size(), " bytes, at most ",
          max_name_bytes, " (intake.limits.max_label_name_bytes): \"",
          TruncateUtf8(name, 64), "\""));
    }
    if (value.size() > max_bytes) {
      value = TruncateUtf8(value, max_bytes);
      ++cut;
    }
  }
  return cut;
}

}  // namespace

absl::StatusOr<IntakeLimits> IntakeLimits::FromConfig(
    const v1::IntakeLimits& config) {
  IntakeLimits limits;
  if (auto s = Setting("max_label_name_bytes", config.max_label_name_bytes(),
                       16, limits.max_label_name_bytes);
      !s.ok()) {
    return s;
  }
  if (auto s = Setting("max_label_value_bytes", config.max_label_value_bytes(),
                       16, limits.max_label_value_bytes);
      !s.ok()) {
    return s;
  }
  if (auto s = Setting("max_annotation_bytes", config.max_annotation_bytes(),
                       16, limits.max_annotation_bytes);
      !s.ok()) {
    return s;
  }
  if (auto s = Setting("max_group_key_bytes", config.max_group_key_bytes(),
                       kMinGroupKeyBytes, limits.max_group_key_bytes);
      !s.ok()) {
    return s;
  }
  if (auto s = Setting("max_labels_per_alert", config.max_labels_per_alert(), 1,
                       limits.max_labels_per_alert);
      !s.ok()) {
    return s;
  }
  size_t per_incident = 0;
  if (auto s = Setting("max_alerts_per_incident",
                       config.max_alerts_per_incident(), 1, per_incident);
      !s.ok()) {
    return s;
  }
  if (per_incident != 0) {
    limits.max_alerts_per_incident = static_cast<int64_t>(per_incident);
  }
  return limits;
}

std::string BoundGroupKey(absl::string_view group_key, size_t max_bytes) {
  if (group_key.size() <= max_bytes) return std::string(group_key);
  const size_t suffix = kDigestMarker.size() + kDigestBytes;
  const size_t keep = max_bytes > suffix ? max_bytes - suffix : 0;
  return absl::StrCat(TruncateUtf8(group_key, keep, ""), kDigestMarker,
                      Sha256Hex(group_key));
}

absl::Status ApplyIntakeLimits(const IntakeLimits& limits,
                               v1::AlertGroup& group, LimitHits& hits) {
  if (group.group_key().size() > limits.max_group_key_bytes) {
    group.set_group_key(
        BoundGroupKey(group.group_key(), limits.max_group_key_bytes));
    ++hits.group_keys;
  }
  absl::StatusOr<int> cut =
      BoundMap("commonAnnotations", *group.mutable_common_annotations(),
               limits.max_label_name_bytes, limits.max_annotation_bytes,
               limits.max_labels_per_alert);
  if (!cut.ok()) return cut.status();
  hits.annotations += *cut;
  if (group.external_url().size() > IntakeLimits::kMaxUrlBytes) {
    group.clear_external_url();
    ++hits.urls;
  }
  if (group.receiver().size() > limits.max_label_value_bytes) {
    group.set_receiver(
        TruncateUtf8(group.receiver(), limits.max_label_value_bytes));
    ++hits.label_values;
  }
  for (int i = 0; i < group.alerts_size(); ++i) {
    v1::Alert& alert = *group.mutable_alerts(i);
    const std::string field = absl::StrCat("alerts[", i, "]");
    if (alert.fingerprint().size() > IntakeLimits::kMaxFingerprintBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".fingerprint: ", alert.fingerprint().size(),
                       " bytes, at most ", IntakeLimits::kMaxFingerprintBytes));
    }
    alert.set_group_key(group.group_key());
    cut = BoundMap(absl::StrCat(field, ".labels"), *alert.mutable_labels(),
                   limits.max_label_name_bytes, limits.max_label_value_bytes,
                   limits.max_labels_per_alert);
    if (!cut.ok()) return cut.status();
    hits.label_values += *cut;
    cut = BoundMap(absl::StrCat(field, ".annotations"),
                   *alert.mutable_annotations(), limits.max_label_name_bytes,
                   limits.max_annotation_bytes, limits.max_labels_per_alert);
    if (!cut.ok()) return cut.status();
    hits.annotations += *cut;
    if (alert.generator_url().size() > IntakeLimits::kMaxUrlBytes) {
      alert.clear_generator_url();
      ++hits.urls;
    }
  }
  return absl::OkStatus();
}

}  // namespace herald
