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

}  // namespace herald::sqlite

#endif  // HERALD_SERVER_STORE_SQLITE_SCHEMA_H_
