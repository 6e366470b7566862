// IncidentGauges sets the metrics that describe the open incidents as they
// stand: how many are open at each impact, how many nobody acknowledged,
// how many are past their update cadence, and how long the oldest public
// one has gone without a public update. Called periodically (heraldd) or
// directly (tests). Thread-safe.
#ifndef HERALD_SERVER_CORE_INCIDENTS_INCIDENT_GAUGES_H_
#define HERALD_SERVER_CORE_INCIDENTS_INCIDENT_GAUGES_H_

#include "absl/status/status.h"
#include "server/core/core_deps.h"

namespace herald {

class IncidentGauges {
 public:
  explicit IncidentGauges(const CoreDeps& deps);

  // Reads the open incidents and sets herald_open_incidents{impact},
  // herald_oldest_open_incident_update_age_seconds,
  // herald_unacknowledged_incidents and
  // herald_incidents_past_update_cadence. Maintenance windows are not
  // incidents and are left out.
  absl::Status Refresh() const;

 private:
  const CoreDeps& deps_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_INCIDENTS_INCIDENT_GAUGES_H_
