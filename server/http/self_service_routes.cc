#include "server/http/self_service_routes.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "herald/enum_labels.h"
#include "server/base/locale_text.h"
#include "server/base/log.h"
#include "server/core/subscribers/contacts.h"

namespace herald {
namespace {

constexpr char kSubscribe[] = "/subscribe";
constexpr char kConfirm[] = "/subscribe/confirm";
constexpr char kUnsubscribe[] = "/unsubscribe";
constexpr char kFollowUp[] = "/follow-up";
constexpr char kPreferences[] = "/preferences";

// The preferences form's field for a channel's place: "order.<position>",
// the position as stored.
constexpr absl::string_view kOrderField = "order.";

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

// Sets `view`'s error from a form's failure: the text without its field
// ("email: ..." reads "..."), and the field, for templates that word it in
// their own language ("busy" and "unavailable" for a full or failing
// server, "other" for the rest).
void SetFormError(const absl::Status& s, SelfServicePage& view) {
  view.error = ErrorText(s);
  const int status = StatusFor(s);
  view.error_field = status == 429   ? "busy"
                     : status >= 500 ? "unavailable"
                                     : "other";
  for (absl::string_view field : {"email", "name", "component", "channels",
                                  "locale", "time_zone", "comment"}) {
    if (absl::StartsWith(view.error, absl::StrCat(field, ": "))) {
      view.error = view.error.substr(field.size() + 2);
      view.error_field = std::string(field);
      break;
    }
  }
}

// The language the anonymous form speaks: the browser's, among those
// herald has templates for; "" (the organisation's) otherwise.
std::string FormLocale(const StatusPage& page, const HttpRequest& request) {
  return BestLanguage(request.accept_language, page.Languages());
}

HttpReply ServeSubscribe(SubscriptionPortal& portal, const StatusPage& page,
                         const HttpRequest& request, const FormFields& form) {
  SelfServicePage view;
  view.kind = "subscribe";
  view.locale = FormLocale(page, request);
  view.form_locale = view.locale;  // the browser's, else the default
  if (!request.post()) return Render(page, 200, view);
  SubscribeRequest subscribe;
  subscribe.email = FormField(form, "email");
  subscribe.name = FormField(form, "name");
  subscribe.locale = FormField(form, "locale");
  subscribe.time_zone = FormField(form, "time_zone");
  subscribe.client = request.peer;
  for (auto [it, end] = form.equal_range("component"); it != end; ++it) {
    subscribe.component_ids.push_back(it->second);
  }
  const absl::Status s = portal.Subscribe(subscribe);
  if (!s.ok()) {
    SetFormError(s, view);
    view.email = subscribe.email;
    view.name = subscribe.name;
    view.component_ids = subscribe.component_ids;
    view.form_locale = subscribe.locale;
    view.form_time_zone = subscribe.time_zone;
    HttpReply reply = Render(page, StatusFor(s), view);
    if (s.code() == absl::StatusCode::kResourceExhausted) {
      reply.headers.emplace_back("Retry-After", "60");
    }
    return reply;
  }
  // In the language they chose for their emails, from now on.
  view.kind = "check_inbox";
  if (absl::StatusOr<std::string> chosen = CanonicalLocaleTag(subscribe.locale);
      chosen.ok()) {
    view.locale = *chosen;
  }
  // The same answer whether or not the address was known: the form must
  // not tell anyone who subscribes.
  view.email = absl::AsciiStrToLower(subscribe.email);
  return Render(page, 200, view);
}

// The page for a link that cannot be used, in `locale`; `offer_form` adds
// the form to subscribe again. A link refused as FailedPrecondition has
// expired when `refused_means_expired`, else it is no longer in force (an
// unsubscribed reader's preferences link).
HttpReply BrokenLink(const StatusPage& page, const absl::Status& s,
                     bool offer_form, std::string locale,
                     bool refused_means_expired = true) {
  SelfServicePage view;
  view.kind = "broken_link";
  view.offer_form = offer_form;
  view.locale = std::move(locale);
  view.error = ErrorText(s);
  switch (StatusFor(s)) {
    case 400:
      view.link_problem = "invalid";
      break;
    case 404:
      view.link_problem = "gone";
      break;
    case 410:
      view.link_problem = refused_means_expired ? "expired" : "gone";
      break;
    default:
      view.link_problem = "unavailable";
  }
  return Render(page, StatusFor(s), view);
}

HttpReply ServeConfirm(SubscriptionPortal& portal, const StatusPage& page,
                       const HttpRequest& request, const std::string& token) {
  SelfServicePage view;
  if (!request.post()) {
    absl::StatusOr<v1::Subscriber> sub = portal.CheckConfirmLink(token);
    if (!sub.ok()) {
      // Expired: ask again here.
      return BrokenLink(
          page, sub.status(),
          sub.status().code() == absl::StatusCode::kFailedPrecondition,
          FormLocale(page, request));
    }
    view.kind = "confirm";
    view.locale = sub->locale();
    view.confirm_token = token;
    return Render(page, 200, view);
  }
  absl::StatusOr<v1::Subscriber> sub = portal.Confirm(token);
  if (!sub.ok()) {
    return BrokenLink(page, sub.status(), StatusFor(sub.status()) < 500,
                      FormLocale(page, request));
  }
  view.kind = "subscribed";
  view.locale = sub->locale();
  view.email = sub->email();
  return Render(page, 200, view);
}

HttpReply ServeUnsubscribe(SubscriptionPortal& portal, const StatusPage& page,
                           const HttpRequest& request,
                           const std::string& token) {
  SelfServicePage view;
  if (!request.post()) {
    absl::StatusOr<v1::Subscriber> sub = portal.CheckUnsubscribeLink(token);
    if (!sub.ok()) {
      return BrokenLink(page, sub.status(), /*offer_form=*/false,
                        FormLocale(page, request));
    }
    view.kind = "unsubscribe";
    view.locale = sub->locale();
    view.unsubscribe_token = token;
    return Render(page, 200, view);
  }
  absl::StatusOr<v1::Subscriber> sub = portal.Unsubscribe(token);
  if (!sub.ok()) {
    return BrokenLink(page, sub.status(), /*offer_form=*/false,
                      FormLocale(page, request));
  }
  view.kind = "unsubscribed";
  view.locale = sub->locale();
  view.email = sub->email();
  return Render(page, 200, view);
}

// What the customer tells us with `answer`, as the page's flag names it.
std::string AnswerName(v1::FollowUpAnswer answer) {
  switch (answer) {
    case v1::FOLLOW_UP_ANSWER_WORKS:
      return "works";
    case v1::FOLLOW_UP_ANSWER_STILL_BROKEN:
      return "still_broken";
    case v1::FOLLOW_UP_ANSWER_CREDIT_RECEIVED:
      return "credit_received";
    case v1::FOLLOW_UP_ANSWER_CREDIT_MISSING:
      return "credit_missing";
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
      return BrokenLink(page, pending.status(), /*offer_form=*/false,
                        FormLocale(page, request));
    }
    view.kind = "answer";
    view.locale = pending->locale;
    view.answer = AnswerName(pending->answer);
    view.incident_ref = pending->incident_ref;
    view.answer_token = token;
    view.answer_comment_box = IsProblem(pending->answer);
    return Render(page, 200, view);
  }
  absl::StatusOr<RecordedAnswer> recorded =
      follow_ups.RecordAnswer(token, FormField(form, "comment"));
  if (absl::IsInvalidArgument(recorded.status()) &&
      absl::StartsWith(recorded.status().message(), "comment: ")) {
    // The link is good; what they wrote is not: ask again.
    absl::StatusOr<RecordedAnswer> pending = follow_ups.CheckAnswer(token);
    view.kind = "answer";
    if (pending.ok()) {
      view.locale = pending->locale;
      view.answer = AnswerName(pending->answer);
      view.incident_ref = pending->incident_ref;
    }
    SetFormError(recorded.status(), view);
    view.answer_token = token;
    view.answer_comment_box = true;
    view.answer_comment = FormField(form, "comment");
    return Render(page, 400, view);
  }
  if (!recorded.ok()) {
    return BrokenLink(page, recorded.status(), /*offer_form=*/false,
                      FormLocale(page, request));
  }
  view.kind = "answered";
  view.locale = recorded->locale;
  view.answer = AnswerName(recorded->answer);
  return Render(page, 200, view);
}

// The preferences page's view of `sub`: their components, channels in
// their order, language and time zone.
SelfServicePage PreferencesView(const SubscriptionPortal& portal,
                                const v1::Subscriber& sub,
                                const std::string& token) {
  SelfServicePage view;
  view.kind = "preferences";
  view.locale = sub.locale();
  view.email = sub.email();
  view.manage_token = token;
  view.component_ids = {sub.component_ids().begin(), sub.component_ids().end()};
  view.form_locale = sub.locale();
  view.form_time_zone = sub.time_zone();
  for (int i = 0; i < sub.contacts_size(); ++i) {
    const v1::Contact& c = sub.contacts(i);
    view.channels.push_back(
        {absl::StrCat(i), EnumLabel(c.channel()), ContactHint(c)});
  }
  view.channels_fingerprint = portal.ChannelsFingerprint(sub);
  return view;
}

// The preferences form's fields as Preferences: the channels' places
// ("order.<position>" = 1, 2, ...) become their positions in order.
// InvalidArgument naming "channels" when two share a place or a place or
// position is not a number.
absl::StatusOr<Preferences> PreferencesFrom(const FormFields& form) {
  Preferences out;
  for (auto [it, end] = form.equal_range("component"); it != end; ++it) {
    out.component_ids.push_back(it->second);
  }
  out.locale = FormField(form, "locale");
  out.time_zone = FormField(form, "time_zone");
  out.channels_fingerprint = FormField(form, "channels");
  std::vector<std::pair<int, int>> places;  // place, position
  for (const auto& [name, value] : form) {
    if (!absl::StartsWith(name, kOrderField)) continue;
    int place = 0, position = 0;
    if (!absl::SimpleAtoi(value, &place) || place < 1 ||
        !absl::SimpleAtoi(name.substr(kOrderField.size()), &position)) {
      return absl::InvalidArgumentError(
          "channels: each place is a number from 1");
    }
    places.emplace_back(place, position);
  }
  std::sort(places.begin(), places.end());
  for (size_t i = 1; i < places.size(); ++i) {
    if (places[i].first == places[i - 1].first) {
      return absl::InvalidArgumentError(
          "channels: give every channel its own place in the order");
    }
  }
  for (const auto& [place, position] : places) {
    out.channel_order.push_back(position);
  }
  return out;
}

HttpReply ServePreferences(SubscriptionPortal& portal, const StatusPage& page,
                           const HttpRequest& request, const FormFields& form,
                           const std::string& token) {
  absl::StatusOr<v1::Subscriber> sub = portal.Subscription(token);
  if (!sub.ok()) {
    return BrokenLink(page, sub.status(), /*offer_form=*/false,
                      FormLocale(page, request),
                      /*refused_means_expired=*/false);
  }
  if (!request.post())
    return Render(page, 200, PreferencesView(portal, *sub, token));
  absl::StatusOr<Preferences> wanted = PreferencesFrom(form);
  absl::StatusOr<v1::Subscriber> saved =
      wanted.ok() ? portal.SavePreferences(token, *wanted) : wanted.status();
  if (absl::IsInvalidArgument(saved.status())) {
    // The link is good; the form is not: show what they chose, and why.
    SelfServicePage view = PreferencesView(portal, *sub, token);
    SetFormError(saved.status(), view);
    if (wanted.ok()) {
      view.component_ids = wanted->component_ids;
      view.form_locale = wanted->locale;
      view.form_time_zone = wanted->time_zone;
    }
    return Render(page, 400, view);
  }
  if (!saved.ok()) {
    return BrokenLink(page, saved.status(), /*offer_form=*/false, sub->locale(),
                      /*refused_means_expired=*/false);
  }
  SelfServicePage view = PreferencesView(portal, *saved, token);
  view.kind = "preferences_saved";
  return Render(page, 200, view);
}

}  // namespace

bool IsSelfServicePath(absl::string_view path) {
  return path == kSubscribe || path == kConfirm || path == kUnsubscribe ||
         path == kFollowUp || path == kPreferences;
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
    } else if (path == kSubscribe || path == kPreferences) {
      // One-click unsubscribes may come as multipart/form-data; their
      // token is in the query. A subscription or its preferences need the
      // form's fields.
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
    view.kind = path == kSubscribe ? "subscribe" : "broken_link";
    view.locale = FormLocale(page, request);
    SetFormError(fields.status(), view);
    view.error = std::string(fields.status().message());  // names the field
    if (absl::StartsWith(view.error, "token: ")) {
      view.error_field.clear();
      view.link_problem = "invalid";
    }
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
  if (path == kPreferences) {
    return ServePreferences(*deps.portal, page, request, *fields, token);
  }
  return ServeUnsubscribe(*deps.portal, page, request, token);
}

}  // namespace herald
