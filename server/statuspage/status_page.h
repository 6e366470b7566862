// StatusPage builds the public view of herald's state: the Statuspage-v2
// JSON documents, the HTML pages (the status page, a page per incident, the
// history) and the Atom feed. It shows only what was approved and
// published; internal incidents and drafts never appear.
//
// Everything public derives from one read of the store, a PublicState; each
// document is a pure function of it, so that heraldd's routes and the
// static mirror render the same bytes from one read. Thread-safe.
#ifndef HERALD_SERVER_STATUSPAGE_STATUS_PAGE_H_
#define HERALD_SERVER_STATUSPAGE_STATUS_PAGE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "herald/v1/statuspage.pb.h"
#include "server/core/core_deps.h"

namespace herald {

// A self-service page (subscribe, confirm, unsubscribe) in the status
// page's look. Only the parts that are set appear.
struct SelfServicePage {
  std::string heading;
  std::string text;
  std::string error;  // shown as an alert
  bool show_form = false;
  // The form's values, to fill it in again after an error.
  std::string email;
  std::string name;
  std::vector<std::string> component_ids;
  // A button that confirms (or unsubscribes) with this token.
  std::string confirm_token;
  std::string unsubscribe_token;
  // A button that records a follow-up answer with this token, and with
  // `answer_comment_box`, a box for the customer to say what is wrong.
  std::string answer_token;
  bool answer_comment_box = false;
  std::string answer_comment;  // the box's text, after an error
};

// One day of a component's history: the worst status herald published for
// it that day, and the incidents that set it.
struct ComponentDay {
  absl::CivilDay day;
  std::string status = "operational";  // a Statuspage component status
  std::vector<std::string> incident_ids;
};

// Everything customers can see, as of one read of the store.
struct PublicState {
  // The page; components and groups; every visible incident, newest first;
  // every announced maintenance (completed too), by its start; the overall
  // status.
  v1::statuspage::Summary all;
  // Per component id, its last kHistoryDays days, oldest first, ending
  // today (UTC) as of the read.
  std::map<std::string, std::vector<ComponentDay>> days;
  // Per component id, the share of that window it was up: all of a major
  // outage counts as down, and 30% of a partial one, as Statuspage counts.
  std::map<std::string, double> uptime;
};

// How pages link out of themselves.
struct PageLinks {
  // Where the subscribe form posts; "" leaves the form out.
  std::string subscribe_action = "/subscribe";
};

class StatusPage {
 public:
  static constexpr int kHistoryDays = 90;
  static constexpr int kHistoryPageSize = 25;
  // Incidents on the status page itself; the rest are in the history.
  static constexpr int kRecentIncidents = 10;

  explicit StatusPage(const CoreDeps& deps);

  // The clock every read is as of.
  const Clock& clock() const { return deps_.clock; }

  // What customers were told, read from the store at once.
  absl::StatusOr<PublicState> Read() const;

  // Statuspage's documents as projections of `state`.
  // summary.json: open incidents, upcoming and active maintenance.
  static v1::statuspage::Summary Current(const PublicState& state);
  // incidents.json: the newest `limit` incidents, resolved ones too.
  static v1::statuspage::Summary Incidents(const PublicState& state, int limit);
  // scheduled-maintenances.json and its upcoming and active subsets.
  enum class Maintenances { kAll, kUpcoming, kActive };
  static v1::statuspage::Summary MaintenancesOf(const PublicState& state,
                                                Maintenances which);
  // The incident or maintenance called `ref` (INC-12), or null.
  static const v1::statuspage::Incident* FindIncident(const PublicState& state,
                                                      absl::string_view ref);
  // How many history pages `state` fills (at least one).
  static int HistoryPages(const PublicState& state);

  // The HTML pages. The subscribe form shows when self-service is on and
  // `links` gives it somewhere to post.
  absl::StatusOr<std::string> RenderHtml(const PublicState& state,
                                         const PageLinks& links) const;
  absl::StatusOr<std::string> RenderIncidentPage(
      const PublicState& state, const v1::statuspage::Incident& incident) const;
  // History page `number` (1 is the newest); NotFound past the last.
  absl::StatusOr<std::string> RenderHistoryPage(const PublicState& state,
                                                int number) const;
  // The page a reader gets for a path the site does not have.
  absl::StatusOr<std::string> RenderNotFound(const PublicState& state) const;
  // The Atom feed of published updates, newest first. Entry ids derive
  // from the message, so they never change once published.
  absl::StatusOr<std::string> RenderAtom(const PublicState& state) const;

  absl::StatusOr<std::string> RenderSelfService(
      const SelfServicePage& page) const;

  // Shorthands that read and render at once.
  absl::StatusOr<v1::statuspage::Summary> Summary() const;
  absl::StatusOr<v1::statuspage::Summary> History(int limit) const;
  absl::StatusOr<std::string> RenderHtml() const;
  absl::StatusOr<std::string> RenderAtom() const;

 private:
  // The values every page's frame shows.
  TemplateContext PageFrame(const PublicState& state) const;
  // The subscribe form's values: components, ticked as `checked`.
  void AddSubscribeForm(const std::vector<std::string>& checked,
                        TemplateContext& ctx) const;

  const CoreDeps& deps_;
};

}  // namespace herald

#endif  // HERALD_SERVER_STATUSPAGE_STATUS_PAGE_H_
