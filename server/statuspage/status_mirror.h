// StatusMirror keeps a static copy of the public site on disk, for a web
// server, object storage or a CDN to serve when heraldd cannot: the same
// documents heraldd serves (PublicSite), with no session, token or
// personal data in them.
//
// Each write is a new version directory, `versions/<n>/`, made complete
// and synced (file by file) before the `current` symlink is swapped to it with
// one rename(2): a reader of `current/` sees the old version or the new one,
// never half of either. The three newest versions are kept (a reader may
// still be in an older one). Then the configured command runs (an rsync,
// an `aws s3 sync`), with a timeout, and again after a failure: after 1 s,
// 2 s, 4 s ... up to a cap, until it succeeds or a newer version replaces
// the one it failed for: a remote copy that missed the resolution must not
// go on showing the outage until the next change.
//
// Files are 0644 and directories 0755 whatever the umask: the mirror is
// public, for a web server running as another user. After a restart, the
// version `current` holds is not written again when nothing changed.
//
// Layout: "/" is index.html, a page path P is P/index.html
// (incidents/INC-12/index.html, history/2/index.html), the feed and the
// JSON keep their names, and 404.html is the not-found page. The pages in
// each language are under its prefix (de/index.html, de/history/index.html);
// those at the top are in the organisation's language.
//
// Pass() is called from one thread (a PeriodicRunner); the metrics may be
// read from any. Not thread-safe otherwise.
#ifndef HERALD_SERVER_STATUSPAGE_STATUS_MIRROR_H_
#define HERALD_SERVER_STATUSPAGE_STATUS_MIRROR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "server/base/clock.h"
#include "server/statuspage/public_site.h"

namespace herald {

struct StatusMirrorOptions {
  std::string directory;
  // Run through /bin/sh -c after each write; "" runs nothing.
  std::string after_write;
  absl::Duration after_write_timeout = absl::Seconds(60);
  // The longest pause between tries of a failing command.
  absl::Duration after_write_retry_cap = absl::Minutes(5);
  // Where the mirror's subscribe form posts ("" leaves it out).
  PageLinks links;
  int keep_versions = 3;
};

// The mirror's series. Thread-safe; immutable after construction.
struct StatusMirrorMetrics {
  explicit StatusMirrorMetrics(prometheus::Registry& registry);

  // When the mirror last held what heraldd shows (written, and the command
  // succeeded), as Unix seconds.
  prometheus::Gauge& last_success;
  // How long what heraldd shows has not been in the mirror; 0 while it is.
  prometheus::Gauge& behind_seconds;
  // Writes and commands that failed, by stage ("write", "command").
  prometheus::Family<prometheus::Counter>& failures;
};

class StatusMirror {
 public:
  // `state` is read each pass; `site` renders from it.
  StatusMirror(StatusMirrorOptions options, const PublicSite& site,
               PublicStateCache& state, const Clock& clock,
               StatusMirrorMetrics& metrics);

  // Writes a new version when what the site shows differs from the last
  // one written, and runs the command when it is due. Returns how many
  // versions it wrote (0 or 1).
  absl::StatusOr<int> Pass();

  // The directory `current` points at: the mirror as a reader sees it.
  std::string CurrentDirectory() const;

  // The file a page or document path is written to, relative to a
  // version's directory; "" for a path that cannot be one (it would leave
  // the directory).
  static std::string FileFor(absl::string_view path, bool html);

 private:
  // Writes `files` (relative path to bytes) as version `number`, then
  // points `current` at it. Files unchanged since the newest version
  // (written_) are hard links to its. Returns how many were linked.
  absl::StatusOr<int> WriteVersion(
      const std::map<std::string, std::string>& files, int64_t number);
  // Removes versions older than the newest keep_versions.
  void RemoveOldVersions();
  // The files under `directory` (relative path to bytes); empty when there
  // is none.
  static std::map<std::string, std::string> ReadVersion(
      const std::string& directory);
  void RunCommand();
  // The pause after the `failures`th failure in a row: 1 s, 2 s, 4 s ...
  // up to after_write_retry_cap.
  absl::Duration RetryPause(int failures) const;

  const StatusMirrorOptions options_;
  const PublicSite& site_;
  PublicStateCache& state_;
  const Clock& clock_;
  StatusMirrorMetrics& metrics_;

  std::shared_ptr<const PublicState> last_state_;
  // The newest version's files, to tell whether anything changed.
  std::map<std::string, std::string> written_;
  int64_t next_version_ = 0;   // 0: not yet read from the directory
  bool read_current_ = false;  // the version on disk at start, once
  // Failed writes in a row, and when the next may be tried.
  int write_failures_ = 0;
  absl::Time next_write_at_ = absl::InfinitePast();
  // Since when heraldd has shown what the mirror does not hold.
  absl::Time behind_since_ = absl::InfiniteFuture();
  // Whether the newest version reached where it is served from: written,
  // and its command (if any) succeeded.
  bool delivered_ = true;
  // The command's work for the newest version.
  bool command_due_ = false;
  int command_attempts_ = 0;
  absl::Time next_command_at_ = absl::InfinitePast();
};

}  // namespace herald

#endif  // HERALD_SERVER_STATUSPAGE_STATUS_MIRROR_H_
