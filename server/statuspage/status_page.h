// StatusPage builds the public view of herald's state: the Statuspage-v2
// JSON documents and the server-rendered HTML page. It shows only what was
// approved and published; internal incidents and drafts never appear.
// Thread-safe.
#ifndef HERALD_SERVER_STATUSPAGE_STATUS_PAGE_H_
#define HERALD_SERVER_STATUSPAGE_STATUS_PAGE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
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
  // A button that records a follow-up answer with this token.
  std::string answer_token;
};

class StatusPage {
 public:
  explicit StatusPage(const CoreDeps& deps);

  // The summary: page, components, unresolved incidents and overall status.
  absl::StatusOr<v1::statuspage::Summary> Summary() const;
  // Every published incident, newest first, at most `limit`.
  absl::StatusOr<v1::statuspage::Summary> History(int limit) const;

  // The HTML status page, with the subscribe form unless self-service is
  // off.
  absl::StatusOr<std::string> RenderHtml() const;
  absl::StatusOr<std::string> RenderSelfService(
      const SelfServicePage& page) const;
  // The Atom feed of published updates, newest first. Entry ids derive
  // from the message, so they never change once published.
  absl::StatusOr<std::string> RenderAtom() const;

 private:
  absl::StatusOr<v1::statuspage::Summary> Build(bool only_unresolved,
                                                int limit) const;
  // The subscribe form's values: components, ticked as `checked`.
  void AddSubscribeForm(const std::vector<std::string>& checked,
                        TemplateContext& ctx) const;

  const CoreDeps& deps_;
};

}  // namespace herald

#endif  // HERALD_SERVER_STATUSPAGE_STATUS_PAGE_H_
