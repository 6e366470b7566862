// ChannelHealth tells an outage of a channel apart from a recipient's
// failure. When a send fails in the channel itself (the SMTP relay refuses
// connections, the SMS gateway every recipient shares answers 503:
// SendResult::kChannelDown), the channel is marked down, like a circuit
// breaker: its deliveries wait without using their attempts, and one send at
// a time probes it, with backoff, until one gets an answer. The outbox then
// sends what waited at once. What it knows lives in this process and starts
// "up"; herald_channel_up{channel} shows it. Thread-safe.
#ifndef HERALD_SERVER_DELIVERY_CHANNEL_HEALTH_H_
#define HERALD_SERVER_DELIVERY_CHANNEL_HEALTH_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"

namespace herald {

struct ChannelHealthOptions {
  // Probes of a down channel are this far apart at first, doubling up to
  // probe_cap.
  absl::Duration probe_base = absl::Seconds(5);
  absl::Duration probe_cap = absl::Minutes(5);
  // How long deliveries wait for a down channel before they move on to the
  // recipient's next contact (one who has none waits on).
  absl::Duration patience = absl::Minutes(10);
};

class ChannelHealth {
 public:
  // `up`: the herald_channel_up family, set to 1 for each of `channels`.
  ChannelHealth(ChannelHealthOptions options,
                prometheus::Family<prometheus::Gauge>& up,
                const std::vector<v1::ChannelKind>& channels);

  // What a send on a channel should do now.
  struct Verdict {
    bool send = true;    // the channel is up, or this send is its probe
    bool probe = false;  // this send is the down channel's probe
    // Otherwise: the channel has been down since `down_since` with `error`;
    // wait until `retry_at` (or until the channel is back).
    absl::Time down_since;
    absl::Time retry_at;
    std::string error;
  };
  Verdict Check(v1::ChannelKind channel, absl::Time now);

  // The channel answered a send, whatever it said about the recipient.
  // True when it was down until now: what waits for it may go.
  bool Answered(v1::ChannelKind channel, absl::Time now);

  // A send failed in the channel itself with `error`; `probe`: it was the
  // probe Check granted (only probes back off further: sends that were in
  // flight when the channel went down do not). Returns when to try that
  // delivery again (the next probe) and since when the channel is down.
  Verdict Failed(v1::ChannelKind channel, absl::Time now, std::string error,
                 bool probe);

  // Whether `channel` is down now.
  bool IsDown(v1::ChannelKind channel);

  const ChannelHealthOptions& options() const { return options_; }

 private:
  struct State {
    bool down = false;
    absl::Time down_since;
    absl::Time next_probe;  // while down: when the next send may go
    bool probing = false;   // a probe is in flight: the others wait
    int probes = 0;         // failed probes since it went down
    std::string error;
  };
  // The wait after `probes` failed sends: probe_base * 2^(probes-1), capped.
  absl::Duration ProbeDelay(int probes) const;
  Verdict Waiting(const State& s, absl::Time retry_at) const;
  prometheus::Gauge& Gauge(v1::ChannelKind channel);

  const ChannelHealthOptions options_;
  prometheus::Family<prometheus::Gauge>& up_;
  absl::Mutex mu_;
  std::map<v1::ChannelKind, State> states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_CHANNEL_HEALTH_H_
