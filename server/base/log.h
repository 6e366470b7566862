// Structured logging: one logfmt line per event on stderr,
// `ts=... level=info msg="..." key=value ... request_id=...`. Values are
// quoted and escaped as needed. A line written while a ScopedRequestId is
// alive on the thread ends with that request's id, so every line an HTTP
// request or RPC causes can be found. Never pass secrets (tokens, passwords,
// URLs with a query) as fields: e2e tests scan the logs for them.
// Thread-safe: each line is written whole.
#ifndef HERALD_SERVER_BASE_LOG_H_
#define HERALD_SERVER_BASE_LOG_H_

#include <functional>
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

// Tags the lines this thread logs, while the scope lives, with
// `request_id=<id>`. Scopes nest: the outer id comes back at the end.
// Not copyable; lives on one thread.
class ScopedRequestId {
 public:
  explicit ScopedRequestId(std::string id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  std::string outer_;
};

// The id of the request this thread is serving, or "".
const std::string& CurrentRequestId();

// A fresh request id: 16 random hex digits.
std::string NewRequestId();

// The id a client presented (X-Request-Id, x-request-id metadata) when it
// is safe to log: 1 to 64 characters of [A-Za-z0-9._-]. Anything else gets
// a fresh id instead, so a client cannot forge log lines.
std::string AcceptRequestId(absl::string_view presented);

// Sends each finished line (with its newline) to `sink` instead of stderr;
// an empty function restores stderr. For tests.
void SetLogSinkForTesting(std::function<void(absl::string_view line)> sink);

// Formats one logfmt line without the trailing newline (exposed for tests).
std::string FormatLogLine(absl::string_view timestamp, LogLevel level,
                          absl::string_view msg,
                          std::initializer_list<LogField> fields);

}  // namespace herald

#endif  // HERALD_SERVER_BASE_LOG_H_
