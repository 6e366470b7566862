// FollowUps checks, days after an apology, that each customer was made
// whole. A durable job (set when the apology is approved) publishes the
// follow-up to the customers the apology went to, under the comms lead's
// approval of the apology: the customer never has to act, and nobody has to
// remember. Each answer link in it records the customer's answer; "still
// broken" and "credit missing" notify the incident's point person.
// Thread-safe.
#ifndef HERALD_SERVER_CORE_AFTERCARE_FOLLOW_UPS_H_
#define HERALD_SERVER_CORE_AFTERCARE_FOLLOW_UPS_H_

#include <string>

#include "absl/status/statusor.h"
#include "herald/v1/domain.pb.h"
#include "server/core/comms/delivery_planner.h"
#include "server/core/comms/message_drafter.h"
#include "server/core/core_deps.h"
#include "server/core/subscribers/link_tokens.h"

namespace herald {

// What an answer link recorded.
struct RecordedAnswer {
  v1::Amends amends;
  std::string incident_ref;
  v1::FollowUpAnswer answer = v1::FOLLOW_UP_ANSWER_UNSPECIFIED;
  // false: the same answer (and no new comment) was already recorded
  bool changed = false;
  bool answer_changed = false;  // the answer itself, not only its comment
  // The customer's language (Subscriber.locale), for the page that answers
  // them; "" when unknown.
  std::string locale;
};

class FollowUps {
 public:
  FollowUps(const CoreDeps& deps, const MessageDrafter& drafter,
            const DeliveryPlanner& planner, const LinkTokens& links);

  // Runs a JOB_KIND_FOLLOW_UP job (JobRunner): publishes the follow-up of
  // the apology `job.message_id` and queues it for that apology's customers.
  // Returns how many messages it published: 0 when the follow-up is no
  // longer due (the incident reopened, or a later apology brings its own).
  absl::StatusOr<int> RunFollowUp(StoreTxn& txn, const v1::Job& job) const;

  // Checks an answer link's token and records its answer, with what the
  // customer wrote (`comment`, kept only with a problem answer). The point
  // person is told of a problem answer, and again of each new comment, up
  // to kMaxAnswerComments comments (later ones are not kept).
  // InvalidArgument for a bad token or a comment too long, not UTF-8 or
  // with control characters; NotFound when its amends no longer exist.
  // Recording the same answer twice without a new comment changes nothing.
  absl::StatusOr<RecordedAnswer> RecordAnswer(
      absl::string_view token, absl::string_view comment = "") const;
  // What the token would record, without recording it (the page a GET
  // shows, since mail scanners open links).
  absl::StatusOr<RecordedAnswer> CheckAnswer(absl::string_view token) const;

 private:
  const CoreDeps& deps_;
  const MessageDrafter& drafter_;
  const DeliveryPlanner& planner_;
  const LinkTokens& links_;
};

// True for the answers that need a person's attention.
bool IsProblem(v1::FollowUpAnswer answer);

// The longest comment a customer may write with an answer (the page's box
// takes 2,000 characters, at most 4 bytes each), and how many times one
// customer may write to the point person per incident through the answer
// page.
inline constexpr size_t kMaxAnswerCommentBytes = 8000;
inline constexpr int kMaxAnswerComments = 5;

}  // namespace herald

#endif  // HERALD_SERVER_CORE_AFTERCARE_FOLLOW_UPS_H_
