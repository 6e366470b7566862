// AffectedCustomers works out which customers an incident affected, for
// `herald affected` and the apologies: the active subscribers of its
// components, and the subscribers whose account one of its alerts names in
// a customer label (intake.customer_labels, e.g. customer="globex"). Each
// customer appears once with every reason; unsubscribed and pending
// subscribers are left out. Immutable; thread-safe.
#ifndef HERALD_SERVER_CORE_AFTERCARE_AFFECTED_CUSTOMERS_H_
#define HERALD_SERVER_CORE_AFTERCARE_AFFECTED_CUSTOMERS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "herald/v1/domain.pb.h"
#include "server/core/core_deps.h"

namespace herald {

class AffectedCustomers {
 public:
  explicit AffectedCustomers(const CoreDeps& deps);

  // By subscriber id. NotFound for an unknown incident.
  absl::StatusOr<std::vector<v1::AffectedCustomer>> ForIncident(
      int64_t incident_id) const;
  // The same, read through `reader` (inside a caller's transaction).
  absl::StatusOr<std::vector<v1::AffectedCustomer>> Find(
      StoreReader& reader, const v1::Incident& incident) const;

 private:
  const CoreDeps& deps_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_AFTERCARE_AFFECTED_CUSTOMERS_H_
