#include "server/delivery/channel_health.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "herald/enum_labels.h"
#include "server/base/log.h"

namespace herald {

ChannelHealth::ChannelHealth(ChannelHealthOptions options,
                             prometheus::Family<prometheus::Gauge>& up,
                             const std::vector<v1::ChannelKind>& channels)
    : options_(std::move(options)), up_(up) {
  for (v1::ChannelKind channel : channels) Gauge(channel).Set(1);
}

prometheus::Gauge& ChannelHealth::Gauge(v1::ChannelKind channel) {
  return up_.Add({{"channel", EnumLabel(channel)}});
}

absl::Duration ChannelHealth::ProbeDelay(int probes) const {
  absl::Duration delay = options_.probe_base;
  for (int i = 1; i < probes && delay < options_.probe_cap; ++i) delay *= 2;
  return std::min(delay, options_.probe_cap);
}

ChannelHealth::Verdict ChannelHealth::Waiting(const State& s,
                                              absl::Time retry_at) const {
  return {.send = false,
          .down_since = s.down_since,
          .retry_at = retry_at,
          .error = s.error};
}

ChannelHealth::Verdict ChannelHealth::Check(v1::ChannelKind channel,
                                            absl::Time now) {
  absl::MutexLock lock(&mu_);
  State& s = states_[channel];
  if (!s.down) return {};
  if (now >= s.next_probe && !s.probing) {
    // This send is the probe; the others wait for what it finds.
    s.probing = true;
    return {.send = true, .probe = true};
  }
  // Told at once when the channel is back (Answered); this is a backstop
  // should no probe be due by then.
  return Waiting(s, now + options_.probe_cap);
}

bool ChannelHealth::Answered(v1::ChannelKind channel, absl::Time now) {
  absl::MutexLock lock(&mu_);
  State& s = states_[channel];
  if (!s.down) return false;
  LogInfo("delivery channel is back; what waited for it is sent now",
          {{"channel", EnumLabel(channel)},
           {"down_for", absl::FormatDuration(
                            absl::Trunc(now - s.down_since, absl::Seconds(1)))},
           {"probes", absl::StrCat(s.probes)}});
  s = State();
  Gauge(channel).Set(1);
  return true;
}

ChannelHealth::Verdict ChannelHealth::Failed(v1::ChannelKind channel,
                                             absl::Time now, std::string error,
                                             bool probe) {
  absl::MutexLock lock(&mu_);
  State& s = states_[channel];
  if (!s.down) {
    LogWarn(
        "delivery channel is down; its deliveries wait without using their "
        "attempts",
        {{"channel", EnumLabel(channel)}, {"error", error}});
    s.down = true;
    s.down_since = now;
    s.probes = 1;
    s.next_probe = now + ProbeDelay(1);
    Gauge(channel).Set(0);
  } else if (probe) {
    s.probing = false;
    ++s.probes;
    s.next_probe = now + ProbeDelay(s.probes);
  }
  s.error = std::move(error);
  return Waiting(s, s.next_probe);
}

bool ChannelHealth::IsDown(v1::ChannelKind channel) {
  absl::MutexLock lock(&mu_);
  return states_[channel].down;
}

}  // namespace herald
