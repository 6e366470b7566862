#include "server/core/incidents/incident_queries.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/base/locale_text.h"
#include "server/base/proto_time.h"
#include "server/core/subscribers/link_tokens.h"

namespace herald {

IncidentQueries::IncidentQueries(const CoreDeps& deps,
                                 const DeliveryPlanner& planner,
                                 const Aftercare& aftercare)
    : deps_(deps), planner_(planner), aftercare_(aftercare) {}

absl::StatusOr<Page<v1::Incident>> IncidentQueries::ListIncidents(
    bool include_resolved, const PageRequest& request) const {
  absl::StatusOr<KeysetPage> page = OpenKeysetPage(request);
  if (!page.ok()) return page.status();
  absl::StatusOr<int64_t> before = page->AfterId();  // newest first
  if (!before.ok()) return before.status();
  Page<v1::Incident> out;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<v1::Incident>> list =
        r.ListIncidents({.include_resolved = include_resolved,
                         .before_id = *before,
                         .limit = page->size + 1});
    if (!list.ok()) return list.status();
    out = ClosePage(*std::move(list), *page, IdKey<v1::Incident>);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

namespace {

// For `message`'s reviewers: each language among `readers` (a primary
// language such as "de": how many) and each it is translated into, whether
// it is translated, and whether the translation predates the current
// default text. A translation into "de" serves "de-AT" and "de-CH" too.
std::vector<v1::LanguageCoverage> Coverage(
    const v1::Message& message, const std::map<std::string, int64_t>& readers,
    const std::string& default_language) {
  std::map<std::string, int64_t> all = readers;
  for (const auto& [language, t] : message.translations()) {
    all.try_emplace(PrimaryLanguage(language), 0);
  }
  const std::string digest = TextDigest(message.title(), message.body());
  std::vector<v1::LanguageCoverage> out;
  for (const auto& [language, count] : all) {
    v1::LanguageCoverage& c = out.emplace_back();
    c.set_locale(language);
    c.set_readers(count);
    c.set_is_default(PrimaryLanguage(language) ==
                     PrimaryLanguage(default_language));
    // "de", else one for a region of it ("de-AT").
    const v1::Translation* t = TranslationFor(message, language);
    for (const auto& [tag, one] : message.translations()) {
      if (t == nullptr && PrimaryLanguage(tag) == language) t = &one;
    }
    c.set_translated(t != nullptr);
    c.set_outdated(t != nullptr && t->source_digest() != digest);
  }
  return out;
}

// Where the next page starts. A token is this, "|"-joined and base64url
// encoded: a version, the last timeline event's id, the last alert's
// incident id (unrouted alerts are ordered by incident first) and its
// fingerprint (last, since it may hold anything).
struct PageCursor {
  int64_t timeline_after = 0;
  int64_t alert_incident_after = 0;
  std::string alert_after;
  bool alerts_done = false;  // no alerts left (the timeline may go on)
  bool timeline_done = false;
};

constexpr absl::string_view kCursorVersion = "c1";

std::string EncodeCursor(const PageCursor& c) {
  return absl::WebSafeBase64Escape(absl::StrCat(
      kCursorVersion, "|", c.alerts_done ? "-" : "", c.alert_incident_after,
      "|", c.timeline_done ? "-" : "", c.timeline_after, "|", c.alert_after));
}

absl::StatusOr<PageCursor> DecodeCursor(absl::string_view token) {
  PageCursor c;
  if (token.empty()) return c;
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return BadPageToken();
  std::vector<std::string> parts = absl::StrSplit(raw, absl::MaxSplits('|', 3));
  if (parts.size() != 4 || parts[0] != kCursorVersion) return BadPageToken();
  auto number = [](absl::string_view text, bool& done, int64_t& out) {
    done = absl::ConsumePrefix(&text, "-");
    return absl::SimpleAtoi(text, &out) && out >= 0;
  };
  if (!number(parts[1], c.alerts_done, c.alert_incident_after) ||
      !number(parts[2], c.timeline_done, c.timeline_after)) {
    return BadPageToken();
  }
  c.alert_after = std::move(parts[3]);
  return c;
}

// Reads one page of alerts after `cursor` (of `incident_id`, or unrouted
// ones), moving the cursor past them; sets alerts_done after the last.
absl::StatusOr<std::vector<v1::Alert>> ReadAlertPage(StoreReader& r,
                                                     int64_t incident_id,
                                                     bool unrouted_only,
                                                     int size,
                                                     PageCursor& cursor) {
  if (cursor.alerts_done) return std::vector<v1::Alert>();
  // One more than asked: whether any follow.
  absl::StatusOr<std::vector<v1::Alert>> page =
      unrouted_only
          ? r.ListUnroutedAlertsPage(cursor.alert_incident_after,
                                     cursor.alert_after, size + 1)
          : r.ListAlertsPage(incident_id, cursor.alert_after, size + 1);
  if (!page.ok()) return page.status();
  bool more = page->size() > static_cast<size_t>(size);
  if (more) page->resize(size);
  more |= FitBytes(*page, IncidentQueries::kAlertPageBytes);
  if (!page->empty()) {
    cursor.alert_incident_after = page->back().incident_id();
    cursor.alert_after = page->back().fingerprint();
  }
  cursor.alerts_done = !more;
  return page;
}

// Adds `message`'s deliveries, counted per channel, to `out`.
void AddReach(const v1::Message& message,
              const std::vector<v1::Delivery>& deliveries,
              std::vector<v1::MessageReach>& out) {
  std::map<v1::ChannelKind, v1::MessageReach> by_channel;
  for (const v1::Delivery& d : deliveries) {
    v1::MessageReach& reach = by_channel[d.channel()];
    switch (d.state()) {
      case v1::DELIVERY_STATE_DELIVERED:
        reach.set_delivered(reach.delivered() + 1);
        break;
      case v1::DELIVERY_STATE_FAILED:
        reach.set_failed(reach.failed() + 1);
        break;
      case v1::DELIVERY_STATE_CANCELLED:
        reach.set_cancelled(reach.cancelled() + 1);
        break;
      case v1::DELIVERY_STATE_SUPERSEDED:
        reach.set_superseded(reach.superseded() + 1);
        break;
      case v1::DELIVERY_STATE_RETRYING:
        if (d.waiting_on() != v1::CHANNEL_KIND_UNSPECIFIED) {
          reach.set_waiting(reach.waiting() + 1);
          reach.set_outage(
              std::string(absl::StripPrefix(d.last_error(), "waiting: ")));
        }
        reach.set_pending(reach.pending() + 1);
        break;
      default:
        reach.set_pending(reach.pending() + 1);
    }
  }
  for (auto& [channel, reach] : by_channel) {
    reach.set_message_id(message.id());
    reach.set_message_ref(message.ref());
    reach.set_channel(channel);
    out.push_back(std::move(reach));
  }
}

}  // namespace

absl::StatusOr<IncidentDetail> IncidentQueries::GetIncident(
    int64_t id, bool include_reach, const PageRequest& page) const {
  absl::StatusOr<int> size =
      CheckedPageSize(page.page_size, kDefaultIncidentPageSize);
  if (!size.ok()) return size.status();
  absl::StatusOr<PageCursor> cursor = DecodeCursor(page.page_token);
  if (!cursor.ok()) return cursor.status();
  IncidentDetail out;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<v1::Incident> incident = r.GetIncident(id);
    if (!incident.ok()) return incident.status();
    out.incident = *std::move(incident);
    absl::StatusOr<int64_t> alert_count = r.CountAlerts(id);
    if (!alert_count.ok()) return alert_count.status();
    out.alert_count = *alert_count;
    absl::StatusOr<int64_t> timeline_count = r.CountTimeline(id);
    if (!timeline_count.ok()) return timeline_count.status();
    out.timeline_count = *timeline_count;
    auto alerts = ReadAlertPage(r, id, false, *size, *cursor);
    if (!alerts.ok()) return alerts.status();
    out.alerts = *std::move(alerts);
    auto updates = r.ListUpdates(id);
    if (!updates.ok()) return updates.status();
    out.updates = *std::move(updates);
    auto messages = r.ListMessages({id, {}});
    if (!messages.ok()) return messages.status();
    out.messages = *std::move(messages);
    for (v1::Message& m : out.messages) {
      m.clear_published_incident();  // the incident is in the detail already
    }
    if (!cursor->timeline_done) {
      auto timeline = r.ListTimelinePage(id, cursor->timeline_after, *size + 1);
      if (!timeline.ok()) return timeline.status();
      bool more = timeline->size() > static_cast<size_t>(*size);
      if (more) timeline->resize(*size);
      more |= FitBytes(*timeline, kTimelinePageBytes);
      if (!timeline->empty()) cursor->timeline_after = timeline->back().id();
      cursor->timeline_done = !more;
      out.timeline = *std::move(timeline);
    }
    if (!cursor->alerts_done || !cursor->timeline_done) {
      out.next_page_token = EncodeCursor(*cursor);
    }
    for (const v1::Message& m : out.messages) {
      if (!include_reach || m.state() != v1::MESSAGE_STATE_PUBLISHED) continue;
      auto deliveries = r.ListDeliveries(m.id(), 0);
      if (!deliveries.ok()) return deliveries.status();
      AddReach(m, *deliveries, out.reach);
    }
    return absl::OkStatus();
  });
  if (absl::IsNotFound(s))
    return absl::NotFoundError(absl::StrCat("no incident INC-", id));
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Page<v1::Message>> IncidentQueries::ListMessages(
    int64_t incident_id, std::vector<v1::MessageState> states,
    const PageRequest& request) const {
  if (states.empty())
    states = {v1::MESSAGE_STATE_DRAFT, v1::MESSAGE_STATE_PENDING_APPROVAL};
  absl::StatusOr<KeysetPage> page = OpenKeysetPage(request);
  if (!page.ok()) return page.status();
  absl::StatusOr<int64_t> after = page->AfterId();
  if (!after.ok()) return after.status();
  Page<v1::Message> out;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<v1::Message>> list =
        r.ListMessages({.incident_id = incident_id,
                        .states = states,
                        .after_id = *after,
                        .limit = page->size + 1});
    if (!list.ok()) return list.status();
    for (v1::Message& m : *list) m.clear_published_incident();
    out = ClosePage(*std::move(list), *page, IdKey<v1::Message>);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<absl::Time> IncidentQueries::UpdateDueAt(
    StoreReader& r, const v1::Incident& incident,
    const std::vector<v1::Message>& messages) const {
  if (incident.has_resolved_at() || incident.has_maintenance()) {
    return absl::InfinitePast();
  }
  const absl::Duration cadence = deps_.org->UpdateCadence(incident.impact());
  if (cadence <= absl::ZeroDuration()) return absl::InfinitePast();
  absl::Time last = FromProtoTime(incident.opened_at());
  if (incident.reopened_count() > 0) {
    // The cadence starts again when an incident reopens (CadenceKeeper).
    absl::StatusOr<std::vector<v1::TimelineEvent>> timeline =
        r.ListTimeline(incident.id());
    if (!timeline.ok()) return timeline.status();
    for (const v1::TimelineEvent& e : *timeline) {
      if (e.kind() == "reopened") last = std::max(last, FromProtoTime(e.at()));
    }
  }
  for (const v1::Message& m : messages) {
    // What customers heard last: an update, or the resolution of an
    // incident that has since reopened.
    if (m.incident_id() == incident.id() &&
        m.state() == v1::MESSAGE_STATE_PUBLISHED &&
        (m.kind() == v1::MESSAGE_KIND_STATUS_UPDATE ||
         m.kind() == v1::MESSAGE_KIND_RESOLUTION)) {
      last = std::max(last, FromProtoTime(m.published_at()));
    }
  }
  return last + cadence;
}

absl::StatusOr<std::vector<v1::InboxItem>> IncidentQueries::Inbox() const {
  std::vector<v1::InboxItem> out;
  const absl::Time now = deps_.clock.Now();
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<v1::Message>> waiting = r.ListMessages(
        {0, {v1::MESSAGE_STATE_DRAFT, v1::MESSAGE_STATE_PENDING_APPROVAL}});
    if (!waiting.ok()) return waiting.status();
    std::stable_sort(waiting->begin(), waiting->end(),
                     [](const v1::Message& a, const v1::Message& b) {
                       if (a.incident_id() != b.incident_id())
                         return a.incident_id() > b.incident_id();
                       return a.id() < b.id();
                     });
    int64_t incident_id = 0;
    v1::Incident incident;
    absl::Time due = absl::InfinitePast();
    int64_t subscribers = 0;
    int64_t affected = 0;
    // A maintenance notice waits with its announcement, whose approval
    // covers it: while that waits, the inbox lists the announcement. One
    // left waiting after it (rejected, then reworked) is listed itself.
    std::set<int64_t> waiting_ids;
    for (const v1::Message& m : *waiting) waiting_ids.insert(m.id());
    for (v1::Message& m : *waiting) {
      if (m.covered_by() != 0 && waiting_ids.contains(m.covered_by())) {
        continue;
      }
      if (m.incident_id() != incident_id) {
        absl::StatusOr<v1::Incident> found = r.GetIncident(m.incident_id());
        if (!found.ok()) return found.status();
        incident = *std::move(found);
        incident_id = incident.id();
        absl::StatusOr<std::vector<v1::Message>> published =
            r.ListMessages({incident_id, {v1::MESSAGE_STATE_PUBLISHED}});
        if (!published.ok()) return published.status();
        absl::StatusOr<absl::Time> due_at =
            UpdateDueAt(r, incident, *published);
        if (!due_at.ok()) return due_at.status();
        due = *due_at;
        absl::StatusOr<int64_t> audience = r.CountAudience(
            {incident.component_ids().begin(), incident.component_ids().end()});
        if (!audience.ok()) return audience.status();
        subscribers = *audience;
        affected = -1;  // counted when a message needs it
      }
      if (m.audience() == v1::AUDIENCE_AFFECTED_CUSTOMERS && affected < 0) {
        // Not yet approved: the customers approving it now would reach.
        absl::StatusOr<std::vector<v1::Amends>> amends =
            aftercare_.Propose(r, incident);
        if (!amends.ok()) return amends.status();
        affected = static_cast<int64_t>(amends->size());
      }
      v1::InboxItem& item = out.emplace_back();
      item.set_incident_ref(incident.ref());
      item.set_incident_title(incident.title());
      item.set_incident_impact(incident.impact());
      item.set_audience_size(m.audience() == v1::AUDIENCE_AFFECTED_CUSTOMERS
                                 ? affected
                                 : subscribers);
      if (due != absl::InfinitePast()) {
        *item.mutable_update_due_at() = ToProtoTime(due);
        item.set_update_overdue(now >= due);
      }
      m.clear_published_incident();
      *item.mutable_message() = std::move(m);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<v1::OnCallAssignment>> IncidentQueries::OnCall(
    const std::string& component_id, absl::Time at) const {
  const Organisation& org = *deps_.org;
  std::vector<v1::RotaOverride> overrides;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<v1::RotaOverride>> list =
        r.ListOverrides("", at);  // only those still running at `at`
    if (!list.ok()) return list.status();
    overrides = *std::move(list);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  std::vector<v1::OnCallAssignment> out;
  if (component_id.empty()) {
    out = org.rotas().All(at, overrides);
  } else {
    if (org.FindComponent(component_id) == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("no component \"", component_id, "\""));
    }
    absl::StatusOr<v1::OnCallAssignment> one =
        org.rotas().ForComponent(component_id, at, overrides);
    if (!one.ok()) return one.status();
    out.push_back(*std::move(one));
  }
  for (auto& a : out) {
    if (const v1::PersonConfig* p = org.FindPerson(a.point_person_id())) {
      a.set_point_person_name(p->name());
    }
  }
  return out;
}

absl::StatusOr<AlertPage> IncidentQueries::ListAlerts(
    int64_t incident_id, bool unrouted_only, const PageRequest& page) const {
  absl::StatusOr<int> size =
      CheckedPageSize(page.page_size, kDefaultAlertPageSize);
  if (!size.ok()) return size.status();
  absl::StatusOr<PageCursor> cursor = DecodeCursor(page.page_token);
  if (!cursor.ok()) return cursor.status();
  cursor->timeline_done = true;  // an alert listing has no timeline
  AlertPage out;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    if (!unrouted_only) {
      if (auto i = r.GetIncident(incident_id); !i.ok()) return i.status();
    }
    absl::StatusOr<int64_t> total =
        unrouted_only ? r.CountUnroutedAlerts() : r.CountAlerts(incident_id);
    if (!total.ok()) return total.status();
    out.total = *total;
    absl::StatusOr<std::vector<v1::Alert>> list =
        ReadAlertPage(r, incident_id, unrouted_only, *size, *cursor);
    if (!list.ok()) return list.status();
    out.alerts = *std::move(list);
    if (!cursor->alerts_done) out.next_page_token = EncodeCursor(*cursor);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status IncidentQueries::AddPersonalPreviews(
    StoreReader& r, const v1::Message& message, const v1::Incident& incident,
    MessageDetail& out, std::map<std::string, int64_t>& readers) const {
  // Fixed when the apology was approved; before that, what approving it now
  // would fix.
  const bool fixed = message.state() == v1::MESSAGE_STATE_PUBLISHED ||
                     message.kind() == v1::MESSAGE_KIND_FOLLOW_UP;
  absl::StatusOr<std::vector<v1::Amends>> amends =
      fixed ? r.ListAmends(incident.id()) : aftercare_.Propose(r, incident);
  if (!amends.ok()) return amends.status();
  const std::string& public_url = deps_.org->config().server().public_url();
  Personal personal{
      .unsubscribe_url = LinkUrl(public_url, "/unsubscribe", kPreviewLinkToken),
      .manage_url = LinkUrl(public_url, "/preferences", kPreviewLinkToken)};
  if (message.kind() == v1::MESSAGE_KIND_FOLLOW_UP) {
    for (const char* name :
         {"answer_works_url", "answer_still_broken_url",
          "answer_credit_received_url", "answer_credit_missing_url"}) {
      personal.values[name] =
          LinkUrl(public_url, "/follow-up", kPreviewLinkToken);
    }
  }
  // The first few customers' letters, then the first letter in each
  // further language among the first kLanguageScan customers.
  const size_t shown = std::min(amends->size(), kPersonalPreviews);
  const size_t scanned =
      std::min(amends->size(), static_cast<size_t>(kLanguageScan));
  std::set<std::string> languages;
  for (size_t i = 0; i < scanned; ++i) {
    const v1::Amends& a = (*amends)[i];
    absl::StatusOr<v1::Subscriber> who = r.GetSubscriber(a.subscriber_id());
    if (!who.ok()) return who.status();
    const std::string language = planner_.drafter().ReaderFor(*who).locale;
    ++readers[PrimaryLanguage(language)];  // one amends per customer
    if (!languages.insert(language).second && i >= shown) continue;
    personal.amends = &a;
    absl::StatusOr<Email> mail =
        planner_.drafter().EmailFor(message, incident, *who, personal);
    if (!mail.ok()) return mail.status();
    v1::ChannelPreview* email = &out.previews.emplace_back();
    email->set_channel("email");
    email->set_recipient(absl::StrCat(who->email(), " (", i + 1, " of ",
                                      amends->size(), ", in ", language, ")"));
    email->set_subject(mail->subject);
    email->set_body(mail->text);
    email->set_html(mail->html);
  }
  if (shown > 0) {
    absl::StatusOr<v1::Subscriber> first =
        r.GetSubscriber(amends->front().subscriber_id());
    absl::StatusOr<std::string> short_text = planner_.drafter().ShortTextFor(
        message, incident, &amends->front(), first.ok() ? &*first : nullptr);
    if (!short_text.ok()) return short_text.status();
    v1::ChannelPreview* sms = &out.previews.emplace_back();
    sms->set_channel("short_text");
    sms->set_recipient(amends->front().subscriber_id());
    sms->set_body(*std::move(short_text));
  }
  return absl::OkStatus();
}

absl::StatusOr<MessageDetail> IncidentQueries::GetMessage(
    int64_t message_id) const {
  MessageDetail out;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<v1::Message> message = r.GetMessage(message_id);
    if (!message.ok()) return message.status();
    absl::StatusOr<std::vector<v1::MessageVersion>> versions =
        r.ListMessageVersions(message_id);
    if (!versions.ok()) return versions.status();
    out.versions = *std::move(versions);
    absl::StatusOr<std::vector<v1::AuditEntry>> audit =
        r.ListAudit(message->incident_id());
    if (!audit.ok()) return audit.status();
    for (auto& e : *audit) {
      if (e.message_id() == message_id) out.audit.push_back(std::move(e));
    }
    absl::StatusOr<v1::Incident> incident =
        r.GetIncident(message->incident_id());
    if (!incident.ok()) return incident.status();

    if (message->maintenance_notice() == "announcement") {
      absl::StatusOr<std::vector<v1::Message>> all =
          r.ListMessages({.incident_id = message->incident_id()});
      if (!all.ok()) return all.status();
      for (v1::Message& m : *all) {
        if (m.covered_by() == message->id()) {
          m.clear_published_incident();
          out.covered.push_back(std::move(m));
        }
      }
    }
    const std::string default_language = deps_.renderer.SpokenLocale("");
    v1::ChannelPreview* page = &out.previews.emplace_back();
    page->set_channel("status_page");
    page->set_subject(message->title());
    page->set_body(message->body());
    if (message->kind() == v1::MESSAGE_KIND_APOLOGY ||
        message->kind() == v1::MESSAGE_KIND_FOLLOW_UP) {
      std::map<std::string, int64_t> readers;
      if (auto st = AddPersonalPreviews(r, *message, *incident, out, readers);
          !st.ok()) {
        return st;
      }
      out.languages = Coverage(*message, readers, default_language);
      out.message = *std::move(message);
      return absl::OkStatus();
    }
    // The email as its first recipient reads it, and as the first reader
    // of each other language does: the comms lead sees every language that
    // goes out (among the first kLanguageScan subscribers of each component).
    const std::vector<std::string> components(incident->component_ids().begin(),
                                              incident->component_ids().end());
    absl::StatusOr<int64_t> audience = r.CountAudience(components);
    if (!audience.ok()) return audience.status();
    std::map<std::string, v1::Subscriber> by_language;  // spoken locale
    std::vector<std::string> languages;                 // in order met
    std::map<std::string, int64_t> readers;  // by language, each once
    std::set<std::string> counted;           // subscriber ids
    for (const std::string& c : components) {
      absl::StatusOr<std::vector<v1::Subscriber>> some =
          r.ListSubscribers({.component_id = c, .limit = kLanguageScan});
      if (!some.ok()) return some.status();
      for (v1::Subscriber& who : *some) {
        const std::string spoken = planner_.drafter().ReaderFor(who).locale;
        if (counted.insert(who.id()).second) {
          ++readers[PrimaryLanguage(spoken)];
        }
        if (by_language.emplace(spoken, std::move(who)).second) {
          languages.push_back(spoken);
        }
      }
    }
    const v1::Subscriber* first = nullptr;
    for (const std::string& language : languages) {
      const v1::Subscriber& who = by_language.at(language);
      if (first == nullptr) first = &who;
      const std::string& public_url = deps_.org->config().server().public_url();
      absl::StatusOr<Email> mail = planner_.drafter().EmailFor(
          *message, *incident, who,
          {.unsubscribe_url =
               LinkUrl(public_url, "/unsubscribe", kPreviewLinkToken),
           .manage_url =
               LinkUrl(public_url, "/preferences", kPreviewLinkToken)});
      if (!mail.ok()) return mail.status();
      v1::ChannelPreview* email = &out.previews.emplace_back();
      email->set_channel("email");
      std::string recipient =
          *audience <= 1
              ? who.email()
              : absl::StrCat(who.email(), " (and ", *audience - 1,
                             " other recipient(s), each addressed by name)");
      if (languages.size() > 1) {
        recipient = absl::StrCat("in ", language, ": ", who.email());
      }
      email->set_recipient(recipient);
      email->set_subject(mail->subject);
      email->set_body(mail->text);
      email->set_html(mail->html);
    }
    absl::StatusOr<std::string> short_text =
        planner_.drafter().ShortTextFor(*message, *incident, nullptr, first);
    if (!short_text.ok()) return short_text.status();
    v1::ChannelPreview* sms = &out.previews.emplace_back();
    sms->set_channel("short_text");
    sms->set_body(*std::move(short_text));
    out.languages = Coverage(*message, readers, default_language);
    out.message = *std::move(message);
    return absl::OkStatus();
  });
  if (absl::IsNotFound(s) && out.message.id() == 0) {
    return absl::NotFoundError(
        absl::StrCat("no message ", MessageRef(message_id)));
  }
  if (!s.ok()) return s;
  return out;
}

}  // namespace herald
