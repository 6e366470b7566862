// GrpcMetrics holds the gRPC calls' series: calls by method and status
// code, and their duration. The call observer (grpc_call_observer.h) feeds
// them. Built on the injected registry (core/metrics.h says how the parts
// share it). Thread-safe; immutable after construction.
#ifndef HERALD_SERVER_API_GRPC_METRICS_H_
#define HERALD_SERVER_API_GRPC_METRICS_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace herald {

struct GrpcMetrics {
  explicit GrpcMetrics(prometheus::Registry& registry);

  // One finished call of `method` ("/herald.v1.IncidentService/PostUpdate")
  // with `code` ("OK", "PERMISSION_DENIED").
  void CallFinished(absl::string_view method, absl::string_view code,
                    absl::Duration took);

  // Calls by full method name and status code, and their duration.
  prometheus::Family<prometheus::Counter>& grpc_requests;
  prometheus::Family<prometheus::Histogram>& grpc_request_duration_seconds;
};

}  // namespace herald

#endif  // HERALD_SERVER_API_GRPC_METRICS_H_
