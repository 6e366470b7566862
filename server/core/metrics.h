// HeraldMetrics holds the counters herald's logic increments, built on an
// injected prometheus::Registry (never a global one) so tests can read them.
// prometheus-cpp metrics are thread-safe; this struct is immutable after
// construction.
#ifndef HERALD_SERVER_CORE_METRICS_H_
#define HERALD_SERVER_CORE_METRICS_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace herald {

struct HeraldMetrics {
  explicit HeraldMetrics(prometheus::Registry& registry);

  // Alerts received from Alertmanager, by alert status ("firing", "resolved").
  prometheus::Counter& AlertsReceived(absl::string_view status);
  // Webhook requests refused, by reason ("unauthorized", "malformed_json",
  // ...).
  prometheus::Counter& WebhooksRejected(absl::string_view reason);

  // Sends by channel ("email", "webhook", "slack", "sms") and result
  // ("delivered", "retry", "rejected", "gone", "channel_down").
  prometheus::Counter& Deliveries(absl::string_view channel,
                                  absl::string_view result);

  // Self-service on the status page, by event ("requested", "throttled",
  // "rate_limited", "confirmed", "unsubscribed", "purged").
  prometheus::Counter& SelfService(absl::string_view event);
  // Customers' answers to follow-ups ("works", "still_broken",
  // "credit_received", "credit_missing").
  prometheus::Counter& FollowUpAnswers(absl::string_view answer);
  // See http_refused.
  prometheus::Counter& HttpRefused(absl::string_view reason);
  // One finished gRPC call of `method` ("/herald.v1.IncidentService/
  // PostUpdate") with `code` ("OK", "PERMISSION_DENIED").
  void GrpcCallFinished(absl::string_view method, absl::string_view code,
                        absl::Duration took);

  prometheus::Family<prometheus::Counter>& alerts_received;
  prometheus::Family<prometheus::Counter>& webhooks_rejected;
  prometheus::Counter& incidents_opened;
  prometheus::Counter& alerts_unrouted;
  prometheus::Counter& messages_published;
  prometheus::Family<prometheus::Counter>& deliveries;
  // Deliveries that moved on to the recipient's next contact.
  prometheus::Counter& delivery_fallbacks;
  // Recipients no contact reached: `herald deliveries --failed` lists them.
  prometheus::Counter& recipients_unreached;
  // 1 while a delivery channel answers, 0 while it is down and its
  // deliveries wait (ChannelHealth), by channel.
  prometheus::Family<prometheus::Gauge>& channel_up;
  // Deliveries queued, retrying or being sent, and how long the oldest of
  // them has waited since it was queued.
  prometheus::Gauge& outbox_depth;
  prometheus::Gauge& outbox_oldest_age_seconds;
  // Seconds from a message's approval to its delivery, per recipient.
  prometheus::Histogram& approval_to_delivery_seconds;
  // Seconds from an incident opening (its notification arriving) to its
  // first draft being durable and approvable. Target: under 1 s.
  prometheus::Histogram& first_draft_seconds;
  prometheus::Family<prometheus::Counter>& self_service;
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
  // gRPC calls by full method name and status code, and their duration.
  prometheus::Family<prometheus::Counter>& grpc_requests;
  prometheus::Family<prometheus::Histogram>& grpc_request_duration_seconds;
  // How long each SQLite group commit took (COMMIT, including its fsync).
  prometheus::Histogram& sqlite_commit_duration_seconds;
  prometheus::Family<prometheus::Counter>& follow_up_answers;
  // Stored records that could not be read, by kind of record: left out of
  // lists, or (a delivery) failed with the reason. Should stay 0.
  prometheus::Family<prometheus::Counter>& unreadable_records;
  // Alert fields brought within intake.limits, by field ("label_value",
  // "annotation", "group_key", "url"): cut with a marker, digested or
  // dropped.
  prometheus::Family<prometheus::Counter>& alert_fields_truncated;
  prometheus::Counter& AlertFieldsTruncated(absl::string_view field);
  // Alert groups refused because they were beyond intake.limits (too many
  // labels, an over-long label name or fingerprint).
  prometheus::Counter& alert_groups_refused;
  // Alerts not stored because their incident already held
  // intake.limits.max_alerts_per_incident.
  prometheus::Counter& alerts_over_limit;
  // Open HTTP connections, event streams included.
  prometheus::Gauge& http_connections;
  // What the HTTP edge refused or cut off to bound its resources, by reason
  // ("connection_limit", "accept_failed", "event_stream_limit",
  // "event_stream_lagged").
  prometheus::Family<prometheus::Counter>& http_refused;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_METRICS_H_
