#include "server/store/sqlite/statement.h"

namespace herald::sqlite {

absl::Status SqliteError(sqlite3* db, absl::string_view what) {
  const int code = sqlite3_extended_errcode(db);
  std::string msg = absl::StrCat(what, ": ", sqlite3_errmsg(db));
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    absl::Status s = SqliteError(db, err ? err : sql);
    sqlite3_free(err);
    return s;
  }
  return absl::OkStatus();
}

absl::Status ExecPrepared(Connection* c, const char* sql) {
  return Statement(c, sql).Run();
}

}  // namespace herald::sqlite
