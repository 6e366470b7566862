// SqliteStore keeps herald's state in one SQLite database in WAL mode.
// Writes go through a single writer connection (serialized by a mutex) with
// synchronous=FULL, so a Write that returns OK has been fsynced. Reads use a
// small pool of their own connections and see the last committed state.
// Schema changes are versioned migrations tracked by PRAGMA user_version.
// Thread-safe.
#ifndef HERALD_SERVER_STORE_SQLITE_STORE_H_
#define HERALD_SERVER_STORE_SQLITE_STORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/store/store.h"

namespace herald {

class SqliteStore;

struct SqliteStoreOptions {
  // Told how long each group commit took (the COMMIT and its fsync), on the
  // writer thread: it must be quick. Null: nobody is told.
  std::function<void(absl::Duration)> on_commit;
  // Told the kind of record ("Subscriber", "Delivery", ...) each time a
  // stored row cannot be read and is skipped (lists) or set aside (a due
  // delivery comes back with `unreadable` set). Null: only the log says so.
  std::function<void(absl::string_view record)> on_unreadable_row;
};

// Opens (creating when missing) the database at `path` and applies pending
// migrations. Returns Unavailable when the file cannot be opened and
// FailedPrecondition when it was written by a newer herald.
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const std::string& path, SqliteStoreOptions options = {});

// The schema version this build migrates to.
int SqliteSchemaVersion();

}  // namespace herald

#endif  // HERALD_SERVER_STORE_SQLITE_STORE_H_
