// Runs an operator's shell command (a hook from the config, such as the
// status mirror's after_write) and waits for it, at most a timeout: the
// command runs through /bin/sh -c in its own process group, and the whole
// group is killed when time runs out, so that a hung `rsync` or `aws s3
// sync` and its children never outlive it. Thread-safe (each call is its
// own process).
#ifndef HERALD_SERVER_BASE_SHELL_COMMAND_H_
#define HERALD_SERVER_BASE_SHELL_COMMAND_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace herald {

struct ShellCommand {
  std::string command;    // for /bin/sh -c
  std::string directory;  // the working directory
  // Set in its environment, on top of heraldd's own.
  std::map<std::string, std::string> environment;
  // Its standard output and error go here (truncated first); "" discards.
  std::string output_file;
  absl::Duration timeout = absl::Seconds(60);
};

// OK once the command exited 0. DeadlineExceeded when it ran out of time
// (its process group was killed), Unknown with the exit status or signal
// when it failed, Internal when it could not be started.
absl::Status RunShellCommand(const ShellCommand& command);

}  // namespace herald

#endif  // HERALD_SERVER_BASE_SHELL_COMMAND_H_
