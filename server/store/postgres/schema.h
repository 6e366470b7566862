// The store's schema on PostgreSQL: the migrations that build it, in order,
// and the step that applies the missing ones when a heraldd starts. Several
// heraldd may start at once against one database: the step holds an
// advisory lock, so one migrates and the others wait and then find nothing
// to do.
#ifndef HERALD_SERVER_STORE_POSTGRES_SCHEMA_H_
#define HERALD_SERVER_STORE_POSTGRES_SCHEMA_H_

#include "absl/status/status.h"
#include "server/store/postgres/connection.h"

namespace herald::postgres {

// The schema version this build migrates to.
int SchemaVersion();

// Applies the migrations `conn`'s schema (the first of its search_path)
// lacks, all in one transaction under the lock. FailedPrecondition when a
// newer herald wrote it: this one would misread what it does not know.
absl::Status Migrate(Connection* conn);

}  // namespace herald::postgres

#endif  // HERALD_SERVER_STORE_POSTGRES_SCHEMA_H_
