#include "server/http/http_metrics.h"

#include <string>

#include "server/base/metric_builders.h"

namespace herald {

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : webhooks_rejected(
          CounterFamily(registry, "herald_webhook_requests_rejected_total",
                        "Inbound webhook requests refused, by reason.")),
      http_connections(OneGauge(registry, "herald_http_connections",
                                "Open HTTP connections, event streams "
                                "included.")),
      http_refused(CounterFamily(
          registry, "herald_http_refused_total",
          "HTTP connections and event streams refused or ended to bound "
          "resources, by reason (connection_limit, accept_failed, "
          "event_stream_limit, event_stream_lagged).")),
      public_renders(CounterFamily(
          registry, "herald_public_document_renders_total",
          "Public documents rendered, by path; between changes they are "
          "served from memory.")) {}

prometheus::Counter& HttpMetrics::WebhooksRejected(absl::string_view reason) {
  return webhooks_rejected.Add({{"reason", std::string(reason)}});
}

prometheus::Counter& HttpMetrics::HttpRefused(absl::string_view reason) {
  return http_refused.Add({{"reason", std::string(reason)}});
}

}  // namespace herald
