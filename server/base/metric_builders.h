// Shorthands for building prometheus-cpp series on an injected registry,
// and the histogram buckets herald's parts share. Each part's metrics
// struct (CoreMetrics, DeliveryMetrics, HttpMetrics, GrpcMetrics,
// StoreMetrics) builds its own series with these. Stateless.
#ifndef HERALD_SERVER_BASE_METRIC_BUILDERS_H_
#define HERALD_SERVER_BASE_METRIC_BUILDERS_H_

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace herald {

prometheus::Family<prometheus::Counter>& CounterFamily(
    prometheus::Registry& registry, const char* name, const char* help);
// A counter without labels.
prometheus::Counter& OneCounter(prometheus::Registry& registry,
                                const char* name, const char* help);
prometheus::Family<prometheus::Gauge>& GaugeFamily(
    prometheus::Registry& registry, const char* name, const char* help);
// A gauge without labels.
prometheus::Gauge& OneGauge(prometheus::Registry& registry, const char* name,
                            const char* help);
prometheus::Family<prometheus::Histogram>& HistogramFamily(
    prometheus::Registry& registry, const char* name, const char* help);
// A histogram without labels.
prometheus::Histogram& OneHistogram(
    prometheus::Registry& registry, const char* name, const char* help,
    prometheus::Histogram::BucketBoundaries buckets);

// Seconds from a millisecond to a minute: RPCs and commits.
prometheus::Histogram::BucketBoundaries FastBuckets();
// Seconds from ten seconds to a day: people's reactions.
prometheus::Histogram::BucketBoundaries HumanBuckets();

}  // namespace herald

#endif  // HERALD_SERVER_BASE_METRIC_BUILDERS_H_
