#include "server/http/self_service_routes.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/base/log.h"

namespace herald {
namespace {

constexpr char kSubscribe[] = "/subscribe";
constexpr char kConfirm[] = "/subscribe/confirm";
constexpr char kUnsubscribe[] = "/unsubscribe";
constexpr char kFollowUp[] = "/follow-up";

HttpReply Render(const StatusPage& page, int status,
                 const SelfServicePage& view) {
  // Links carry tokens: keep them out of Referer headers too.
  return HtmlPage(status, page.RenderSelfService(view), "self-service page",
                  "no-referrer");
}

int StatusFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kFailedPrecondition:
      return 410;  // an expired or superseded link
    case absl::StatusCode::kResourceExhausted:
      return 429;
    default:
      return 503;
  }
}

// The message a reader sees for `s`; internal errors stay in the log.
std::string ErrorText(const absl::Status& s) {
  if (StatusFor(s) >= 500) {
    LogError("self-service request failed", {{"error", s.ToString()}});
    return "Something went wrong on our side. Please try again in a few "
           "minutes.";
  }
  return std::string(s.message());
}

// The form's text after "email: " and the like.
std::string WithoutField(absl::string_view message) {
  for (absl::string_view field : {"email: ", "name: ", "component: "}) {
    if (absl::StartsWith(message, field)) {
      return std::string(message.substr(field.size()));
    }
  }
  return std::string(message);
}

HttpReply ServeSubscribe(SubscriptionPortal& portal, const StatusPage& page,
                         const HttpRequest& request, const FormFields& form) {
  SelfServicePage view;
  view.heading = "Subscribe to status updates";
  view.show_form = true;
  if (!request.post()) return Render(page, 200, view);
  SubscribeRequest subscribe;
  subscribe.email = FormField(form, "email");
  subscribe.name = FormField(form, "name");
  subscribe.client = request.peer;
  for (auto [it, end] = form.equal_range("component"); it != end; ++it) {
    subscribe.component_ids.push_back(it->second);
  }
  const absl::Status s = portal.Subscribe(subscribe);
  if (!s.ok()) {
    view.error = WithoutField(ErrorText(s));
    view.email = subscribe.email;
    view.name = subscribe.name;
    view.component_ids = subscribe.component_ids;
    HttpReply reply = Render(page, StatusFor(s), view);
    if (s.code() == absl::StatusCode::kResourceExhausted) {
      reply.headers.emplace_back("Retry-After", "60");
    }
    return reply;
  }
  view.show_form = false;
  view.heading = "Check your inbox";
  // The same answer whether or not the address was known: the form must
  // not tell anyone who subscribes.
  view.text = absl::StrCat(
      "We sent a link to ", absl::AsciiStrToLower(subscribe.email),
      ". Open it to confirm your subscription; nothing else is sent until "
      "you do.");
  return Render(page, 200, view);
}

// The page for a link that cannot be used; `offer_form` adds the form to
// subscribe again.
HttpReply BrokenLink(const StatusPage& page, const absl::Status& s,
                     bool offer_form) {
  SelfServicePage view;
  view.heading = "This link does not work";
  view.error = ErrorText(s);
  view.show_form = offer_form;
  return Render(page, StatusFor(s), view);
}

HttpReply ServeConfirm(SubscriptionPortal& portal, const StatusPage& page,
                       const HttpRequest& request, const std::string& token) {
  SelfServicePage view;
  if (!request.post()) {
    const absl::Status s = portal.CheckConfirmLink(token);
    if (!s.ok()) {
      // Expired: ask again here.
      return BrokenLink(page, s,
                        s.code() == absl::StatusCode::kFailedPrecondition);
    }
    view.heading = "Confirm your subscription";
    view.text = "Press the button to start receiving status updates.";
    view.confirm_token = token;
    return Render(page, 200, view);
  }
  absl::StatusOr<v1::Subscriber> sub = portal.Confirm(token);
  if (!sub.ok()) {
    return BrokenLink(page, sub.status(), StatusFor(sub.status()) < 500);
  }
  view.heading = "You are subscribed";
  view.text = absl::StrCat("Status updates will reach ", sub->email(),
                           ". Every email has a link to unsubscribe.");
  return Render(page, 200, view);
}

HttpReply ServeUnsubscribe(SubscriptionPortal& portal, const StatusPage& page,
                           const HttpRequest& request,
                           const std::string& token) {
  SelfServicePage view;
  if (!request.post()) {
    const absl::Status s = portal.CheckUnsubscribeLink(token);
    if (!s.ok()) return BrokenLink(page, s, /*offer_form=*/false);
    view.heading = "Unsubscribe";
    view.text = "Press the button to stop receiving status updates.";
    view.unsubscribe_token = token;
    return Render(page, 200, view);
  }
  absl::StatusOr<v1::Subscriber> sub = portal.Unsubscribe(token);
  if (!sub.ok()) return BrokenLink(page, sub.status(), /*offer_form=*/false);
  view.heading = "You are unsubscribed";
  view.text = absl::StrCat("No more status updates will be sent to ",
                           sub->email().empty() ? "you" : sub->email(), ".");
  return Render(page, 200, view);
}

// What the customer tells us with `answer`, in their words.
std::string AnswerText(v1::FollowUpAnswer answer) {
  switch (answer) {
    case v1::FOLLOW_UP_ANSWER_WORKS:
      return "everything works again";
    case v1::FOLLOW_UP_ANSWER_STILL_BROKEN:
      return "something is still broken";
    case v1::FOLLOW_UP_ANSWER_CREDIT_RECEIVED:
      return "your credit arrived";
    case v1::FOLLOW_UP_ANSWER_CREDIT_MISSING:
      return "your credit has not arrived";
    default:
      return "";
  }
}

HttpReply ServeFollowUp(const FollowUps& follow_ups, const StatusPage& page,
                        const HttpRequest& request, const FormFields& form,
                        const std::string& token) {
  SelfServicePage view;
  if (!request.post()) {
    absl::StatusOr<RecordedAnswer> pending = follow_ups.CheckAnswer(token);
    if (!pending.ok()) {
      return BrokenLink(page, pending.status(), /*offer_form=*/false);
    }
    view.heading = "Tell us how things are";
    view.text = absl::StrCat("Press the button to tell us that ",
                             AnswerText(pending->answer), " after ",
                             pending->incident_ref, ".");
    view.answer_token = token;
    view.answer_comment_box = IsProblem(pending->answer);
    return Render(page, 200, view);
  }
  absl::StatusOr<RecordedAnswer> recorded =
      follow_ups.RecordAnswer(token, FormField(form, "comment"));
  if (absl::IsInvalidArgument(recorded.status()) &&
      absl::StartsWith(recorded.status().message(), "comment: ")) {
    // The link is good; what they wrote is not: ask again.
    view.heading = "Tell us how things are";
    view.error = std::string(recorded.status().message());
    view.answer_token = token;
    view.answer_comment_box = true;
    view.answer_comment = FormField(form, "comment");
    return Render(page, 400, view);
  }
  if (!recorded.ok()) {
    return BrokenLink(page, recorded.status(), /*offer_form=*/false);
  }
  view.heading = "Thank you for telling us";
  view.text =
      IsProblem(recorded->answer)
          ? "We are sorry it is not put right yet. A person has been told "
            "and will contact you."
          : "We are glad to hear it. Thank you for bearing with us.";
  return Render(page, 200, view);
}

}  // namespace

bool IsSelfServicePath(absl::string_view path) {
  return path == kSubscribe || path == kConfirm || path == kUnsubscribe ||
         path == kFollowUp;
}

HttpReply ServeSelfService(const SelfServiceDeps& deps, absl::string_view path,
                           const HttpRequest& request) {
  const StatusPage& page = deps.page;
  const bool served =
      path == kFollowUp ? deps.follow_ups != nullptr : deps.portal != nullptr;
  if (!served || (path == kSubscribe && !deps.portal->enabled())) {
    HttpReply reply;
    reply.status = 404;
    reply.content_type = "text/plain; charset=utf-8";
    reply.body = path == kSubscribe
                     ? "self-service subscription is turned off\n"
                     : "no such page\n";
    return reply;
  }
  absl::StatusOr<FormFields> fields = ParseUrlEncoded(request.query);
  if (fields.ok() && request.post()) {
    const absl::string_view type = absl::StripAsciiWhitespace(
        absl::string_view(request.content_type)
            .substr(0, request.content_type.find(';')));
    if (absl::EqualsIgnoreCase(type, "application/x-www-form-urlencoded")) {
      absl::StatusOr<FormFields> body = ParseUrlEncoded(request.body);
      if (body.ok()) {
        fields->merge(*std::move(body));
      } else {
        fields = body.status();
      }
    } else if (path == kSubscribe) {
      // One-click unsubscribes may come as multipart/form-data; their
      // token is in the query. A subscription needs the form's fields.
      HttpReply reply;
      reply.status = 415;
      reply.content_type = "text/plain; charset=utf-8";
      reply.body =
          "send the form as application/x-www-form-urlencoded, as browsers "
          "do\n";
      return reply;
    }
  }
  if (!fields.ok()) {
    // Nothing of what was sent is shown again: the page names the field.
    SelfServicePage view;
    view.heading = path == kSubscribe ? "Subscribe to status updates"
                                      : "This link does not work";
    view.show_form = path == kSubscribe;
    view.error = std::string(fields.status().message());
    return Render(page, 400, view);
  }
  if (path == kSubscribe) {
    return ServeSubscribe(*deps.portal, page, request, *fields);
  }
  const std::string token = FormField(*fields, "token");
  if (path == kConfirm) return ServeConfirm(*deps.portal, page, request, token);
  if (path == kFollowUp) {
    return ServeFollowUp(*deps.follow_ups, page, request, *fields, token);
  }
  return ServeUnsubscribe(*deps.portal, page, request, token);
}

}  // namespace herald
