// The domain's views and events as herald's public protocol
// (herald/v1/herald.proto) carries them. Core returns views (IncidentDetail,
// MessageDetail, AmendsPage, CreditApproval) and publishes IncidentEvents;
// the gRPC services and the console's event stream turn them into wire
// messages here, so core never depends on the protocol's replies. The
// replies' builders move out of the view they are given. Stateless;
// thread-safe.
#ifndef HERALD_SERVER_WIRE_WIRE_VIEWS_H_
#define HERALD_SERVER_WIRE_WIRE_VIEWS_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "herald/v1/herald.pb.h"
#include "server/core/aftercare/aftercare.h"
#include "server/core/event_hub.h"
#include "server/core/incidents/incident_queries.h"

namespace herald {

v1::GetIncidentResponse ToGetIncidentResponse(IncidentDetail detail);
v1::GetMessageResponse ToGetMessageResponse(MessageDetail detail);
v1::ListAmendsResponse ToListAmendsResponse(AmendsPage page);
v1::ApproveCreditsResponse ToApproveCreditsResponse(CreditApproval approval);
v1::WatchEvent ToWatchEvent(const IncidentEvent& event);

// An event as one line of printable text, for the other heraldd on a shared
// store (StoreBroadcast), and back; nullopt for a line that is not one.
std::string ToBroadcastLine(const IncidentEvent& event);
std::optional<IncidentEvent> FromBroadcastLine(absl::string_view line);

}  // namespace herald

#endif  // HERALD_SERVER_WIRE_WIRE_VIEWS_H_
