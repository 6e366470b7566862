// Builds timeline entries, the one record of what happened to an incident
// and who did it. Stateless; thread-safe.
#ifndef HERALD_SERVER_CORE_INCIDENTS_TIMELINE_H_
#define HERALD_SERVER_CORE_INCIDENTS_TIMELINE_H_

#include <string>
#include <utility>

#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"
#include "server/base/proto_time.h"

namespace herald {

// An entry for `incident_id` at `at`: `kind` ("opened", "escalated", ...),
// `actor` (a person id, "alertmanager" or "herald") and free `text`.
inline v1::TimelineEvent TimelineEntry(int64_t incident_id, absl::Time at,
                                       std::string kind, std::string actor,
                                       std::string text) {
  v1::TimelineEvent e;
  e.set_incident_id(incident_id);
  *e.mutable_at() = ToProtoTime(at);
  e.set_kind(std::move(kind));
  e.set_actor(std::move(actor));
  e.set_text(std::move(text));
  return e;
}

}  // namespace herald

#endif  // HERALD_SERVER_CORE_INCIDENTS_TIMELINE_H_
