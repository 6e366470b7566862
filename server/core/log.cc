#include "server/core/log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace herald {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

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
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write per line
}

}  // namespace herald
