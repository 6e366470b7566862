// SubscriberDirectory manages who receives status messages: operators add,
// list, unsubscribe and bulk-import subscribers. Operators vouch for the
// people they add, so those are active at once; someone who unsubscribed is
// never re-added by an operator or an import, only by themselves.
// Unsubscribing keeps the record and cancels deliveries not yet sent.
// Immutable; thread-safe.
#ifndef HERALD_SERVER_CORE_SUBSCRIBERS_SUBSCRIBER_DIRECTORY_H_
#define HERALD_SERVER_CORE_SUBSCRIBERS_SUBSCRIBER_DIRECTORY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "herald/v1/domain.pb.h"
#include "server/core/core_deps.h"
#include "server/core/org/authorizer.h"
#include "server/core/paging.h"

namespace herald {

struct ImportResult {
  int added = 0;
  int updated = 0;
  int skipped_unsubscribed = 0;
};

class SubscriberDirectory {
 public:
  explicit SubscriberDirectory(const CoreDeps& deps);

  // The stored subscriber, with any generated webhook secret (shown once).
  absl::StatusOr<v1::Subscriber> Add(const Caller& caller,
                                     v1::Subscriber subscriber) const;
  // One page of the subscribers `filter` names (its after_id and limit are
  // the page's), by id. Webhook secrets are redacted.
  absl::StatusOr<Page<v1::Subscriber>> List(SubscriberFilter filter,
                                            const PageRequest& page) const;
  absl::StatusOr<v1::Subscriber> Remove(const Caller& caller,
                                        const std::string& id) const;
  // All or nothing. `sources[i]`, when given, names where subscriber i came
  // from in errors ("people.csv:12"); otherwise "subscribers[i]".
  absl::StatusOr<ImportResult> Import(
      const Caller& caller, std::vector<v1::Subscriber> subscribers,
      const std::vector<std::string>& sources) const;

 private:
  absl::Status Validate(const v1::Subscriber& s) const;

  const CoreDeps& deps_;
};

// `subscriber` with each webhook secret shortened to "whsec_…" and its last
// four characters.
v1::Subscriber WithoutSecrets(v1::Subscriber subscriber);

}  // namespace herald

#endif  // HERALD_SERVER_CORE_SUBSCRIBERS_SUBSCRIBER_DIRECTORY_H_
