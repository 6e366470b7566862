// StatusPage builds the public view of herald's state: the Statuspage-v2
// JSON documents and the server-rendered HTML page. It shows only what was
// approved and published; internal incidents and drafts never appear.
// Thread-safe.
#ifndef HERALD_SERVER_STATUSPAGE_STATUS_PAGE_H_
#define HERALD_SERVER_STATUSPAGE_STATUS_PAGE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "herald/v1/statuspage.pb.h"
#include "server/core/core_deps.h"

namespace herald {

class StatusPage {
 public:
  explicit StatusPage(const CoreDeps& deps);

  // The summary: page, components, unresolved incidents and overall status.
  absl::StatusOr<v1::statuspage::Summary> Summary() const;
  // Every published incident, newest first, at most `limit`.
  absl::StatusOr<v1::statuspage::Summary> History(int limit) const;

  // The HTML status page.
  absl::StatusOr<std::string> RenderHtml() const;
  // The Atom feed of published updates, newest first. Entry ids derive
  // from the message, so they never change once published.
  absl::StatusOr<std::string> RenderAtom() const;

 private:
  absl::StatusOr<v1::statuspage::Summary> Build(bool only_unresolved,
                                                int limit) const;

  const CoreDeps& deps_;
};

}  // namespace herald

#endif  // HERALD_SERVER_STATUSPAGE_STATUS_PAGE_H_
