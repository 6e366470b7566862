#include "server/core/aftercare/follow_ups.h"

#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "herald/enum_labels.h"
#include "server/base/proto_time.h"
#include "server/base/text.h"
#include "server/core/comms/message_records.h"
#include "server/core/incidents/public_incident.h"
#include "server/core/incidents/timeline.h"

namespace herald {
namespace {

bool AboutService(v1::FollowUpAnswer a) {
  return a == v1::FOLLOW_UP_ANSWER_WORKS ||
         a == v1::FOLLOW_UP_ANSWER_STILL_BROKEN;
}

// "still broken"
std::string InWords(v1::FollowUpAnswer a) {
  return absl::StrReplaceAll(EnumLabel(a), {{"_", " "}});
}

std::string CustomerLabel(const v1::Amends& a) {
  if (!a.account().empty()) return a.account();
  if (!a.customer_name().empty()) return a.customer_name();
  return a.subscriber_id();
}

}  // namespace

bool IsProblem(v1::FollowUpAnswer answer) {
  return answer == v1::FOLLOW_UP_ANSWER_STILL_BROKEN ||
         answer == v1::FOLLOW_UP_ANSWER_CREDIT_MISSING;
}

FollowUps::FollowUps(const CoreDeps& deps, const MessageDrafter& drafter,
                     const DeliveryPlanner& planner, const LinkTokens& links)
    : deps_(deps), drafter_(drafter), planner_(planner), links_(links) {}

absl::StatusOr<int> FollowUps::RunFollowUp(StoreTxn& txn,
                                           const v1::Job& job) const {
  const absl::Time now = deps_.clock.Now();
  absl::StatusOr<v1::Message> apology = txn.GetMessage(job.message_id());
  if (!apology.ok()) return apology.status();
  absl::StatusOr<v1::Incident> incident = txn.GetIncident(job.incident_id());
  if (!incident.ok()) return incident.status();
  auto skip = [&](absl::string_view why) -> absl::StatusOr<int> {
    if (auto st = txn.AppendTimeline(TimelineEntry(
            incident->id(), now, "follow_up", kHeraldActor,
            absl::StrCat("no follow-up to ", apology->ref(), ": ", why)));
        !st.ok()) {
      return st;
    }
    return 0;
  };
  if (!incident->has_resolved_at()) {
    return skip("the incident reopened; its next apology brings its own");
  }
  absl::StatusOr<std::vector<v1::Message>> published = txn.ListMessages(
      {.incident_id = incident->id(), .states = {v1::MESSAGE_STATE_PUBLISHED}});
  if (!published.ok()) return published.status();
  for (const v1::Message& m : *published) {
    if (m.kind() == v1::MESSAGE_KIND_APOLOGY && m.id() > apology->id()) {
      return skip(absl::StrCat("the later apology ", m.ref(),
                               " brings its own follow-up"));
    }
  }

  // Published without another look, so written from what customers were
  // told, never from the incident's internal title.
  const v1::Incident told =
      PublicSnapshot(*incident, PublicView(*incident, *published));
  absl::StatusOr<v1::Message> draft = drafter_.DraftFollowUp(told);
  if (!draft.ok()) return draft.status();
  absl::StatusOr<v1::Message> message =
      StoreDraft(txn, *std::move(draft), kHeraldActor, now);
  if (!message.ok()) return message.status();
  // The comms lead approved this follow-up with the apology: it is fixed
  // text from the templates, and approving it again would be a gate the
  // customer waits at for nothing.
  message->set_approver_id(apology->approver_id());
  if (auto st =
          planner_
              .PublishApproved(txn, *message, *incident, told, kHeraldActor,
                               absl::StrCat("under ", apology->approver_id(),
                                            "'s approval of ", apology->ref()))
              .status();
      !st.ok()) {
    return st;
  }
  return 1;
}

absl::StatusOr<RecordedAnswer> FollowUps::CheckAnswer(
    absl::string_view token) const {
  absl::StatusOr<std::pair<int64_t, v1::FollowUpAnswer>> parsed =
      links_.CheckAnswer(token);
  if (!parsed.ok()) return parsed.status();
  RecordedAnswer out;
  out.answer = parsed->second;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<v1::Amends> amends = r.GetAmends(parsed->first);
    if (!amends.ok()) return amends.status();
    out.incident_ref = IncidentRef(amends->incident_id());
    absl::StatusOr<v1::Subscriber> customer =
        r.GetSubscriber(amends->subscriber_id());
    if (!customer.ok() && !absl::IsNotFound(customer.status())) {
      return customer.status();
    }
    if (customer.ok()) out.locale = customer->locale();
    out.amends = *std::move(amends);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  const v1::FollowUpAnswer before = AboutService(out.answer)
                                        ? out.amends.service_answer()
                                        : out.amends.credit_answer();
  out.changed = before != out.answer;
  return out;
}

absl::StatusOr<RecordedAnswer> FollowUps::RecordAnswer(
    absl::string_view token, absl::string_view comment_in) const {
  absl::StatusOr<std::pair<int64_t, v1::FollowUpAnswer>> parsed =
      links_.CheckAnswer(token);
  if (!parsed.ok()) return parsed.status();
  const int64_t amends_id = parsed->first;
  const v1::FollowUpAnswer answer = parsed->second;
  // Only a problem needs words; a comment is the customer's own text,
  // shown to staff as written.
  std::string comment;
  if (IsProblem(answer)) {
    for (absl::Status s :
         {CheckText("comment", comment_in),
          CheckLength("comment", comment_in, kMaxAnswerCommentBytes)}) {
      if (!s.ok()) return s;
    }
    // Text-direction controls can make a line read otherwise than it is
    // stored; a customer has no need of them here.
    for (absl::string_view control :
         {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
          "\u2068", "\u2069"}) {
      if (absl::StrContains(comment_in, control)) {
        return absl::InvalidArgumentError(
            "comment: holds a text-direction control character");
      }
    }
    // Browsers send a textarea's lines with CRLF.
    comment = UnixNewlines(absl::StripAsciiWhitespace(comment_in));
  }
  RecordedAnswer out;
  out.answer = answer;
  const absl::Time now = deps_.clock.Now();
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<v1::Amends> amends = txn.GetAmends(amends_id);
    if (!amends.ok()) return amends.status();
    out.incident_ref = IncidentRef(amends->incident_id());
    absl::StatusOr<v1::Subscriber> customer =
        txn.GetSubscriber(amends->subscriber_id());
    if (!customer.ok() && !absl::IsNotFound(customer.status())) {
      return customer.status();
    }
    if (customer.ok()) out.locale = customer->locale();
    const v1::FollowUpAnswer before = AboutService(answer)
                                          ? amends->service_answer()
                                          : amends->credit_answer();
    // Past the limit a leaked link cannot flood anyone's inbox: the
    // answer still counts, the words are not passed on.
    const bool new_comment = !comment.empty() &&
                             comment != amends->answer_comment() &&
                             amends->answer_comments() < kMaxAnswerComments;
    out.answer_changed = before != answer;
    out.changed = out.answer_changed || new_comment;
    if (!out.changed) {
      out.amends = *std::move(amends);
      return absl::OkStatus();
    }
    if (new_comment) {
      amends->set_answer_comment(comment);
      amends->set_answer_comments(amends->answer_comments() + 1);
    }
    if (AboutService(answer)) {
      amends->set_service_answer(answer);
    } else {
      amends->set_credit_answer(answer);
    }
    *amends->mutable_answered_at() = ToProtoTime(now);
    if (auto st = txn.UpdateAmends(*amends); !st.ok()) return st;
    const std::string who = CustomerLabel(*amends);
    std::string said = absl::StrCat(who, ": ", InWords(answer));
    if (new_comment) {
      absl::StrAppend(&said, " (\"", TruncateUtf8(comment, 300, "…"), "\")");
    }
    if (auto st = txn.AppendTimeline(TimelineEntry(
            amends->incident_id(), now, "follow_up_answer", "customer", said));
        !st.ok()) {
      return st;
    }
    if (IsProblem(answer)) {
      absl::StatusOr<v1::Incident> incident =
          txn.GetIncident(amends->incident_id());
      if (!incident.ok()) return incident.status();
      const std::map<std::string, std::string> values = {
          {"customer", who},
          {"customer_name", amends->customer_name()},
          {"subscriber_id", amends->subscriber_id()},
          {"answer_text", InWords(answer)},
          {"customer_comment", new_comment ? comment : ""}};
      // One notice per answer, and one more per new comment.
      absl::Status told = planner_.NotifyPerson(
          txn,
          absl::StrCat(
              "answer-", amends->id(), "-", EnumLabel(answer),
              new_comment ? absl::StrCat("-", amends->answer_comments()) : ""),
          "follow_up_problem", *incident, incident->point_person_id(), nullptr,
          values);
      // A point person without a contact still sees the answer listed.
      if (!told.ok() && !absl::IsFailedPrecondition(told)) return told;
    }
    out.amends = *std::move(amends);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (out.answer_changed) {
    deps_.metrics.FollowUpAnswers(EnumLabel(answer)).Increment();
    deps_.Emit(out.amends.incident_id(), "follow_up_answer", "customer",
               absl::StrCat(CustomerLabel(out.amends), ": ", InWords(answer)));
  }
  return out;
}

}  // namespace herald
