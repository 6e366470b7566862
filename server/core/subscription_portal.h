// SubscriptionPortal is self-service for customers, behind the status page:
// subscribing with double opt-in, confirming, and unsubscribing through the
// signed links herald emails. Nobody signs in: the link tokens (LinkTokens)
// are the proof.
//
//   Subscribe    stores a pending subscriber and queues a confirmation
//                email; an address that is already subscribed gets a note
//                saying so instead. The answer is the same either way, so
//                the form does not tell who subscribes. One address gets at
//                most one email per resend interval, and the form accepts a
//                bounded number of requests per minute.
//   Confirm      makes a pending subscriber active (idempotent).
//   Unsubscribe  stops every later delivery (idempotent); the record stays,
//                so operators and imports cannot re-add them.
//
// Thread-safe.
#ifndef HERALD_SERVER_CORE_SUBSCRIPTION_PORTAL_H_
#define HERALD_SERVER_CORE_SUBSCRIPTION_PORTAL_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"
#include "server/core/core_deps.h"
#include "server/core/link_tokens.h"
#include "server/core/message_drafter.h"

namespace herald {

struct SubscribeRequest {
  std::string email;
  std::string name;                        // optional
  std::vector<std::string> component_ids;  // empty: every component
};

class SubscriptionPortal {
 public:
  // `wake_senders` is called after a confirmation email is queued.
  SubscriptionPortal(const CoreDeps& deps, const MessageDrafter& drafter,
                     const LinkTokens& links,
                     std::function<void()> wake_senders = {});

  // InvalidArgument names the field ("email: ..."); ResourceExhausted when
  // the form is over its rate; FailedPrecondition when self-service is off.
  absl::Status Subscribe(const SubscribeRequest& request);
  absl::StatusOr<v1::Subscriber> Confirm(absl::string_view token) const;
  absl::StatusOr<v1::Subscriber> Unsubscribe(absl::string_view token) const;

  // Checks a link without acting on it, for the page that asks the reader
  // to press the button: mail scanners follow links, so a GET never acts.
  absl::Status CheckConfirmLink(absl::string_view token) const;
  absl::Status CheckUnsubscribeLink(absl::string_view token) const;

  bool enabled() const;

 private:
  bool TakeRequestSlot();
  // Applies `change` to subscriber `id` in one transaction; `change`
  // returns whether it changed anything, which is then stored. Returns the
  // subscriber as stored and whether it changed.
  absl::StatusOr<std::pair<v1::Subscriber, bool>> UpdateSubscriber(
      const std::string& id,
      absl::FunctionRef<absl::StatusOr<bool>(v1::Subscriber&)> change) const;
  // Queues `kind` (subscribe_confirm or subscribe_existing) to `subscriber`.
  absl::Status QueueNotice(StoreTxn& txn, const v1::Subscriber& subscriber,
                           absl::string_view kind, absl::Time now) const;

  const CoreDeps& deps_;
  const MessageDrafter& drafter_;
  const LinkTokens& links_;
  const std::function<void()> wake_senders_;

  absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int window_requests_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_SUBSCRIPTION_PORTAL_H_
