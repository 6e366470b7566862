#include "server/core/metrics.h"

#include <string>

#include "herald/enum_labels.h"
#include "herald/v1/domain.pb.h"
#include "server/base/metric_builders.h"

namespace herald {

CoreMetrics::CoreMetrics(prometheus::Registry& registry)
    : alerts_received(
          CounterFamily(registry, "herald_alerts_received_total",
                        "Alerts received from Alertmanager, by alert status.")),
      incidents_opened(OneCounter(registry, "herald_incidents_opened_total",
                                  "Incidents opened from alert groups.")),
      alerts_unrouted(OneCounter(registry, "herald_alerts_unrouted_total",
                                 "Alerts that matched no component and "
                                 "went to the default component.")),
      messages_published(
          OneCounter(registry, "herald_messages_published_total",
                     "Customer-facing messages approved and published.")),
      first_draft_seconds(
          OneHistogram(registry, "herald_first_draft_seconds",
                       "Seconds from an incident opening to its first draft "
                       "being approvable.",
                       {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5})),
      self_service(CounterFamily(
          registry, "herald_self_service_events_total",
          "Status page self-service: subscription requests (requested, "
          "throttled), confirmations and unsubscribes.")),
      follow_up_answers(CounterFamily(
          registry, "herald_follow_up_answers_total",
          "Customers' answers to follow-ups, by answer (works, still_broken, "
          "credit_received, credit_missing).")),
      open_incidents(GaugeFamily(registry, "herald_open_incidents",
                                 "Open incidents, by impact.")),
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
      alert_fields_truncated(CounterFamily(
          registry, "herald_alert_fields_truncated_total",
          "Alert fields over intake.limits, by field (label_value, "
          "annotation, group_key, url): cut with a marker, digested or "
          "dropped.")),
      alert_groups_refused(
          OneCounter(registry, "herald_alert_groups_refused_total",
                     "Alert groups refused as beyond intake.limits (too "
                     "many labels, an over-long label name or "
                     "fingerprint).")),
      alerts_over_limit(
          OneCounter(registry, "herald_alerts_over_limit_total",
                     "Alerts not stored because their incident already "
                     "held intake.limits.max_alerts_per_incident.")) {
  for (v1::Impact impact : {v1::IMPACT_NONE, v1::IMPACT_MINOR, v1::IMPACT_MAJOR,
                            v1::IMPACT_CRITICAL}) {
    open_incidents.Add({{"impact", EnumLabel(impact)}});
  }
}

prometheus::Counter& CoreMetrics::AlertsReceived(absl::string_view status) {
  return alerts_received.Add({{"status", std::string(status)}});
}

prometheus::Counter& CoreMetrics::SelfService(absl::string_view event) {
  return self_service.Add({{"event", std::string(event)}});
}

prometheus::Counter& CoreMetrics::FollowUpAnswers(absl::string_view answer) {
  return follow_up_answers.Add({{"answer", std::string(answer)}});
}

prometheus::Counter& CoreMetrics::AlertFieldsTruncated(
    absl::string_view field) {
  return alert_fields_truncated.Add({{"field", std::string(field)}});
}

}  // namespace herald
