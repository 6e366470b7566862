// The store's schema: the migrations that build it, in order, and the step
// that applies the missing ones when a database opens.
#ifndef HERALD_SERVER_STORE_SQLITE_SCHEMA_H_
#define HERALD_SERVER_STORE_SQLITE_SCHEMA_H_

#include "absl/status/status.h"
#include "server/store/sqlite/statement.h"

namespace herald::sqlite {

// The schema version this build migrates to.
int SchemaVersion();

// Applies the migrations `conn`'s database lacks, each in its own
// transaction. FailedPrecondition when a newer herald wrote it.
absl::Status Migrate(Connection* conn);

// For tests that build the database an older herald left behind: applies
// the migrations up to `version` only (0 to SchemaVersion()), as Migrate
// does, and nothing past it. FailedPrecondition when the database is already
// past `version`; InvalidArgument for a version this build does not know.
absl::Status MigrateTo(Connection* conn, int version);

}  // namespace herald::sqlite

#endif  // HERALD_SERVER_STORE_SQLITE_SCHEMA_H_
