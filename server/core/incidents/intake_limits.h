// IntakeLimits bounds the sizes and counts an alert group may bring, so that
// no sender can make an incident, an RPC reply or the database grow without
// bound (config: intake.limits). An alert must not be lost because one text
// is long, and Alertmanager does not retry a 4xx: over-long label values and
// annotations are cut with a visible marker, and an over-long groupKey is
// replaced by a stable digest (the same key always gives the same digest, so
// grouping and deduplication still hold). Only what no real sender produces
// (too many labels, an over-long label name or fingerprint) refuses the
// notification with InvalidArgument naming the field. Immutable;
// thread-safe.
#ifndef HERALD_SERVER_CORE_INCIDENTS_INTAKE_LIMITS_H_
#define HERALD_SERVER_CORE_INCIDENTS_INTAKE_LIMITS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "herald/v1/config.pb.h"
#include "herald/v1/domain.pb.h"

namespace herald {

// What ApplyIntakeLimits changed, by field kind, for the metrics.
struct LimitHits {
  int label_values = 0;  // label values cut
  int annotations = 0;   // annotation values cut (the alerts' and common)
  int group_keys = 0;    // group keys replaced by their digest
  int urls = 0;          // generator URLs dropped
};

struct IntakeLimits {
  // Alertmanager fingerprints are 16 hex digits; a key this long is no
  // fingerprint.
  static constexpr size_t kMaxFingerprintBytes = 256;
  // A link longer than this is dropped rather than cut: a cut URL is broken.
  static constexpr size_t kMaxUrlBytes = 4096;
  // The shortest max_group_key_bytes allowed: room for the digest and some
  // of the key.
  static constexpr size_t kMinGroupKeyBytes = 128;
  // An open incident takes in at most this many further alert groups; a
  // new group on its components beyond that opens an incident of its own.
  // The incident record lists its groups and is rewritten on each change,
  // so this keeps it (and every reply carrying it) small.
  static constexpr int kMaxAttachedGroups = 200;

  size_t max_label_name_bytes = 128;
  size_t max_label_value_bytes = 1024;
  size_t max_annotation_bytes = 4096;
  size_t max_group_key_bytes = 1024;
  size_t max_labels_per_alert = 64;
  int64_t max_alerts_per_incident = 50000;

  // The defaults, overridden by what `config` sets. InvalidArgument naming
  // the field ("intake.limits.max_group_key_bytes: ...") for a value that
  // is negative or too small to work.
  static absl::StatusOr<IntakeLimits> FromConfig(
      const v1::IntakeLimits& config);
};

// `group_key` itself when it fits in `max_bytes`; otherwise its start, cut
// at a code point, then "…sha256:" and the hex SHA-256 of the whole key:
// at most `max_bytes` long, and the same for the same key.
std::string BoundGroupKey(absl::string_view group_key, size_t max_bytes);

// Brings `group` within `limits` in place, counting what it changed in
// `hits`, and sets each alert's group_key to the group's (bounded) key.
// InvalidArgument naming the field ("alerts[2].labels: 70 labels, at most 64")
// when the group is beyond repair; `group` is then partly changed.
absl::Status ApplyIntakeLimits(const IntakeLimits& limits,
                               v1::AlertGroup& group, LimitHits& hits);

}  // namespace herald

#endif  // HERALD_SERVER_CORE_INCIDENTS_INTAKE_LIMITS_H_
