// Parses and validates Alertmanager's version-4 webhook payload into the
// domain's AlertGroup. Every way the input can be wrong is a rejection that
// names the problem and carries the HTTP status to answer with; no input makes
// it crash or throw. Stateless; thread-safe.
#ifndef HERALD_WEBHOOKS_ALERTMANAGER_PARSER_H_
#define HERALD_WEBHOOKS_ALERTMANAGER_PARSER_H_

#include <string>
#include <variant>

#include "absl/strings/string_view.h"
#include "herald/v1/domain.pb.h"

namespace herald::webhooks {

struct WebhookRejection {
  enum class Reason {
    kContentType,
    kMalformedJson,
    kUnsupportedVersion,
    kInvalidPayload
  };
  Reason reason;
  std::string message;  // names the field or the problem, for the caller

  int http_status() const;          // 415 or 400
  absl::string_view label() const;  // metric label: "content_type", ...
};

using ParsedWebhook = std::variant<v1::AlertGroup, WebhookRejection>;

// `content_type` is the request's Content-Type header (parameters allowed).
ParsedWebhook ParseAlertmanagerWebhook(absl::string_view content_type,
                                       absl::string_view body);

}  // namespace herald::webhooks

#endif  // HERALD_WEBHOOKS_ALERTMANAGER_PARSER_H_
