// PostgresStore keeps herald's state in a PostgreSQL database, so that
// several heraldd can share it: any replica serves any request. Each Read
// is one REPEATABLE READ, READ ONLY transaction; each Write one
// SERIALIZABLE transaction, committed with synchronous_commit on, so a
// Write that returns OK is durable on the server (and on its synchronous
// standbys). A serialization failure or deadlock runs the write again, on
// a fresh snapshot, until it commits: callers never see one. Claims of due
// deliveries and jobs take row locks with SKIP LOCKED, so replicas claiming
// at once each get different rows. Connections come from a pool; one the
// server dropped (a restart, a failover) is replaced on the next use, and
// a multi-host DSN with target_session_attrs=read-write follows the
// primary. Thread-safe.
#ifndef HERALD_SERVER_STORE_POSTGRES_STORE_H_
#define HERALD_SERVER_STORE_POSTGRES_STORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/store/broadcast.h"
#include "server/store/store.h"

namespace herald {

struct PostgresStoreOptions {
  // A libpq connection string or URI
  // (https://www.postgresql.org/docs/15/libpq-connect.html).
  std::string dsn;
  // The password, when not in the DSN (or libpq's passfile): overrides it.
  std::string password;
  // Connections held at most; also how many writes run at once.
  int pool_size = 8;
  // How long a write keeps retrying serialization failures before it gives
  // up with Unavailable (a database so contended is as good as down).
  absl::Duration retry_budget = absl::Seconds(30);
  // Told how long each COMMIT took, on the committing thread: it must be
  // quick. Null: nobody is told.
  std::function<void(absl::Duration)> on_commit;
  // Told each time a write conflicted and is run again. Null: nobody is.
  std::function<void()> on_conflict;
  // As SqliteStoreOptions::on_unreadable_row.
  std::function<void(absl::string_view record)> on_unreadable_row;
};

// Connects to `options.dsn` and applies pending migrations (under an
// advisory lock, so replicas starting together migrate once). Returns
// Unavailable when the database cannot be reached, FailedPrecondition when
// a newer herald wrote its schema, InvalidArgument for a bad option.
absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(
    PostgresStoreOptions options);

// The schema version this build migrates to.
int PostgresSchemaVersion();

// LISTEN/NOTIFY between the heraldd on the database `options` names
// (StoreBroadcast), on connections of its own.
std::unique_ptr<StoreBroadcast> OpenPostgresBroadcast(
    const PostgresStoreOptions& options);

}  // namespace herald

#endif  // HERALD_SERVER_STORE_POSTGRES_STORE_H_
