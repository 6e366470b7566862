#include "server/base/shell_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace herald {
namespace {

absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::Status RunShellCommand(const ShellCommand& command) {
  // The environment: heraldd's, with the command's own on top.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    if (!command.environment.contains(name)) env.push_back(entry);
  }
  for (const auto& [name, value] : command.environment) {
    env.push_back(absl::StrCat(name, "=", value));
  }
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  const std::string output =
      command.output_file.empty() ? "/dev/null" : command.output_file;
  // Its own process group, so that a timeout kills its children too; the
  // default signal mask and handlers, whatever heraldd's are; and none of
  // heraldd's descriptors (asio's sockets are not close-on-exec).
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  int failed = 0;
  for (const int rc : {
           posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                            O_RDONLY, 0),
           posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO,
                                            output.c_str(),
                                            O_WRONLY | O_CREAT | O_TRUNC, 0600),
           posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO,
                                            STDERR_FILENO),
           posix_spawn_file_actions_addclosefrom_np(&actions,
                                                    STDERR_FILENO + 1),
           command.directory.empty() ? 0
                                     : posix_spawn_file_actions_addchdir_np(
                                           &actions, command.directory.c_str()),
           posix_spawnattr_setpgroup(&attributes, 0),
           posix_spawnattr_setsigmask(&attributes, &none),
           posix_spawnattr_setsigdefault(&attributes, &all),
           posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP |
                                                     POSIX_SPAWN_SETSIGMASK |
                                                     POSIX_SPAWN_SETSIGDEF),
       }) {
    if (failed == 0) failed = rc;
  }
  std::string sh = "/bin/sh", dash_c = "-c", text = command.command;
  char* argv[] = {sh.data(), dash_c.data(), text.data(), nullptr};
  pid_t pid = 0;
  if (failed == 0) {
    failed =
        posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp.data());
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (failed != 0) {
    errno = failed;
    return ErrnoError("starting /bin/sh");
  }

  // Waits on a pidfd (Linux 5.3 and later) until the deadline; without
  // one (out of descriptors, an old kernel), polls waitpid instead.
  // (Through syscall(2): glibc 2.36's <sys/pidfd.h> has no C linkage.)
  const absl::Time deadline = absl::Now() + command.timeout;
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  bool timed_out = false;
  int status = 0;
  bool reaped = false;
  if (pidfd >= 0) {
    pollfd exited{.fd = pidfd, .events = POLLIN, .revents = 0};
    while (true) {
      const int64_t left = std::max<int64_t>(
          0, absl::ToInt64Milliseconds(deadline - absl::Now()));
      const int ready =
          poll(&exited, 1, static_cast<int>(std::min<int64_t>(left, 1 << 30)));
      if (ready > 0) break;
      if (ready == 0) {
        timed_out = true;
        break;
      }
      if (errno != EINTR) break;
    }
    close(pidfd);
  } else {
    while (!reaped && !timed_out) {
      const pid_t done = waitpid(pid, &status, WNOHANG);
      if (done == pid) {
        reaped = true;
      } else if (absl::Now() >= deadline) {
        timed_out = true;
      } else {
        usleep(20 * 1000);
      }
    }
  }
  if (timed_out) kill(-pid, SIGKILL);
  while (!reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("killed after ", absl::FormatDuration(command.timeout)));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  if (WIFSIGNALED(status)) {
    return absl::UnknownError(
        absl::StrCat("ended by signal ", WTERMSIG(status)));
  }
  return absl::UnknownError(
      absl::StrCat("exited with status ", WEXITSTATUS(status)));
}

}  // namespace herald
