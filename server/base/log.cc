#include "server/base/log.h"

#include <openssl/rand.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace herald {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};
thread_local std::string t_request_id;

absl::Mutex g_sink_mu;
std::function<void(absl::string_view)>* g_sink ABSL_GUARDED_BY(g_sink_mu) =
    nullptr;

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void AppendValue(std::string* out, absl::string_view v) {
  bool quote = v.empty();
  for (char c : v)
    quote = quote || c == ' ' || c == '"' || c == '=' || c == '\\' || c < 0x20;
  if (!quote) {
    absl::StrAppend(out, v);
    return;
  }
  out->push_back('"');
  for (char c : v) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        out->push_back(c);
    }
  }
  out->push_back('"');
}

}  // namespace

ScopedRequestId::ScopedRequestId(std::string id)
    : outer_(std::exchange(t_request_id, std::move(id))) {}

ScopedRequestId::~ScopedRequestId() { t_request_id = std::move(outer_); }

const std::string& CurrentRequestId() { return t_request_id; }

std::string NewRequestId() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // Ids only correlate log lines: a clock-based one will do.
    const int64_t now = absl::ToUnixNanos(absl::Now());
    std::memcpy(bytes, &now, sizeof bytes);
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string AcceptRequestId(absl::string_view presented) {
  bool ok = !presented.empty() && presented.size() <= 64;
  for (char c : presented) {
    ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                c == '.' || c == '_' || c == '-');
  }
  return ok ? std::string(presented) : NewRequestId();
}

void SetLogSinkForTesting(std::function<void(absl::string_view line)> sink) {
  absl::MutexLock lock(&g_sink_mu);
  delete g_sink;
  g_sink = sink ? new std::function<void(absl::string_view)>(std::move(sink))
                : nullptr;
}

void SetLogLevel(LogLevel level) { g_min_level = static_cast<int>(level); }

bool ParseLogLevel(absl::string_view name, LogLevel* level) {
  for (LogLevel l :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == LevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

std::string FormatLogLine(absl::string_view timestamp, LogLevel level,
                          absl::string_view msg,
                          std::initializer_list<LogField> fields) {
  std::string line =
      absl::StrCat("ts=", timestamp, " level=", LevelName(level), " msg=");
  AppendValue(&line, msg);
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, " ", key, "=");
    AppendValue(&line, value);
  }
  return line;
}

void Log(LogLevel level, absl::string_view msg,
         std::initializer_list<LogField> fields) {
  if (static_cast<int>(level) < g_min_level.load()) return;
  // Logging is the one place that reads the wall clock directly: log
  // timestamps must be real even under a fake clock.
  const std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                          absl::UTCTimeZone());
  std::string line = FormatLogLine(ts, level, msg, fields);
  if (!t_request_id.empty()) {
    absl::StrAppend(&line, " request_id=");
    AppendValue(&line, t_request_id);
  }
  line.push_back('\n');
  absl::MutexLock lock(&g_sink_mu);
  if (g_sink != nullptr) return (*g_sink)(line);
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write per line
}

}  // namespace herald
