#include "server/api/grpc_metrics.h"

#include <string>

#include "server/base/metric_builders.h"

namespace herald {

GrpcMetrics::GrpcMetrics(prometheus::Registry& registry)
    : grpc_requests(
          CounterFamily(registry, "herald_grpc_requests_total",
                        "gRPC calls finished, by method and status code.")),
      grpc_request_duration_seconds(
          HistogramFamily(registry, "herald_grpc_request_duration_seconds",
                          "Seconds from a gRPC call's arrival to its status, "
                          "by method and status code.")) {}

void GrpcMetrics::CallFinished(absl::string_view method, absl::string_view code,
                               absl::Duration took) {
  const prometheus::Labels labels{{"method", std::string(method)},
                                  {"code", std::string(code)}};
  grpc_requests.Add(labels).Increment();
  grpc_request_duration_seconds.Add(labels, FastBuckets())
      .Observe(absl::ToDoubleSeconds(took));
}

}  // namespace herald
