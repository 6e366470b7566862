#include "server/core/metrics.h"

#include <string>

namespace herald {
namespace {

prometheus::Family<prometheus::Counter>& CounterFamily(prometheus::Registry& r,
                                                       const char* name,
                                                       const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

// Registering the same family twice returns the first registration.
prometheus::Family<prometheus::Counter>& EmailFamily(prometheus::Registry& r) {
  return CounterFamily(r, "herald_emails_total",
                       "Email delivery attempts, by result (sent, failed).");
}

}  // namespace

HeraldMetrics::HeraldMetrics(prometheus::Registry& registry)
    : alerts_received(
          CounterFamily(registry, "herald_alerts_received_total",
                        "Alerts received from Alertmanager, by alert status.")),
      webhooks_rejected(
          CounterFamily(registry, "herald_webhook_requests_rejected_total",
                        "Inbound webhook requests refused, by reason.")),
      incidents_opened(CounterFamily(registry, "herald_incidents_opened_total",
                                     "Incidents opened from alert groups.")
                           .Add({})),
      alerts_unrouted(CounterFamily(registry, "herald_alerts_unrouted_total",
                                    "Alerts that matched no component and "
                                    "went to the default component.")
                          .Add({})),
      messages_published(
          CounterFamily(registry, "herald_messages_published_total",
                        "Customer-facing messages approved and published.")
              .Add({})),
      emails_sent(EmailFamily(registry).Add({{"result", "sent"}})),
      emails_failed(EmailFamily(registry).Add({{"result", "failed"}})),
      first_draft_seconds(
          prometheus::BuildHistogram()
              .Name("herald_first_draft_seconds")
              .Help("Seconds from an incident opening to its first draft "
                    "being approvable.")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{
                           0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5})) {}

}  // namespace herald

namespace herald {

prometheus::Counter& HeraldMetrics::AlertsReceived(absl::string_view status) {
  return alerts_received.Add({{"status", std::string(status)}});
}

prometheus::Counter& HeraldMetrics::WebhooksRejected(absl::string_view reason) {
  return webhooks_rejected.Add({{"reason", std::string(reason)}});
}

}  // namespace herald
