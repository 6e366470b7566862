// The PostgreSQL cluster a test runs against: the one ctest's `postgres`
// fixture started (tests/testing/postgres_cluster.sh), found through the
// HERALD_TEST_POSTGRES environment variable, which names the script's state
// directory. There is no fallback and no skip: a test that needs PostgreSQL
// fails, saying why, when it has none.
#ifndef HERALD_TESTS_TESTING_POSTGRES_TEST_CLUSTER_H_
#define HERALD_TESTS_TESTING_POSTGRES_TEST_CLUSTER_H_

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace herald::testing {

// The cluster's connection string.
inline absl::StatusOr<std::string> PostgresTestDsn() {
  const char* state = std::getenv("HERALD_TEST_POSTGRES");
  if (state == nullptr || *state == '\0') {
    return absl::FailedPreconditionError(
        "HERALD_TEST_POSTGRES is not set: run the tests through ctest, whose "
        "`postgres` fixture starts a cluster (tests/testing/"
        "postgres_cluster.sh start DIR, then HERALD_TEST_POSTGRES=DIR)");
  }
  std::ifstream in(absl::StrCat(state, "/dsn"));
  std::string dsn;
  if (!std::getline(in, dsn) || dsn.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no PostgreSQL test cluster is running: ", state, "/dsn is missing"));
  }
  return dsn;
}

// Creates a new, empty schema in the cluster and returns a connection
// string whose search_path is that schema: a database of its own, for one
// test, at the cost of a CREATE SCHEMA.
inline absl::StatusOr<std::string> FreshPostgresSchema() {
  absl::StatusOr<std::string> dsn = PostgresTestDsn();
  if (!dsn.ok()) return dsn.status();
  static std::atomic<int> n{0};
  const std::string schema = absl::StrCat("t_", getpid(), "_", n++);
  PGconn* conn = PQconnectdb(dsn->c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* r = PQexec(conn, absl::StrCat("DROP SCHEMA IF EXISTS ", schema,
                                            " CASCADE; CREATE SCHEMA ", schema)
                                   .c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) error = PQerrorMessage(conn);
    PQclear(r);
  }
  PQfinish(conn);
  if (!error.empty()) {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL test cluster: ", error));
  }
  return absl::StrCat(*dsn, " options='-csearch_path=", schema, "'");
}

}  // namespace herald::testing

#endif  // HERALD_TESTS_TESTING_POSTGRES_TEST_CLUSTER_H_
