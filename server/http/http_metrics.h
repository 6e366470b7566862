// HttpMetrics holds the HTTP edge's series: webhook requests refused, open
// connections, and what the edge refused or cut off to bound its
// resources. Built on the injected registry (core/metrics.h says how the
// parts share it). Thread-safe; immutable after construction.
#ifndef HERALD_SERVER_HTTP_HTTP_METRICS_H_
#define HERALD_SERVER_HTTP_HTTP_METRICS_H_

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace herald {

struct HttpMetrics {
  explicit HttpMetrics(prometheus::Registry& registry);

  // Webhook requests refused, by reason ("unauthorized", "malformed_json",
  // ...).
  prometheus::Counter& WebhooksRejected(absl::string_view reason);
  // See http_refused.
  prometheus::Counter& HttpRefused(absl::string_view reason);

  prometheus::Family<prometheus::Counter>& webhooks_rejected;
  // Open HTTP connections, event streams included.
  prometheus::Gauge& http_connections;
  // What the HTTP edge refused or cut off to bound its resources, by reason
  // ("connection_limit", "accept_failed", "event_stream_limit",
  // "event_stream_lagged").
  prometheus::Family<prometheus::Counter>& http_refused;
  // Public documents rendered (each is served from memory between
  // changes), by path.
  prometheus::Family<prometheus::Counter>& public_renders;
};

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_HTTP_METRICS_H_
