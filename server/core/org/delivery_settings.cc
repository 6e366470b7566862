#include "server/core/org/delivery_settings.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/core/org/config_fields.h"

namespace herald {
namespace {

// Enough for any sensible schedule; bounds what a config can ask for.
constexpr int kMaxScheduleEntries = 50;
constexpr int kMaxWorkers = 256;

absl::StatusOr<RetrySchedule> ParseSchedule(
    const std::string& field,
    const google::protobuf::RepeatedPtrField<std::string>& entries) {
  if (entries.size() > kMaxScheduleEntries) {
    return FieldError(field, absl::StrCat("at most ", kMaxScheduleEntries,
                                          " waits, got ", entries.size()));
  }
  std::vector<absl::Duration> waits;
  for (int i = 0; i < entries.size(); ++i) {
    absl::Duration wait;
    if (entries[i].empty()) {
      return FieldError(absl::StrCat(field, "[", i, "]"),
                        "expected a duration like \"5m\", got \"\"");
    }
    if (auto st = ParsePositiveDuration(absl::StrCat(field, "[", i, "]"),
                                        entries[i], "5m", &wait);
        !st.ok()) {
      return st;
    }
    waits.push_back(wait);
  }
  return RetrySchedule(std::move(waits));
}

std::string Format(const std::vector<absl::Duration>& waits) {
  return absl::StrCat("[",
                      absl::StrJoin(waits, ", ",
                                    [](std::string* out, absl::Duration d) {
                                      absl::StrAppend(out,
                                                      absl::FormatDuration(d));
                                    }),
                      "]");
}

// The schedule the deprecated exponential backoff meant: base, 2*base, ...
// up to cap, one wait fewer than the attempts.
absl::StatusOr<RetrySchedule> FromDeprecatedBackoff(
    const v1::DeliveryConfig& config) {
  int attempts = 5;
  if (config.max_attempts_per_contact() < 0) {
    return FieldError("delivery.max_attempts_per_contact",
                      "expected a positive count (0: default 5)");
  }
  if (config.max_attempts_per_contact() > kMaxScheduleEntries + 1) {
    return FieldError("delivery.max_attempts_per_contact",
                      absl::StrCat("at most ", kMaxScheduleEntries + 1));
  }
  if (config.max_attempts_per_contact() > 0) {
    attempts = config.max_attempts_per_contact();
  }
  absl::Duration base = absl::Seconds(5);
  absl::Duration cap = absl::Minutes(10);
  if (auto st = ParsePositiveDuration("delivery.retry_base",
                                      config.retry_base(), "5s", &base);
      !st.ok()) {
    return st;
  }
  if (auto st = ParsePositiveDuration("delivery.retry_cap", config.retry_cap(),
                                      "10m", &cap);
      !st.ok()) {
    return st;
  }
  if (cap < base) {
    return FieldError("delivery.retry_cap", "must not be below retry_base");
  }
  std::vector<absl::Duration> waits;
  absl::Duration wait = base;
  for (int i = 1; i < attempts; ++i) {
    waits.push_back(std::min(wait, cap));
    if (wait < cap) wait *= 2;
  }
  return RetrySchedule(std::move(waits));
}

}  // namespace

RetrySchedule RetrySchedule::StandardWebhooks() {
  return RetrySchedule({absl::Seconds(5), absl::Minutes(5), absl::Minutes(30),
                        absl::Hours(2), absl::Hours(5), absl::Hours(10),
                        absl::Hours(14), absl::Hours(20), absl::Hours(24)});
}

std::optional<absl::Duration> RetrySchedule::WaitAfter(int attempts) const {
  if (attempts < 1 || attempts > static_cast<int>(waits_.size())) {
    return std::nullopt;
  }
  return waits_[attempts - 1];
}

ChannelDeliverySettings DeliverySettings::For(v1::ChannelKind channel) const {
  if (auto it = channels.find(channel); it != channels.end()) {
    return it->second;
  }
  ChannelDeliverySettings out;
  switch (channel) {
    case v1::CHANNEL_KIND_EMAIL:
    case v1::CHANNEL_KIND_SMS:
      // The relay and the gateway serve every recipient. One that is slow
      // but answers (one that fails is marked down, and then only its probe
      // holds a worker) holds at most three quarters of the workers.
      out.max_in_flight = std::max(1, workers - workers / 4);
      break;
    default:
      out.max_in_flight = 2;  // one customer's own endpoint
  }
  return out;
}

absl::StatusOr<DeliverySettings> ParseDeliverySettings(
    const v1::DeliveryConfig& config) {
  DeliverySettings out;
  if (config.workers() < 0 || config.workers() > kMaxWorkers) {
    return FieldError("delivery.workers", "expected 1 to 256 (0: default 16)");
  }
  if (config.workers() > 0) out.workers = config.workers();
  if (auto st = ParsePositiveDuration("delivery.channel_patience",
                                      config.channel_patience(), "10m",
                                      &out.channel_patience);
      !st.ok()) {
    return st;
  }
  if (auto st = ParsePositiveDuration("delivery.channel_probe_base",
                                      config.channel_probe_base(), "5s",
                                      &out.channel_probe_base);
      !st.ok()) {
    return st;
  }
  if (auto st = ParsePositiveDuration("delivery.channel_probe_cap",
                                      config.channel_probe_cap(), "5m",
                                      &out.channel_probe_cap);
      !st.ok()) {
    return st;
  }
  if (auto st =
          ParsePositiveDuration("delivery.claim_lease", config.claim_lease(),
                                "30m", &out.claim_lease);
      !st.ok()) {
    return st;
  }
  if (out.channel_probe_cap < out.channel_probe_base) {
    return FieldError("delivery.channel_probe_cap",
                      "must not be below channel_probe_base");
  }
  if (auto st = ParsePositiveDuration("delivery.fallback_after",
                                      config.fallback_after(), "10m",
                                      &out.fallback_after);
      !st.ok()) {
    return st;
  }
  // A send may not outlast the margin the outbox keeps before a claim's
  // lease ends (delivery_outbox.cc).
  if (config.http_timeout_seconds() < 0 ||
      config.http_timeout_seconds() > kMaxSendTimeoutSeconds) {
    return FieldError("delivery.http_timeout_seconds",
                      "expected seconds, at most 300 (0: default 10)");
  }
  if (config.http_timeout_seconds() > 0) {
    out.http_timeout = absl::Seconds(config.http_timeout_seconds());
  }

  // The schedule every channel starts from.
  RetrySchedule schedule = RetrySchedule::StandardWebhooks();
  const bool deprecated = config.max_attempts_per_contact() != 0 ||
                          !config.retry_base().empty() ||
                          !config.retry_cap().empty();
  if (deprecated && config.retry_schedule_size() > 0) {
    const char* old = config.max_attempts_per_contact() != 0
                          ? "delivery.max_attempts_per_contact"
                      : !config.retry_base().empty() ? "delivery.retry_base"
                                                     : "delivery.retry_cap";
    return FieldError(old, "replaced by delivery.retry_schedule; remove it");
  }
  if (deprecated) {
    absl::StatusOr<RetrySchedule> meant = FromDeprecatedBackoff(config);
    if (!meant.ok()) return meant.status();
    schedule = *std::move(meant);
    out.deprecations.push_back(absl::StrCat(
        "delivery.max_attempts_per_contact, retry_base and retry_cap are "
        "deprecated; they mean retry_schedule: ",
        Format(schedule.waits()), ", so write that instead"));
  } else if (config.retry_schedule_size() > 0) {
    absl::StatusOr<RetrySchedule> parsed =
        ParseSchedule("delivery.retry_schedule", config.retry_schedule());
    if (!parsed.ok()) return parsed.status();
    schedule = *std::move(parsed);
  }
  for (v1::ChannelKind kind : {v1::CHANNEL_KIND_EMAIL, v1::CHANNEL_KIND_WEBHOOK,
                               v1::CHANNEL_KIND_SLACK, v1::CHANNEL_KIND_SMS}) {
    out.channels[kind] = out.For(kind);
    out.channels[kind].retry_schedule = schedule;
  }
  for (const auto& [name, channel] : config.channels()) {
    const std::string field = absl::StrCat("delivery.channels[", name, "]");
    v1::ChannelKind kind;
    if (!v1::ChannelKind_Parse(
            absl::StrCat("CHANNEL_KIND_", absl::AsciiStrToUpper(name)),
            &kind) ||
        kind == v1::CHANNEL_KIND_UNSPECIFIED) {
      return FieldError(field,
                        "expected a channel: email, webhook, slack or sms");
    }
    ChannelDeliverySettings& settings = out.channels[kind];
    if (channel.retry_schedule_size() > 0) {
      absl::StatusOr<RetrySchedule> parsed = ParseSchedule(
          absl::StrCat(field, ".retry_schedule"), channel.retry_schedule());
      if (!parsed.ok()) return parsed.status();
      settings.retry_schedule = *std::move(parsed);
    }
    if (channel.max_in_flight() < 0 || channel.max_in_flight() > kMaxWorkers) {
      return FieldError(absl::StrCat(field, ".max_in_flight"),
                        "expected 1 to 256 (0: the default)");
    }
    if (channel.max_in_flight() > 0) {
      settings.max_in_flight = channel.max_in_flight();
    }
  }
  return out;
}

}  // namespace herald
