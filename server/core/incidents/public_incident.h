// What customers have been told about an incident. Every public surface (the
// status page, its JSON and Atom feed, each customer's email, webhook, chat
// message and SMS) shows an incident through this view, which is derived
// only from the messages a person approved and published: an incident's
// internal title (the alert's summary), its internal status and its
// engineers' notes never reach it. Stateless; thread-safe.
#ifndef HERALD_SERVER_CORE_INCIDENTS_PUBLIC_INCIDENT_H_
#define HERALD_SERVER_CORE_INCIDENTS_PUBLIC_INCIDENT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"

namespace herald {

struct PublicIncident {
  // False until a status update, resolution or maintenance announcement of
  // the incident has been published; nothing else is set then.
  bool visible = false;
  // The newest published message's title.
  std::string name;
  // The newest published message's status; for scheduled maintenance, the
  // window's (scheduled, in progress, completed) once announced.
  v1::IncidentStatus status = v1::INCIDENT_STATUS_UNSPECIFIED;
  // When the newest message was published.
  absl::Time updated_at = absl::InfinitePast();
  // When the approved resolution was published, while the status says
  // resolved; InfinitePast otherwise.
  absl::Time resolved_at = absl::InfinitePast();
  // The components the newest message spoke of.
  std::vector<std::string> component_ids;
  // The published status updates, resolutions and announcements, newest
  // first.
  std::vector<v1::Message> messages;
};

// Whether customers see `message` on the status page: published, and a
// status update, resolution or maintenance announcement (apologies and
// follow-ups go to each customer only).
bool ShowsOnStatusPage(const v1::Message& message);

// The public view of `incident` given its messages (any states; only the
// published ones count).
PublicIncident PublicView(const v1::Incident& incident,
                          std::vector<v1::Message> messages);

// The path of an incident's public page: "/incidents/INC-12". Emails, the
// feed, apologies and the static mirror all link there.
std::string IncidentPagePath(absl::string_view ref);

// `incident` as customers know it, for rendering a message being published
// as `view` says: the public name, status and resolution time replace the
// internal ones.
v1::Incident PublicSnapshot(const v1::Incident& incident,
                            const PublicIncident& view);

}  // namespace herald

#endif  // HERALD_SERVER_CORE_INCIDENTS_PUBLIC_INCIDENT_H_
