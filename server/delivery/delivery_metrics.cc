#include "server/delivery/delivery_metrics.h"

#include <string>

#include "server/base/metric_builders.h"

namespace herald {

DeliveryMetrics::DeliveryMetrics(prometheus::Registry& registry)
    : deliveries(CounterFamily(
          registry, "herald_deliveries_total",
          "Delivery attempts, by channel and result (delivered, retry, "
          "rejected, gone).")),
      delivery_fallbacks(
          OneCounter(registry, "herald_delivery_fallbacks_total",
                     "Deliveries that moved on to the recipient's next "
                     "contact.")),
      recipients_unreached(
          OneCounter(registry, "herald_recipients_unreached_total",
                     "Deliveries that failed on every contact of their "
                     "recipient.")),
      channel_up(GaugeFamily(registry, "herald_channel_up",
                             "1 while a delivery channel answers, 0 while it "
                             "is down and its deliveries wait, by channel.")),
      outbox_depth(OneGauge(registry, "herald_outbox_deliveries",
                            "Deliveries queued, retrying or being sent.")),
      outbox_oldest_age_seconds(OneGauge(
          registry, "herald_outbox_oldest_age_seconds",
          "Seconds the oldest undelivered delivery has waited since it was "
          "queued; 0 when the outbox is empty.")),
      approval_to_delivery_seconds(
          OneHistogram(registry, "herald_approval_to_delivery_seconds",
                       "Seconds from a message's approval to its delivery to "
                       "a recipient.",
                       {0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600})) {}

prometheus::Counter& DeliveryMetrics::Deliveries(absl::string_view channel,
                                                 absl::string_view result) {
  return deliveries.Add(
      {{"channel", std::string(channel)}, {"result", std::string(result)}});
}

}  // namespace herald
