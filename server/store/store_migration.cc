#include "server/store/store_migration.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/store/postgres/connection.h"
#include "server/store/sqlite_store.h"

namespace herald {
namespace {

// Every table both schemas hold, parents before what refers to them. Not
// copied: incident_alert_counts, which the target's trigger rebuilds as
// alerts arrive.
constexpr const char* kTables[] = {
    "settings",      "api_tokens", "component_states", "subscribers",
    "subscriptions", "incidents",  "incident_groups",  "alerts",
    "updates",       "messages",   "message_versions", "timeline",
    "audit",         "amends",     "rota_overrides",   "jobs",
    "deliveries",    "expiring",
};
// Tables whose id comes from an identity sequence on PostgreSQL.
constexpr const char* kIdentityTables[] = {
    "incidents", "updates", "messages",       "timeline",   "audit",
    "amends",    "jobs",    "rota_overrides", "deliveries",
};

// The columns that are bytea on PostgreSQL (every other is text or bigint).
bool IsBlobColumn(absl::string_view column) {
  return column == "body" || column == "value";
}

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;
using SqliteStmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

absl::Status SqliteFailed(sqlite3* db, absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("SQLite: ", what, ": ", sqlite3_errmsg(db)));
}

absl::StatusOr<SqliteStmt> Prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    return SqliteFailed(db, sql);
  }
  return SqliteStmt(s);
}

absl::StatusOr<std::vector<std::string>> Columns(sqlite3* db,
                                                 const std::string& table) {
  absl::StatusOr<SqliteStmt> info =
      Prepare(db, absl::StrCat("PRAGMA table_info(", table, ")"));
  if (!info.ok()) return info.status();
  std::vector<std::string> columns;
  while (sqlite3_step(info->get()) == SQLITE_ROW) {
    columns.emplace_back(
        reinterpret_cast<const char*>(sqlite3_column_text(info->get(), 1)));
  }
  if (columns.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the SQLite database has no table ", table));
  }
  return columns;
}

absl::StatusOr<int64_t> PostgresCount(postgres::Connection* c,
                                      const std::string& table) {
  postgres::Statement count(c, absl::StrCat("SELECT count(*) FROM ", table));
  absl::StatusOr<bool> row = count.Step();
  if (!row.ok()) return row.status();
  return count.Int(0);
}

// Copies `table` row by row inside the open transaction on `pg`; returns
// how many rows it read.
absl::StatusOr<int64_t> CopyTable(sqlite3* db, postgres::Connection* pg,
                                  const std::string& table) {
  absl::StatusOr<std::vector<std::string>> columns = Columns(db, table);
  if (!columns.ok()) return columns.status();
  const std::string list = absl::StrJoin(*columns, ", ");
  absl::StatusOr<SqliteStmt> read =
      Prepare(db, absl::StrCat("SELECT ", list, " FROM ", table));
  if (!read.ok()) return read.status();
  std::string placeholders;
  for (size_t i = 0; i < columns->size(); ++i) {
    absl::StrAppend(&placeholders, i == 0 ? "?" : ", ?");
  }
  const std::string insert = absl::StrCat("INSERT INTO ", table, "(", list,
                                          ") VALUES(", placeholders, ")");
  int64_t rows = 0;
  sqlite3_stmt* r = read->get();
  while (true) {
    const int rc = sqlite3_step(r);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return SqliteFailed(db, absl::StrCat("read ", table));
    postgres::Statement put(pg, insert);
    for (int i = 0; i < static_cast<int>(columns->size()); ++i) {
      const int param = i + 1;
      switch (sqlite3_column_type(r, i)) {
        case SQLITE_INTEGER:
          put.Bind(param, static_cast<int64_t>(sqlite3_column_int64(r, i)));
          break;
        case SQLITE_NULL:
          put.BindNull(param);
          break;
        case SQLITE_TEXT:
          // An older herald stored some blobs (settings' values) as text:
          // the target's column decides.
          if (IsBlobColumn((*columns)[i])) {
            put.BindBlob(param,
                         absl::string_view(reinterpret_cast<const char*>(
                                               sqlite3_column_text(r, i)),
                                           sqlite3_column_bytes(r, i)));
          } else {
            put.Bind(param, std::string(reinterpret_cast<const char*>(
                                            sqlite3_column_text(r, i)),
                                        sqlite3_column_bytes(r, i)));
          }
          break;
        default:  // BLOB (herald stores no floats)
          put.BindBlob(param, absl::string_view(static_cast<const char*>(
                                                    sqlite3_column_blob(r, i)),
                                                sqlite3_column_bytes(r, i)));
          break;
      }
    }
    if (absl::Status s = put.Run(); !s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat(table, ", row ", rows + 1, ": ", s.message()));
    }
    ++rows;
  }
  return rows;
}

absl::StatusOr<std::vector<CopiedTable>> CopyAll(sqlite3* db,
                                                 postgres::Connection* pg) {
  std::vector<CopiedTable> copied;
  for (const char* table : kTables) {
    absl::StatusOr<int64_t> there = PostgresCount(pg, table);
    if (!there.ok()) return there.status();
    if (*there != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the PostgreSQL database already holds data (", table, " has ",
          *there, " rows); herald copies into an empty one only"));
    }
  }
  for (const char* table : kTables) {
    absl::StatusOr<int64_t> rows = CopyTable(db, pg, table);
    if (!rows.ok()) return rows.status();
    absl::StatusOr<int64_t> there = PostgresCount(pg, table);
    if (!there.ok()) return there.status();
    if (*there != *rows) {
      return absl::DataLossError(
          absl::StrCat(table, ": read ", *rows, " rows from SQLite but ",
                       *there, " are in PostgreSQL; nothing was committed"));
    }
    copied.push_back({table, *rows});
  }
  // New rows must get ids after the copied ones.
  for (const char* table : kIdentityTables) {
    absl::Status s = postgres::Exec(
        pg, absl::StrCat("SELECT setval(pg_get_serial_sequence('", table,
                         "', 'id'), max(id)) FROM ", table,
                         " HAVING max(id) IS NOT NULL")
                .c_str());
    if (!s.ok()) return s;
  }
  return copied;
}

}  // namespace

absl::StatusOr<std::vector<CopiedTable>> CopySqliteToPostgres(
    const std::string& sqlite_path, const PostgresStoreOptions& target) {
  if (!std::filesystem::exists(sqlite_path)) {
    return absl::NotFoundError(
        absl::StrCat("--from: no SQLite database at ", sqlite_path));
  }
  // Both schemas to this herald's version, as heraldd would at start.
  {
    absl::StatusOr<std::unique_ptr<Store>> source =
        OpenSqliteStore(sqlite_path);
    if (!source.ok()) return source.status();
    absl::StatusOr<std::unique_ptr<Store>> dest = OpenPostgresStore(target);
    if (!dest.ok()) return dest.status();
  }
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(sqlite_path.c_str(), &raw, SQLITE_OPEN_READONLY,
                      nullptr) != SQLITE_OK) {
    SqliteDb close(raw);
    return absl::UnavailableError(
        absl::StrCat("cannot open ", sqlite_path, ": ", sqlite3_errmsg(raw)));
  }
  SqliteDb db(raw);
  absl::StatusOr<std::unique_ptr<postgres::Connection>> pg =
      postgres::Connect(target.dsn, target.password);
  if (!pg.ok()) return pg.status();
  // One snapshot of the source, one transaction on the target: all of it or
  // nothing.
  absl::Status s = absl::OkStatus();
  if (sqlite3_exec(db.get(), "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SqliteFailed(db.get(), "BEGIN");
  }
  s = postgres::Exec(pg->get(), "BEGIN ISOLATION LEVEL SERIALIZABLE");
  absl::StatusOr<std::vector<CopiedTable>> copied =
      s.ok() ? CopyAll(db.get(), pg->get()) : s;
  if (copied.ok()) s = postgres::Exec(pg->get(), "COMMIT");
  if (!copied.ok() || !s.ok()) {
    postgres::Exec(pg->get(), "ROLLBACK").IgnoreError();
  }
  sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr);
  if (!copied.ok()) return copied.status();
  if (!s.ok()) return s;
  return copied;
}

}  // namespace herald
