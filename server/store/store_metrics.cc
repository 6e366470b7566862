#include "server/store/store_metrics.h"

#include <string>

#include "server/base/metric_builders.h"

namespace herald {

StoreMetrics::StoreMetrics(prometheus::Registry& registry)
    : sqlite_commit_duration_seconds(OneHistogram(
          registry, "herald_sqlite_commit_duration_seconds",
          "Seconds each SQLite group commit took, its fsync included.",
          FastBuckets())),
      postgres_commit_duration_seconds(OneHistogram(
          registry, "herald_postgres_commit_duration_seconds",
          "Seconds each PostgreSQL COMMIT took, synchronous standbys "
          "included.",
          FastBuckets())),
      write_conflicts(
          OneCounter(registry, "herald_store_write_conflicts_total",
                     "Writes run again because they conflicted with another "
                     "(PostgreSQL serialization failures and deadlocks).")),
      unreadable_records(CounterFamily(
          registry, "herald_unreadable_records_total",
          "Stored records that could not be read, by record: left out of "
          "lists, or a delivery failed with the reason.")) {}

prometheus::Counter& StoreMetrics::UnreadableRecords(absl::string_view record) {
  return unreadable_records.Add({{"record", std::string(record)}});
}

}  // namespace herald
