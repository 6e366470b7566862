// Moving a deployment from SQLite (one heraldd) to PostgreSQL (several):
// copies every table of a SQLite database into an empty PostgreSQL schema,
// in one transaction, and checks each table's row count on both sides.
// Run it while no heraldd uses the SQLite file. Thread-compatible.
#ifndef HERALD_SERVER_STORE_STORE_MIGRATION_H_
#define HERALD_SERVER_STORE_STORE_MIGRATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/store/postgres_store.h"

namespace herald {

struct CopiedTable {
  std::string table;
  int64_t rows = 0;  // read from SQLite, written to and counted in PostgreSQL
};

// Copies the SQLite database at `sqlite_path` (migrated to this herald's
// schema first, as heraldd would at start) into the PostgreSQL database
// `target` names (migrated likewise). FailedPrecondition when the target
// already holds data, naming the table: herald copies into an empty one
// only. DataLoss when a table's count differs after the copy (nothing is
// committed then). Returns what it copied, table by table.
absl::StatusOr<std::vector<CopiedTable>> CopySqliteToPostgres(
    const std::string& sqlite_path, const PostgresStoreOptions& target);

}  // namespace herald

#endif  // HERALD_SERVER_STORE_STORE_MIGRATION_H_
