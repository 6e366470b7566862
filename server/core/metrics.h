// CoreMetrics holds the series the domain keeps: intake, incidents,
// approvals, self-service and follow-ups. Each part of heraldd owns its own
// (DeliveryMetrics, HttpMetrics, GrpcMetrics, StoreMetrics), all built on
// one injected prometheus::Registry (never a global one) so tests can read
// them. prometheus-cpp metrics are thread-safe; this struct is immutable
// after construction.
#ifndef HERALD_SERVER_CORE_METRICS_H_
#define HERALD_SERVER_CORE_METRICS_H_

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace herald {

struct CoreMetrics {
  explicit CoreMetrics(prometheus::Registry& registry);

  // Alerts received from Alertmanager, by alert status ("firing", "resolved").
  prometheus::Counter& AlertsReceived(absl::string_view status);
  // Self-service on the status page, by event ("requested", "throttled",
  // "rate_limited", "confirmed", "unsubscribed", "purged",
  // "preferences_changed").
  prometheus::Counter& SelfService(absl::string_view event);
  // Customers' answers to follow-ups ("works", "still_broken",
  // "credit_received", "credit_missing").
  prometheus::Counter& FollowUpAnswers(absl::string_view answer);
  // Alert fields brought within intake.limits, by field ("label_value",
  // "annotation", "group_key", "url"): cut with a marker, digested or
  // dropped.
  prometheus::Counter& AlertFieldsTruncated(absl::string_view field);

  prometheus::Family<prometheus::Counter>& alerts_received;
  prometheus::Counter& incidents_opened;
  prometheus::Counter& alerts_unrouted;
  prometheus::Counter& messages_published;
  // Seconds from an incident opening (its notification arriving) to its
  // first draft being durable and approvable. Target: under 1 s.
  prometheus::Histogram& first_draft_seconds;
  prometheus::Family<prometheus::Counter>& self_service;
  prometheus::Family<prometheus::Counter>& follow_up_answers;
  // Open incidents by impact (none, minor, major, critical).
  prometheus::Family<prometheus::Gauge>& open_incidents;
  // Seconds since the oldest open public incident was last updated in
  // public; 0 when no public incident is open.
  prometheus::Gauge& oldest_open_incident_update_age_seconds;
  // Open incidents nobody has acknowledged yet.
  prometheus::Gauge& unacknowledged_incidents;
  // Open public incidents whose last public update is older than their
  // impact's update cadence (comms.update_cadence).
  prometheus::Gauge& incidents_past_update_cadence;
  // Seconds from an incident opening to its first published customer
  // message.
  prometheus::Histogram& time_to_first_update_seconds;
  // Seconds a customer message waited between being drafted and approved.
  prometheus::Histogram& approval_latency_seconds;
  prometheus::Family<prometheus::Counter>& alert_fields_truncated;
  // Alert groups refused because they were beyond intake.limits (too many
  // labels, an over-long label name or fingerprint).
  prometheus::Counter& alert_groups_refused;
  // Alerts not stored because their incident already held
  // intake.limits.max_alerts_per_incident.
  prometheus::Counter& alerts_over_limit;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_METRICS_H_
