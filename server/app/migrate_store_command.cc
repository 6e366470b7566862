#include "server/app/migrate_store_command.h"

#include <ostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "server/config/bootstrap.h"
#include "server/store/store_migration.h"

namespace herald {

int RunMigrateStore(const MigrateStoreFlags& flags, std::ostream& out,
                    std::ostream& err) {
  PostgresStoreOptions target{.dsn = flags.to, .pool_size = 1};
  if (!flags.password_file.empty()) {
    absl::StatusOr<std::string> password =
        ReadSecretFile(flags.password_file, "--password-file");
    if (!password.ok()) {
      err << "heraldd migrate-store: " << password.status().message() << "\n";
      return 1;
    }
    target.password = *std::move(password);
  }
  absl::StatusOr<std::vector<CopiedTable>> copied =
      CopySqliteToPostgres(flags.from, target);
  if (!copied.ok()) {
    err << "heraldd migrate-store: " << copied.status().message()
        << "\nNothing was copied to PostgreSQL. The SQLite database keeps "
           "its data (its schema may have been brought up to date, as "
           "heraldd does at start).\n";
    return 1;
  }
  int64_t total = 0;
  for (const CopiedTable& t : *copied) total += t.rows;
  if (flags.output == "json") {
    google::protobuf::Struct report;
    auto& fields = *report.mutable_fields();
    fields["from"].set_string_value(flags.from);
    fields["rows"].set_number_value(static_cast<double>(total));
    google::protobuf::ListValue* tables = fields["tables"].mutable_list_value();
    for (const CopiedTable& t : *copied) {
      auto& row =
          *tables->add_values()->mutable_struct_value()->mutable_fields();
      row["table"].set_string_value(t.table);
      row["rows"].set_number_value(static_cast<double>(t.rows));
    }
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(report, &json).ok()) {
      err << "heraldd migrate-store: could not write the report as JSON\n";
      return 1;
    }
    out << json << "\n";
    return 0;
  }
  out << absl::StrFormat("%-18s %10s\n", "TABLE", "ROWS");
  for (const CopiedTable& t : *copied) {
    out << absl::StrFormat("%-18s %10d\n", t.table, t.rows);
  }
  out << "Copied " << total << " rows from " << flags.from
      << " to PostgreSQL; each table's count matches. Start heraldd with "
         "store.postgres (or --store) to use it.\n";
  return 0;
}

}  // namespace herald
