#include "server/core/metrics.h"

#include <string>
#include <utility>

#include "herald/enum_labels.h"
#include "herald/v1/domain.pb.h"

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

prometheus::Histogram& OneHistogram(prometheus::Registry& r, const char* name,
                                    const char* help,
                                    prometheus::Histogram::BucketBoundaries b) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add(
      {}, std::move(b));
}

// Seconds from a millisecond to a minute: RPCs and commits.
prometheus::Histogram::BucketBoundaries FastBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
          0.25,  0.5,    1,     2.5,  5,     10,   60};
}

// Seconds from ten seconds to a day: people's reactions.
prometheus::Histogram::BucketBoundaries HumanBuckets() {
  return {10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 86400};
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
      channel_up(prometheus::BuildGauge()
                     .Name("herald_channel_up")
                     .Help("1 while a delivery channel answers, 0 while it "
                           "is down and its deliveries wait, by channel.")
                     .Register(registry)),
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
          "credit_received, credit_missing).")),
      open_incidents(prometheus::BuildGauge()
                         .Name("herald_open_incidents")
                         .Help("Open incidents, by impact.")
                         .Register(registry)),
      oldest_open_incident_update_age_seconds(OneGauge(
          registry, "herald_oldest_open_incident_update_age_seconds",
          "Seconds since the oldest open public incident was last updated "
          "in public; 0 when none is open.")),
      unacknowledged_incidents(
          OneGauge(registry, "herald_unacknowledged_incidents",
                   "Open incidents that nobody has acknowledged yet.")),
      incidents_past_update_cadence(OneGauge(
          registry, "herald_incidents_past_update_cadence",
          "Open public incidents whose last public update is older than "
          "their impact's update cadence.")),
      time_to_first_update_seconds(OneHistogram(
          registry, "herald_time_to_first_update_seconds",
          "Seconds from an incident opening to its first published customer "
          "message.",
          HumanBuckets())),
      approval_latency_seconds(OneHistogram(
          registry, "herald_approval_latency_seconds",
          "Seconds a customer message waited from its draft to its approval.",
          HumanBuckets())),
      grpc_requests(
          CounterFamily(registry, "herald_grpc_requests_total",
                        "gRPC calls finished, by method and status code.")),
      grpc_request_duration_seconds(
          prometheus::BuildHistogram()
              .Name("herald_grpc_request_duration_seconds")
              .Help("Seconds from a gRPC call's arrival to its status, by "
                    "method and status code.")
              .Register(registry)),
      sqlite_commit_duration_seconds(OneHistogram(
          registry, "herald_sqlite_commit_duration_seconds",
          "Seconds each SQLite group commit took, its fsync included.",
          FastBuckets())),
      unreadable_records(CounterFamily(
          registry, "herald_unreadable_records_total",
          "Stored records that could not be read, by record: left out of "
          "lists, or a delivery failed with the reason.")),
      alert_fields_truncated(CounterFamily(
          registry, "herald_alert_fields_truncated_total",
          "Alert fields over intake.limits, by field (label_value, "
          "annotation, group_key, url): cut with a marker, digested or "
          "dropped.")),
      alert_groups_refused(
          CounterFamily(registry, "herald_alert_groups_refused_total",
                        "Alert groups refused as beyond intake.limits (too "
                        "many labels, an over-long label name or "
                        "fingerprint).")
              .Add({})),
      alerts_over_limit(
          CounterFamily(registry, "herald_alerts_over_limit_total",
                        "Alerts not stored because their incident already "
                        "held intake.limits.max_alerts_per_incident.")
              .Add({})),
      http_connections(OneGauge(registry, "herald_http_connections",
                                "Open HTTP connections, event streams "
                                "included.")),
      http_refused(CounterFamily(
          registry, "herald_http_refused_total",
          "HTTP connections and event streams refused or ended to bound "
          "resources, by reason (connection_limit, accept_failed, "
          "event_stream_limit, event_stream_lagged).")) {
  for (v1::Impact impact : {v1::IMPACT_NONE, v1::IMPACT_MINOR, v1::IMPACT_MAJOR,
                            v1::IMPACT_CRITICAL}) {
    open_incidents.Add({{"impact", EnumLabel(impact)}});
  }
}

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

void HeraldMetrics::GrpcCallFinished(absl::string_view method,
                                     absl::string_view code,
                                     absl::Duration took) {
  grpc_requests
      .Add({{"method", std::string(method)}, {"code", std::string(code)}})
      .Increment();
  grpc_request_duration_seconds
      .Add({{"method", std::string(method)}, {"code", std::string(code)}},
           FastBuckets())
      .Observe(absl::ToDoubleSeconds(took));
}

prometheus::Counter& HeraldMetrics::FollowUpAnswers(absl::string_view answer) {
  return follow_up_answers.Add({{"answer", std::string(answer)}});
}

prometheus::Counter& HeraldMetrics::AlertFieldsTruncated(
    absl::string_view field) {
  return alert_fields_truncated.Add({{"field", std::string(field)}});
}

prometheus::Counter& HeraldMetrics::HttpRefused(absl::string_view reason) {
  return http_refused.Add({{"reason", std::string(reason)}});
}

prometheus::Counter& HeraldMetrics::WebhooksRejected(absl::string_view reason) {
  return webhooks_rejected.Add({{"reason", std::string(reason)}});
}

}  // namespace herald
