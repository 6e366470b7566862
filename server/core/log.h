// Structured logging: one logfmt line per event on stderr,
// `ts=... level=info msg="..." key=value ...`. Values are quoted and escaped
// as needed. Never pass secrets (tokens, passwords) as fields.
// Thread-safe: each line is written whole.
#ifndef HERALD_SERVER_CORE_LOG_H_
#define HERALD_SERVER_CORE_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace herald {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

using LogField = std::pair<absl::string_view, std::string>;

// Lines below `level` are dropped. Default: kInfo.
void SetLogLevel(LogLevel level);
// Parses "debug", "info", "warn", "error"; false for anything else.
bool ParseLogLevel(absl::string_view name, LogLevel* level);

void Log(LogLevel level, absl::string_view msg,
         std::initializer_list<LogField> fields = {});
inline void LogInfo(absl::string_view msg,
                    std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kInfo, msg, fields);
}
inline void LogWarn(absl::string_view msg,
                    std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kWarn, msg, fields);
}
inline void LogError(absl::string_view msg,
                     std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kError, msg, fields);
}

// Formats one logfmt line without the trailing newline (exposed for tests).
std::string FormatLogLine(absl::string_view timestamp, LogLevel level,
                          absl::string_view msg,
                          std::initializer_list<LogField> fields);

}  // namespace herald

#endif  // HERALD_SERVER_CORE_LOG_H_
