// rpc_load: keeps N unary calls in flight against heraldd for a while and
// reports calls per second and latency percentiles. Used by
// update_rpc_bench.sh to compare engineer updates (PostUpdate, each durable)
// with a no-op call on the same server (the standard gRPC health check).
//
// usage: rpc_load ADDRESS METHOD TOKEN SECONDS IN_FLIGHT [INCIDENT]
//   METHOD: "health" or "update"
// Prints one line: "calls=N errors=E rate=R p50_ms=X p99_ms=Y".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "herald/v1/herald.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Load {
  grpc::GenericStub* stub;
  std::string method;
  std::string token;
  grpc::ByteBuffer request;
  Clock::time_point deadline;

  absl::Mutex mu;
  std::vector<double> latencies_ms ABSL_GUARDED_BY(mu);
  int errors ABSL_GUARDED_BY(mu) = 0;
  int running ABSL_GUARDED_BY(mu) = 0;
  std::string first_error ABSL_GUARDED_BY(mu);
  absl::Notification all_done;

  // One call; when it completes, the next one on this slot, until the
  // deadline.
  void Start() {
    struct Call {
      grpc::ClientContext ctx;
      grpc::ByteBuffer response;
      Clock::time_point started;
    };
    auto* call = new Call;
    if (!token.empty())
      call->ctx.AddMetadata("authorization", "Bearer " + token);
    call->started = Clock::now();
    stub->UnaryCall(&call->ctx, method, grpc::StubOptions(), &request,
                    &call->response, [this, call](grpc::Status s) {
                      const double ms =
                          std::chrono::duration<double, std::milli>(
                              Clock::now() - call->started)
                              .count();
                      delete call;
                      bool again = Clock::now() < deadline;
                      {
                        absl::MutexLock lock(&mu);
                        if (s.ok()) {
                          latencies_ms.push_back(ms);
                        } else {
                          if (errors++ == 0) first_error = s.error_message();
                        }
                        if (!again && --running == 0) all_done.Notify();
                      }
                      if (again) Start();
                    });
  }
};

grpc::ByteBuffer Serialize(const google::protobuf::Message& m) {
  const std::string bytes = m.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr,
                 "usage: rpc_load ADDRESS health|update TOKEN SECONDS "
                 "IN_FLIGHT [INCIDENT]\n");
    return 2;
  }
  const std::string kind = argv[2];
  auto channel =
      grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  Load load;
  load.stub = &stub;
  load.token = argv[3];
  const int seconds = std::atoi(argv[4]);
  const int in_flight = std::atoi(argv[5]);
  if (kind == "health") {
    load.method = "/grpc.health.v1.Health/Check";
    grpc::Slice empty("", 0);
    load.request = grpc::ByteBuffer(&empty, 1);
  } else {
    load.method = "/herald.v1.IncidentService/PostUpdate";
    herald::v1::PostUpdateRequest req;
    req.set_incident(argc > 6 ? argv[6] : "INC-1");
    req.set_text("rolled back the release; error rate falling");
    load.request = Serialize(req);
  }
  load.deadline = Clock::now() + std::chrono::seconds(seconds);
  {
    absl::MutexLock lock(&load.mu);
    load.running = in_flight;
  }
  const Clock::time_point started = Clock::now();
  for (int i = 0; i < in_flight; ++i) load.Start();
  load.all_done.WaitForNotification();
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - started).count();

  absl::MutexLock lock(&load.mu);
  std::vector<double> l = std::move(load.latencies_ms);
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) {
    return l.empty() ? 0.0 : l[std::min(l.size() - 1, size_t(p * l.size()))];
  };
  std::printf("calls=%zu errors=%d rate=%.1f p50_ms=%.2f p99_ms=%.2f\n",
              l.size(), load.errors, l.size() / elapsed, pct(0.50), pct(0.99));
  if (load.errors > 0) {
    std::fprintf(stderr, "first error: %s\n", load.first_error.c_str());
  }
  return load.errors > 0 ? 1 : 0;
}
