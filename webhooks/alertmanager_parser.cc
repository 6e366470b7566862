#include "webhooks/alertmanager_parser.h"

#include <simdjson.h>

#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "herald/v1/alertmanager.pb.h"
#include "server/base/proto_time.h"
#include "server/base/text.h"

namespace herald::webhooks {
namespace {

using Reason = WebhookRejection::Reason;

// The message quotes what was sent (a field name, a value): shown as text,
// and bounded, so a hostile payload cannot flood the reply or the log.
WebhookRejection Reject(Reason reason, absl::string_view message) {
  return WebhookRejection{
      reason, TruncateUtf8(ScrubText(message, /*keep_newlines=*/false), 512)};
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

// Reads the webhook JSON into `out`, as protobuf's JSON mapping of
// AlertmanagerWebhook would (unknown fields ignored, null as absent), but
// with simdjson: this runs for every notification, and protobuf's JSON
// parser took most of a webhook's CPU time. A value of the wrong type is
// named by its field path.
class WebhookDecoder {
 public:
  std::optional<WebhookRejection> Decode(absl::string_view body,
                                         v1::AlertmanagerWebhook& out) {
    simdjson::dom::element root;
    if (auto error = Parser().parse(body.data(), body.size()).get(root)) {
      return Reject(
          Reason::kMalformedJson,
          absl::StrCat("malformed JSON: ", simdjson::error_message(error)));
    }
    simdjson::dom::object object;
    if (root.get_object().get(object)) {
      return Reject(Reason::kInvalidPayload,
                    "expected a JSON object (an Alertmanager notification)");
    }
    for (auto [key, value] : object) {
      if (value.is_null()) continue;
      if (key == "version") {
        Str(value, "version", *out.mutable_version());
      } else if (key == "groupKey") {
        Str(value, "groupKey", *out.mutable_group_key());
      } else if (key == "truncatedAlerts") {
        int64_t n = 0;
        if (value.get_int64().get(n) || n < INT32_MIN || n > INT32_MAX) {
          Fail("truncatedAlerts", "expected an integer");
        }
        out.set_truncated_alerts(static_cast<int32_t>(n));
      } else if (key == "status") {
        Str(value, "status", *out.mutable_status());
      } else if (key == "receiver") {
        Str(value, "receiver", *out.mutable_receiver());
      } else if (key == "groupLabels") {
        Map(value, "groupLabels", *out.mutable_group_labels());
      } else if (key == "commonLabels") {
        Map(value, "commonLabels", *out.mutable_common_labels());
      } else if (key == "commonAnnotations") {
        Map(value, "commonAnnotations", *out.mutable_common_annotations());
      } else if (key == "externalURL") {
        Str(value, "externalURL", *out.mutable_external_url());
      } else if (key == "alerts") {
        Alerts(value, out);
      }
      if (error_) break;
    }
    return std::move(error_);
  }

 private:
  // One parser per thread: it keeps its buffers between notifications.
  static simdjson::dom::parser& Parser() {
    thread_local simdjson::dom::parser parser;
    return parser;
  }

  void Fail(absl::string_view field, absl::string_view expected) {
    if (!error_) {
      error_ = Reject(Reason::kInvalidPayload,
                      absl::StrCat("field \"", field, "\": ", expected));
    }
  }

  void Str(simdjson::dom::element value, absl::string_view field,
           std::string& out) {
    std::string_view s;
    if (value.get_string().get(s)) return Fail(field, "expected a string");
    out.assign(s.data(), s.size());
  }

  void Map(simdjson::dom::element value, absl::string_view field,
           google::protobuf::Map<std::string, std::string>& out) {
    simdjson::dom::object object;
    if (value.get_object().get(object)) {
      return Fail(field, "expected an object of strings");
    }
    for (auto [key, v] : object) {
      std::string_view s;
      if (v.get_string().get(s)) {
        return Fail(absl::StrCat(field, ".", std::string(key)),
                    "expected a string");
      }
      out[std::string(key)] = std::string(s);
    }
  }

  void Alerts(simdjson::dom::element value, v1::AlertmanagerWebhook& out) {
    simdjson::dom::array array;
    if (value.get_array().get(array)) {
      return Fail("alerts", "expected an array of alerts");
    }
    int i = 0;
    for (simdjson::dom::element item : array) {
      const std::string field = absl::StrCat("alerts[", i++, "]");
      simdjson::dom::object object;
      if (item.get_object().get(object)) {
        return Fail(field, "expected an alert object");
      }
      v1::AlertmanagerAlert* alert = out.add_alerts();
      for (auto [key, v] : object) {
        if (v.is_null()) continue;
        const std::string path = absl::StrCat(field, ".", std::string(key));
        if (key == "status") {
          Str(v, path, *alert->mutable_status());
        } else if (key == "labels") {
          Map(v, path, *alert->mutable_labels());
        } else if (key == "annotations") {
          Map(v, path, *alert->mutable_annotations());
        } else if (key == "startsAt") {
          Str(v, path, *alert->mutable_starts_at());
        } else if (key == "endsAt") {
          Str(v, path, *alert->mutable_ends_at());
        } else if (key == "generatorURL") {
          Str(v, path, *alert->mutable_generator_url());
        } else if (key == "fingerprint") {
          Str(v, path, *alert->mutable_fingerprint());
        }
        if (error_) return;
      }
    }
  }

  std::optional<WebhookRejection> error_;
};

std::optional<WebhookRejection> DecodeJson(absl::string_view body,
                                           v1::AlertmanagerWebhook& out) {
  return WebhookDecoder().Decode(body, out);
}

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
  if (std::optional<WebhookRejection> bad = DecodeJson(body, payload)) {
    return *std::move(bad);
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
    // Each alert's group_key is left to intake, which sets it once the
    // group's key is bounded: copying a long key into every alert here
    // would multiply a 1 MiB body many times over in memory.
    out->set_fingerprint(in.fingerprint());
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
