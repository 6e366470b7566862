// CapturedLogs: collects the log lines written while it is alive, instead
// of printing them. Thread-safe.
#ifndef HERALD_TESTS_TESTING_CAPTURED_LOGS_H_
#define HERALD_TESTS_TESTING_CAPTURED_LOGS_H_

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/base/log.h"

namespace herald::testing {

class CapturedLogs {
 public:
  CapturedLogs() {
    SetLogSinkForTesting([this](absl::string_view line) {
      absl::MutexLock lock(&mu_);
      lines_.emplace_back(line);
    });
  }
  ~CapturedLogs() { SetLogSinkForTesting(nullptr); }
  CapturedLogs(const CapturedLogs&) = delete;
  CapturedLogs& operator=(const CapturedLogs&) = delete;

  // The lines containing `needle`.
  std::vector<std::string> Matching(const std::string& needle) {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const std::string& line : lines_) {
      if (line.find(needle) != std::string::npos) out.push_back(line);
    }
    return out;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald::testing

#endif  // HERALD_TESTS_TESTING_CAPTURED_LOGS_H_
