#include "server/statuspage/status_mirror.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/base/log.h"
#include "server/base/metric_builders.h"
#include "server/base/shell_command.h"

namespace herald {
namespace {

namespace fs = std::filesystem;

constexpr char kCurrent[] = "current";
constexpr char kVersions[] = "versions";

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Public files and directories: readable by the web server that serves
// them, whatever heraldd's umask (its systemd unit sets 0077).
constexpr mode_t kFileMode = 0644;
constexpr fs::perms kDirectoryPerms =
    fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
    fs::perms::others_read | fs::perms::others_exec;

// Creates `dir` and its missing parents, each 0755.
absl::Status MakeDirectories(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return absl::OkStatus();
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    if (absl::Status s = MakeDirectories(dir.parent_path()); !s.ok()) return s;
  }
  if (!fs::create_directory(dir, ec) && ec) {
    return absl::InternalError(
        absl::StrCat("creating ", dir.string(), ": ", ec.message()));
  }
  fs::permissions(dir, kDirectoryPerms, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("setting the mode of ", dir.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

// Writes and syncs one public file: on disk before `current` points at it.
absl::Status WriteFile(const fs::path& path, const std::string& bytes) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kFileMode);
  if (fd < 0) return ErrnoError("creating", path);
  if (fchmod(fd, kFileMode) != 0) {
    const absl::Status s = ErrnoError("setting the mode of", path);
    close(fd);
    return s;
  }
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const absl::Status s = ErrnoError("writing", path);
      close(fd);
      return s;
    }
    written += static_cast<size_t>(n);
  }
  if (fdatasync(fd) != 0) {
    const absl::Status s = ErrnoError("syncing", path);
    close(fd);
    return s;
  }
  if (close(fd) != 0) return ErrnoError("closing", path);
  return absl::OkStatus();
}

}  // namespace

StatusMirrorMetrics::StatusMirrorMetrics(prometheus::Registry& registry)
    : last_success(OneGauge(
          registry, "herald_status_mirror_last_success_timestamp_seconds",
          "When the static mirror last held what heraldd shows (written, and "
          "its after_write command succeeded), as Unix seconds.")),
      behind_seconds(OneGauge(
          registry, "herald_status_mirror_behind_seconds",
          "How long what heraldd shows has not been in the static mirror; 0 "
          "while it is.")),
      failures(CounterFamily(
          registry, "herald_status_mirror_failures_total",
          "Static mirror writes and after_write commands that failed, by "
          "stage (write, command).")) {}

StatusMirror::StatusMirror(StatusMirrorOptions options, const PublicSite& site,
                           PublicStateCache& state, const Clock& clock,
                           StatusMirrorMetrics& metrics)
    : options_(std::move(options)),
      site_(site),
      state_(state),
      clock_(clock),
      metrics_(metrics) {}

std::string StatusMirror::FileFor(absl::string_view path, bool html) {
  if (!absl::StartsWith(path, "/")) return "";
  for (absl::string_view part : absl::StrSplit(path.substr(1), '/')) {
    if (part == "." || part == "..") return "";
    for (char c : part) {
      if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') {
        return "";
      }
    }
  }
  // "/de/" is the page "/de".
  std::string file(absl::StripSuffix(path.substr(1), "/"));
  if (!html) return file;
  return file.empty() ? "index.html" : absl::StrCat(file, "/index.html");
}

std::string StatusMirror::CurrentDirectory() const {
  return (fs::path(options_.directory) / kCurrent).string();
}

absl::StatusOr<int> StatusMirror::Pass() {
  const absl::Time now = clock_.Now();
  const absl::Time read_start = absl::Now();  // for the log, not a timer
  absl::StatusOr<std::shared_ptr<const PublicState>> state = state_.Get();
  const absl::Duration read_took = absl::Now() - read_start;
  if (!state.ok()) return state.status();
  int written = 0;
  // A read after a change the site does not show (an alert, a draft)
  // renders nothing: during an alert storm every batch is a change, and
  // each wakes the mirror.
  if (*state != last_state_ && last_state_ != nullptr &&
      SameContent(**state, *last_state_)) {
    last_state_ = *state;
  }
  // After a failed write (a full disk, a lost permission), not again until
  // its pause is over.
  if (*state != last_state_ && now >= next_write_at_) {
    // Render every document; write only when any of them changed.
    const absl::Time render_start = absl::Now();  // for the log, not a timer
    std::map<std::string, std::string> files;
    for (const std::string& path : site_.Paths(**state)) {
      absl::StatusOr<PublicDocument> d =
          site_.Render(**state, path, options_.links);
      if (!d.ok()) return d.status();
      const std::string file = FileFor(path, !d->data);
      if (file.empty()) {
        LogWarn("status mirror skipped a path it cannot write",
                {{"path", path}});
        continue;
      }
      files[file] = std::move(d->body);
    }
    absl::StatusOr<PublicDocument> not_found =
        site_.Render(**state, "/incidents/", options_.links);
    if (!not_found.ok()) return not_found.status();
    files["404.html"] = std::move(not_found->body);
    const absl::Duration render_took = absl::Now() - render_start;

    if (next_version_ == 0 && !read_current_) {
      // After a restart: the version `current` holds counts as written,
      // so that the same site is not written again; its command runs
      // once more, as the last run may not have finished.
      read_current_ = true;
      written_ = ReadVersion(CurrentDirectory());
      command_due_ = !written_.empty() && !options_.after_write.empty();
      delivered_ = !command_due_;
      if (command_due_) behind_since_ = now;
      if (!command_due_ && !written_.empty()) {
        metrics_.last_success.Set(
            absl::ToDoubleSeconds(now - absl::UnixEpoch()));
      }
    }
    if (files != written_) {
      if (behind_since_ == absl::InfiniteFuture()) behind_since_ = now;
      if (next_version_ == 0) {
        // Versions continue from the newest on disk, across restarts.
        next_version_ = 1;
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(
                 fs::path(options_.directory) / kVersions, ec)) {
          int64_t n = 0;
          if (absl::SimpleAtoi(entry.path().filename().string(), &n)) {
            next_version_ = std::max(next_version_, n + 1);
          }
        }
      }
      const absl::Time write_start = absl::Now();  // for the log
      absl::StatusOr<int> linked = WriteVersion(files, next_version_);
      if (!linked.ok()) {
        metrics_.failures.Add({{"stage", "write"}}).Increment();
        delivered_ = false;  // behind until a write succeeds
        metrics_.behind_seconds.Set(absl::ToDoubleSeconds(now - behind_since_));
        ++write_failures_;
        next_write_at_ = now + RetryPause(write_failures_);
        return linked.status();  // last_state_ unchanged: tried again later
      }
      LogInfo(
          "status mirror written",
          {{"version", absl::StrCat(next_version_)},
           {"files", absl::StrCat(files.size())},
           {"unchanged", absl::StrCat(*linked)},
           {"read_ms", absl::StrCat(absl::ToInt64Milliseconds(read_took))},
           {"render_ms", absl::StrCat(absl::ToInt64Milliseconds(render_took))},
           {"write_ms", absl::StrCat(absl::ToInt64Milliseconds(absl::Now() -
                                                               write_start))}});
      write_failures_ = 0;
      ++next_version_;
      written_ = std::move(files);
      written = 1;
      command_due_ = !options_.after_write.empty();
      delivered_ = !command_due_;
      command_attempts_ = 0;
      next_command_at_ = absl::InfinitePast();
      RemoveOldVersions();
    }
    last_state_ = *state;
  }
  if (command_due_ && now >= next_command_at_) RunCommand();
  if (delivered_ && behind_since_ != absl::InfiniteFuture()) {
    behind_since_ = absl::InfiniteFuture();
    metrics_.last_success.Set(absl::ToDoubleSeconds(now - absl::UnixEpoch()));
  }
  metrics_.behind_seconds.Set(behind_since_ == absl::InfiniteFuture()
                                  ? 0
                                  : absl::ToDoubleSeconds(now - behind_since_));
  return written;
}

absl::StatusOr<int> StatusMirror::WriteVersion(
    const std::map<std::string, std::string>& files, int64_t number) {
  const fs::path root(options_.directory);
  const std::string name = absl::StrCat(number);
  const fs::path version = root / kVersions / name;
  std::error_code ec;
  fs::remove_all(version, ec);  // a half-written one from a crash
  if (absl::Status s = MakeDirectories(version); !s.ok()) return s;
  // A file the newest version holds with the same bytes is linked from it:
  // no write and no sync. Most of a change's files are unchanged (every
  // other incident's page, in every language).
  const fs::path previous = CurrentDirectory();
  int linked = 0;
  for (const auto& [file, bytes] : files) {
    const fs::path path = version / file;
    if (absl::Status s = MakeDirectories(path.parent_path()); !s.ok()) {
      return s;
    }
    auto same = written_.find(file);
    struct stat st {};
    // The size too: what `current` holds must be what was written there.
    if (same != written_.end() && same->second == bytes &&
        stat((previous / file).c_str(), &st) == 0 &&
        static_cast<size_t>(st.st_size) == bytes.size() &&
        link((previous / file).c_str(), path.c_str()) == 0) {
      ++linked;
      continue;
    }
    if (absl::Status s = WriteFile(path, bytes); !s.ok()) return s;
  }

  // The swap: a new symlink renamed over `current`, atomically.
  const fs::path link = root / kCurrent;
  const fs::path next = root / ".current.next";
  fs::remove(next, ec);
  if (symlink((fs::path(kVersions) / name).c_str(), next.c_str()) != 0) {
    return ErrnoError("linking", next);
  }
  if (rename(next.c_str(), link.c_str()) != 0) {
    return ErrnoError("renaming over", link);
  }
  const int root_fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd >= 0) {
    fsync(root_fd);
    close(root_fd);
  }
  return linked;
}

std::map<std::string, std::string> StatusMirror::ReadVersion(
    const std::string& directory) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  const fs::path root(directory);
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
    out[fs::relative(it->path(), root, ec).string()] = std::move(bytes);
  }
  return out;
}

void StatusMirror::RemoveOldVersions() {
  std::vector<int64_t> versions;
  std::error_code ec;
  const fs::path dir = fs::path(options_.directory) / kVersions;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    int64_t n = 0;
    if (absl::SimpleAtoi(entry.path().filename().string(), &n)) {
      versions.push_back(n);
    }
  }
  std::sort(versions.rbegin(), versions.rend());
  for (size_t i = std::max(1, options_.keep_versions); i < versions.size();
       ++i) {
    fs::remove_all(dir / absl::StrCat(versions[i]), ec);
  }
}

absl::Duration StatusMirror::RetryPause(int failures) const {
  return std::min(absl::Seconds(int64_t{1} << std::clamp(failures - 1, 0, 20)),
                  options_.after_write_retry_cap);
}

void StatusMirror::RunCommand() {
  ++command_attempts_;
  const absl::Status s = RunShellCommand({
      .command = options_.after_write,
      .directory = options_.directory,
      .environment = {{"HERALD_MIRROR_DIR", CurrentDirectory()}},
      .output_file =
          (fs::path(options_.directory) / "after_write.log").string(),
      .timeout = options_.after_write_timeout,
  });
  if (s.ok()) {
    command_due_ = false;
    delivered_ = true;
    return;
  }
  metrics_.failures.Add({{"stage", "command"}}).Increment();
  const absl::Duration pause = RetryPause(command_attempts_);
  LogWarn("status mirror after_write failed",
          {{"error", std::string(s.message())},
           {"attempt", absl::StrCat(command_attempts_)},
           {"log", (fs::path(options_.directory) / "after_write.log").string()},
           {"retry_in", absl::FormatDuration(pause)}});
  next_command_at_ = clock_.Now() + pause;
}

}  // namespace herald
