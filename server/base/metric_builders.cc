#include "server/base/metric_builders.h"

#include <utility>

namespace herald {

prometheus::Family<prometheus::Counter>& CounterFamily(
    prometheus::Registry& registry, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

prometheus::Counter& OneCounter(prometheus::Registry& registry,
                                const char* name, const char* help) {
  return CounterFamily(registry, name, help).Add({});
}

prometheus::Family<prometheus::Gauge>& GaugeFamily(
    prometheus::Registry& registry, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

prometheus::Gauge& OneGauge(prometheus::Registry& registry, const char* name,
                            const char* help) {
  return GaugeFamily(registry, name, help).Add({});
}

prometheus::Family<prometheus::Histogram>& HistogramFamily(
    prometheus::Registry& registry, const char* name, const char* help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
}

prometheus::Histogram& OneHistogram(
    prometheus::Registry& registry, const char* name, const char* help,
    prometheus::Histogram::BucketBoundaries buckets) {
  return HistogramFamily(registry, name, help).Add({}, std::move(buckets));
}

prometheus::Histogram::BucketBoundaries FastBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
          0.25,  0.5,    1,     2.5,  5,     10,   60};
}

prometheus::Histogram::BucketBoundaries HumanBuckets() {
  return {10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 86400};
}

}  // namespace herald
