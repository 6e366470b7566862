// StoreMetrics holds the store's series: how long each commit took (SQLite's
// group commit, or a PostgreSQL transaction's), writes PostgreSQL made run
// again, and stored records that could not be read. The server hands the
// store callbacks that feed them. Built on the injected registry
// (core/metrics.h says how the parts share it). Thread-safe; immutable
// after construction.
#ifndef HERALD_SERVER_STORE_STORE_METRICS_H_
#define HERALD_SERVER_STORE_STORE_METRICS_H_

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace herald {

struct StoreMetrics {
  explicit StoreMetrics(prometheus::Registry& registry);

  // One record of kind `record` ("Delivery") could not be read.
  prometheus::Counter& UnreadableRecords(absl::string_view record);

  // How long each SQLite group commit took (COMMIT, including its fsync).
  prometheus::Histogram& sqlite_commit_duration_seconds;
  // How long each PostgreSQL COMMIT took (with synchronous standbys, their
  // flush included).
  prometheus::Histogram& postgres_commit_duration_seconds;
  // Writes run again because they conflicted with another (a
  // serialization failure or a deadlock on PostgreSQL). Some are normal
  // under load; many mean replicas fight over the same rows.
  prometheus::Counter& write_conflicts;
  // Stored records that could not be read, by kind of record: left out of
  // lists, or (a delivery) failed with the reason. Should stay 0.
  prometheus::Family<prometheus::Counter>& unreadable_records;
};

}  // namespace herald

#endif  // HERALD_SERVER_STORE_STORE_METRICS_H_
