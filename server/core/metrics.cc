#include "server/core/metrics.h"

#include <string>

namespace herald {
namespace {

prometheus::Family<prometheus::Counter>& CounterFamily(prometheus::Registry& r,
                                                       const char* name,
                                                       const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

prometheus::Gauge& OneGauge(prometheus::Registry& r, const char* name,
                            const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
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
      deliveries(CounterFamily(
          registry, "herald_deliveries_total",
          "Delivery attempts, by channel and result (delivered, retry, "
          "rejected, gone).")),
      delivery_fallbacks(
          CounterFamily(registry, "herald_delivery_fallbacks_total",
                        "Deliveries that moved on to the recipient's next "
                        "contact.")
              .Add({})),
      recipients_unreached(
          CounterFamily(registry, "herald_recipients_unreached_total",
                        "Deliveries that failed on every contact of their "
                        "recipient.")
              .Add({})),
      outbox_depth(OneGauge(registry, "herald_outbox_deliveries",
                            "Deliveries queued, retrying or being sent.")),
      outbox_oldest_age_seconds(OneGauge(
          registry, "herald_outbox_oldest_age_seconds",
          "Seconds the oldest undelivered delivery has waited since it was "
          "queued; 0 when the outbox is empty.")),
      approval_to_delivery_seconds(
          prometheus::BuildHistogram()
              .Name("herald_approval_to_delivery_seconds")
              .Help("Seconds from a message's approval to its delivery to a "
                    "recipient.")
              .Register(registry)
              .Add({},
                   prometheus::Histogram::BucketBoundaries{
                       0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600})),
      first_draft_seconds(
          prometheus::BuildHistogram()
              .Name("herald_first_draft_seconds")
              .Help("Seconds from an incident opening to its first draft "
                    "being approvable.")
              .Register(registry)
              .Add({},
                   prometheus::Histogram::BucketBoundaries{
                       0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5})),
      self_service(CounterFamily(
          registry, "herald_self_service_events_total",
          "Status page self-service: subscription requests (requested, "
          "throttled), confirmations and unsubscribes.")),
      follow_up_answers(CounterFamily(
          registry, "herald_follow_up_answers_total",
          "Customers' answers to follow-ups, by answer (works, still_broken, "
          "credit_received, credit_missing).")) {}

}  // namespace herald

namespace herald {

prometheus::Counter& HeraldMetrics::AlertsReceived(absl::string_view status) {
  return alerts_received.Add({{"status", std::string(status)}});
}

prometheus::Counter& HeraldMetrics::Deliveries(absl::string_view channel,
                                               absl::string_view result) {
  return deliveries.Add(
      {{"channel", std::string(channel)}, {"result", std::string(result)}});
}

prometheus::Counter& HeraldMetrics::SelfService(absl::string_view event) {
  return self_service.Add({{"event", std::string(event)}});
}

prometheus::Counter& HeraldMetrics::FollowUpAnswers(absl::string_view answer) {
  return follow_up_answers.Add({{"answer", std::string(answer)}});
}

prometheus::Counter& HeraldMetrics::WebhooksRejected(absl::string_view reason) {
  return webhooks_rejected.Add({{"reason", std::string(reason)}});
}

}  // namespace herald
