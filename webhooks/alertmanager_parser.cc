#include "webhooks/alertmanager_parser.h"

#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "herald/v1/alertmanager.pb.h"
#include "server/core/proto_time.h"

namespace herald::webhooks {
namespace {

using Reason = WebhookRejection::Reason;

WebhookRejection Reject(Reason reason, std::string message) {
  return WebhookRejection{reason, std::move(message)};
}

absl::StatusOr<v1::AlertStatus> ParseStatus(const std::string& s) {
  if (s == "firing") return v1::ALERT_STATUS_FIRING;
  if (s == "resolved") return v1::ALERT_STATUS_RESOLVED;
  return absl::InvalidArgumentError(
      absl::StrCat("expected \"firing\" or \"resolved\", got \"", s, "\""));
}

// Alertmanager sends Go's zero time (0001-01-01T00:00:00Z) for "not set".
absl::StatusOr<absl::Time> ParseTimestamp(const std::string& s) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, s, &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an RFC 3339 time, got \"", s, "\""));
  }
  return t;
}

bool IsZeroTime(absl::Time t) { return t < absl::FromUnixSeconds(0); }

}  // namespace

int WebhookRejection::http_status() const {
  return reason == Reason::kContentType ? 415 : 400;
}

absl::string_view WebhookRejection::label() const {
  switch (reason) {
    case Reason::kContentType:
      return "content_type";
    case Reason::kMalformedJson:
      return "malformed_json";
    case Reason::kUnsupportedVersion:
      return "unsupported_version";
    case Reason::kInvalidPayload:
      return "invalid_payload";
  }
  return "unknown";
}

ParsedWebhook ParseAlertmanagerWebhook(absl::string_view content_type,
                                       absl::string_view body) {
  absl::string_view media = absl::StripAsciiWhitespace(
      absl::string_view(content_type).substr(0, content_type.find(';')));
  if (!absl::EqualsIgnoreCase(media, "application/json")) {
    return Reject(Reason::kContentType,
                  absl::StrCat("expected Content-Type application/json, got \"",
                               content_type, "\""));
  }

  v1::AlertmanagerWebhook payload;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), &payload,
      options);
  if (!parsed.ok()) {
    return Reject(
        Reason::kMalformedJson,
        absl::StrCat("malformed JSON: ", std::string(parsed.message())));
  }

  if (!payload.has_version())
    return Reject(Reason::kInvalidPayload, "missing field \"version\"");
  if (payload.version() != "4") {
    return Reject(
        Reason::kUnsupportedVersion,
        absl::StrCat("unsupported payload version \"", payload.version(),
                     "\": herald accepts Alertmanager webhook version \"4\""));
  }
  if (!payload.has_group_key() || payload.group_key().empty()) {
    return Reject(Reason::kInvalidPayload, "missing field \"groupKey\"");
  }
  if (!payload.has_status())
    return Reject(Reason::kInvalidPayload, "missing field \"status\"");
  auto group_status = ParseStatus(payload.status());
  if (!group_status.ok()) {
    return Reject(
        Reason::kInvalidPayload,
        absl::StrCat("field \"status\": ", group_status.status().message()));
  }
  if (payload.alerts().empty()) {
    return Reject(Reason::kInvalidPayload,
                  "field \"alerts\": expected at least one alert");
  }
  if (payload.truncated_alerts() < 0) {
    return Reject(Reason::kInvalidPayload,
                  "field \"truncatedAlerts\": expected a count >= 0");
  }

  v1::AlertGroup group;
  group.set_source("alertmanager");
  group.set_group_key(payload.group_key());
  group.set_status(*group_status);
  group.set_receiver(payload.receiver());
  group.set_external_url(payload.external_url());
  group.set_truncated_alerts(payload.truncated_alerts());
  *group.mutable_common_annotations() = payload.common_annotations();

  for (int i = 0; i < payload.alerts_size(); ++i) {
    const v1::AlertmanagerAlert& in = payload.alerts(i);
    const std::string field = absl::StrCat("alerts[", i, "]");
    if (!in.has_fingerprint() || in.fingerprint().empty()) {
      return Reject(Reason::kInvalidPayload,
                    absl::StrCat("missing field \"", field, ".fingerprint\""));
    }
    if (!in.has_status()) {
      return Reject(Reason::kInvalidPayload,
                    absl::StrCat("missing field \"", field, ".status\""));
    }
    auto status = ParseStatus(in.status());
    if (!status.ok()) {
      return Reject(Reason::kInvalidPayload,
                    absl::StrCat("field \"", field,
                                 ".status\": ", status.status().message()));
    }
    if (in.labels().empty()) {
      return Reject(Reason::kInvalidPayload,
                    absl::StrCat("field \"", field,
                                 ".labels\": expected at least one label"));
    }
    if (!in.has_starts_at()) {
      return Reject(Reason::kInvalidPayload,
                    absl::StrCat("missing field \"", field, ".startsAt\""));
    }
    auto starts = ParseTimestamp(in.starts_at());
    if (!starts.ok()) {
      return Reject(Reason::kInvalidPayload,
                    absl::StrCat("field \"", field,
                                 ".startsAt\": ", starts.status().message()));
    }
    v1::Alert* out = group.add_alerts();
    out->set_fingerprint(in.fingerprint());
    out->set_group_key(payload.group_key());
    out->set_status(*status);
    *out->mutable_labels() = in.labels();
    *out->mutable_annotations() = in.annotations();
    out->set_generator_url(in.generator_url());
    *out->mutable_starts_at() = ToProtoTime(*starts);
    if (!in.ends_at().empty()) {
      auto ends = ParseTimestamp(in.ends_at());
      if (!ends.ok()) {
        return Reject(Reason::kInvalidPayload,
                      absl::StrCat("field \"", field,
                                   ".endsAt\": ", ends.status().message()));
      }
      if (!IsZeroTime(*ends)) *out->mutable_ends_at() = ToProtoTime(*ends);
    }
  }
  return group;
}

}  // namespace herald::webhooks
