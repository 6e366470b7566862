// DeliveryMetrics holds the series of the outbox and its channels: sends by
// result, fallbacks, recipients no contact reached, channel health, queue
// depth and age, and approval-to-delivery time. Built on the injected
// registry (core/metrics.h says how the parts share it). Thread-safe;
// immutable after construction.
#ifndef HERALD_SERVER_DELIVERY_DELIVERY_METRICS_H_
#define HERALD_SERVER_DELIVERY_DELIVERY_METRICS_H_

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace herald {

struct DeliveryMetrics {
  explicit DeliveryMetrics(prometheus::Registry& registry);

  // Sends by channel ("email", "webhook", "slack", "sms") and result
  // ("delivered", "retry", "rejected", "gone", "channel_down").
  prometheus::Counter& Deliveries(absl::string_view channel,
                                  absl::string_view result);

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
};

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_DELIVERY_METRICS_H_
