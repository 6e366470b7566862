// `heraldd migrate-store`: moves a deployment's state from SQLite to
// PostgreSQL (CopySqliteToPostgres) and says what it did, as a table or as
// JSON for scripts. Thread-compatible.
#ifndef HERALD_SERVER_APP_MIGRATE_STORE_COMMAND_H_
#define HERALD_SERVER_APP_MIGRATE_STORE_COMMAND_H_

#include <iosfwd>
#include <string>

namespace herald {

struct MigrateStoreFlags {
  std::string from;              // the SQLite file (DATA_DIR/herald.db)
  std::string to;                // a libpq DSN
  std::string password_file;     // optional
  std::string output = "table";  // table or json
};

// Runs the migration; writes the report to `out` and errors to `err`.
// Returns the process's exit status: 0 when everything was copied and
// counted, 1 otherwise (nothing committed).
int RunMigrateStore(const MigrateStoreFlags& flags, std::ostream& out,
                    std::ostream& err);

}  // namespace herald

#endif  // HERALD_SERVER_APP_MIGRATE_STORE_COMMAND_H_
