#include "server/statuspage/status_page.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "herald/enum_labels.h"
#include "server/base/locale_text.h"
#include "server/base/proto_time.h"
#include "server/base/text.h"
#include "server/core/comms/message_drafter.h"
#include "server/core/incidents/public_incident.h"

namespace herald {
namespace {

namespace sp = v1::statuspage;

constexpr char kPageId[] = "herald";

// How bad a component status is, for the worst of a day.
int Severity(v1::ComponentStatus s) {
  switch (s) {
    case v1::COMPONENT_STATUS_UNDER_MAINTENANCE:
      return 1;
    case v1::COMPONENT_STATUS_DEGRADED_PERFORMANCE:
      return 2;
    case v1::COMPONENT_STATUS_PARTIAL_OUTAGE:
      return 3;
    case v1::COMPONENT_STATUS_MAJOR_OUTAGE:
      return 4;
    default:
      return 0;
  }
}

// The share of a span in status `s` that counts as down, as Statuspage
// counts uptime: all of a major outage, 30% of a partial one.
double DownShare(v1::ComponentStatus s) {
  switch (s) {
    case v1::COMPONENT_STATUS_MAJOR_OUTAGE:
      return 1.0;
    case v1::COMPONENT_STATUS_PARTIAL_OUTAGE:
      return 0.3;
    default:
      return 0.0;
  }
}

// One line of public text: no characters XML, HTML or JSON readers choke
// on, no line breaks.
std::string Scrubbed(absl::string_view text) { return ScrubText(text, false); }

std::string Time(const google::protobuf::Timestamp& ts) {
  return FormatUtc(FromProtoTime(ts));
}

absl::Time ParsedTime(const std::string& rfc3339) {
  absl::Time t;
  return absl::ParseTime(absl::RFC3339_full, rfc3339, &t, nullptr)
             ? t
             : absl::InfinitePast();
}

bool IsResolved(const sp::Incident& i) {
  return i.status() == "resolved" || i.status() == "postmortem";
}

// The statuses herald published for each component, over time: spans
// from each incident's messages (a message's statuses hold until the next
// one's, or until now for the newest unless it closed the incident) and
// each maintenance window under way or over. Where spans overlap, the
// component was as bad as the worst of them; Finish turns that into the
// worst status of each day and the time counted down.
struct DayTally {
  absl::CivilDay first;  // the window's first day
  absl::Time window_start;
  absl::Time now;
  struct Span {
    absl::Time from, to;
    v1::ComponentStatus status;
    std::string incident_ref;
  };
  struct Component {
    std::vector<Span> spans;
    // Per day index: the worst severity and its status, and the incidents.
    std::vector<std::pair<int, v1::ComponentStatus>> worst;
    std::vector<std::vector<std::string>> incidents;
    double down_seconds = 0;
  };
  std::map<std::string, Component> components;

  void Add(const std::string& component_id, v1::ComponentStatus status,
           absl::Time from, absl::Time to, const std::string& incident_ref) {
    from = std::max(from, window_start);
    to = std::min(to, now);
    auto it = components.find(component_id);
    // Not in the window, or not in the config (any more).
    if (to <= from || it == components.end()) return;
    it->second.spans.push_back({from, to, status, incident_ref});
  }

  void Finish() {
    const absl::TimeZone utc = absl::UTCTimeZone();
    for (auto& [id, c] : components) {
      // Cut at every span's ends and every midnight: within a piece, the
      // same spans hold, on one day.
      std::vector<absl::Time> cuts;
      for (const Span& s : c.spans) {
        cuts.push_back(s.from);
        cuts.push_back(s.to);
      }
      if (cuts.empty()) continue;
      for (int d = 0; d <= static_cast<int>(c.worst.size()); ++d) {
        cuts.push_back(absl::FromCivil(first + d, utc));
      }
      std::sort(cuts.begin(), cuts.end());
      cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
      for (size_t k = 0; k + 1 < cuts.size(); ++k) {
        const absl::Time from = cuts[k], to = cuts[k + 1];
        const int index = static_cast<int>(absl::ToCivilDay(from, utc) - first);
        if (index < 0 || index >= static_cast<int>(c.worst.size())) continue;
        v1::ComponentStatus worst = v1::COMPONENT_STATUS_OPERATIONAL;
        for (const Span& s : c.spans) {
          if (s.from > from || s.to < to) continue;
          if (Severity(s.status) > Severity(worst)) worst = s.status;
          std::vector<std::string>& refs = c.incidents[index];
          if (Severity(s.status) > 0 &&
              std::find(refs.begin(), refs.end(), s.incident_ref) ==
                  refs.end()) {
            refs.push_back(s.incident_ref);
          }
        }
        c.down_seconds += DownShare(worst) * absl::ToDoubleSeconds(to - from);
        if (Severity(worst) > c.worst[index].first) {
          c.worst[index] = {Severity(worst), worst};
        }
      }
    }
  }
};

}  // namespace

bool SameContent(const PublicState& a, const PublicState& b) {
  if (a.days != b.days || a.uptime != b.uptime || a.name_from != b.name_from ||
      a.translations.size() != b.translations.size()) {
    return false;
  }
  for (auto x = a.translations.begin(), y = b.translations.begin();
       x != a.translations.end(); ++x, ++y) {
    if (x->first != y->first || x->second.size() != y->second.size()) {
      return false;
    }
    for (const auto& [tag, translation] : x->second) {
      auto other = y->second.find(tag);
      if (other == y->second.end() || other->second.SerializeAsString() !=
                                          translation.SerializeAsString()) {
        return false;
      }
    }
  }
  return a.all.SerializeAsString() == b.all.SerializeAsString();
}

StatusPage::StatusPage(const CoreDeps& deps) : deps_(deps) {}

absl::StatusOr<PublicState> StatusPage::Read() const {
  const Organisation& org = *deps_.org;
  const absl::Time now = deps_.clock.Now();
  const absl::TimeZone utc = absl::UTCTimeZone();
  DayTally tally;
  tally.first = absl::ToCivilDay(now, utc) - (kHistoryDays - 1);
  tally.window_start = absl::FromCivil(tally.first, utc);
  tally.now = now;
  for (const v1::ComponentConfig& c : org.config().components()) {
    DayTally::Component& days = tally.components[c.id()];
    days.worst.assign(kHistoryDays, {0, v1::COMPONENT_STATUS_OPERATIONAL});
    days.incidents.assign(kHistoryDays, {});
  }

  // Each incident as customers were told of it: its approved messages only.
  std::vector<std::pair<v1::Incident, PublicIncident>> incidents;
  std::vector<std::pair<v1::Incident, PublicIncident>> maintenances;
  std::map<std::string, v1::ComponentState> states;
  // When customers were last told anything: the page's updated_at, the same
  // on every read until the next change (so that its ETag holds).
  absl::Time last_change = absl::InfinitePast();
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    auto list = r.ListIncidents({/*include_resolved=*/true});
    if (!list.ok()) return list.status();
    for (v1::Incident& i : *list) {
      if (!i.customer_visible()) continue;
      auto messages = r.ListMessages({i.id(), {v1::MESSAGE_STATE_PUBLISHED}});
      if (!messages.ok()) return messages.status();
      PublicIncident view = PublicView(i, *std::move(messages));
      if (!view.visible) continue;
      last_change = std::max(last_change, view.updated_at);
      if (i.has_postmortem()) {
        last_change =
            std::max(last_change, FromProtoTime(i.postmortem().published_at()));
      }
      // The component days: oldest message first, each component keeping
      // the status the incident last gave it.
      std::map<std::string, v1::ComponentStatus> so_far;
      for (size_t k = view.messages.size(); k-- > 0;) {
        const v1::Message& m = view.messages[k];
        for (const auto& [component, status] : m.component_statuses()) {
          so_far[component] = status;
        }
        const absl::Time from = FromProtoTime(m.published_at());
        const bool closes = m.kind() == v1::MESSAGE_KIND_RESOLUTION;
        const absl::Time to =
            k > 0 ? FromProtoTime(view.messages[k - 1].published_at())
                  : (closes ? from : now);
        for (const auto& [component, status] : so_far) {
          tally.Add(component, status, from, to, i.ref());
        }
      }
      // A maintenance window, once under way: its components were under
      // maintenance (the scheduler sets that, not a message) from its start
      // until the work was marked done, early or late; until now while it
      // goes on. One cancelled before it started adds nothing.
      if (i.has_maintenance() &&
          (view.status == v1::INCIDENT_STATUS_IN_PROGRESS ||
           view.status == v1::INCIDENT_STATUS_COMPLETED)) {
        const absl::Time done =
            i.has_resolved_at() ? FromProtoTime(i.resolved_at()) : now;
        for (const std::string& component : i.component_ids()) {
          tally.Add(component, v1::COMPONENT_STATUS_UNDER_MAINTENANCE,
                    FromProtoTime(i.maintenance().starts_at()), done, i.ref());
        }
      }
      (i.has_maintenance() ? maintenances : incidents)
          .emplace_back(std::move(i), std::move(view));
    }
    auto component_states = r.ListComponentStates();
    if (!component_states.ok()) return component_states.status();
    for (v1::ComponentState& c : *component_states) {
      last_change = std::max(last_change, FromProtoTime(c.updated_at()));
      states[c.component_id()] = std::move(c);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;

  PublicState out;
  sp::Summary& all = out.all;
  sp::Page* page = all.mutable_page();
  page->set_id(kPageId);
  page->set_name(Scrubbed(org.config().server().page_name()));
  page->set_url(org.config().server().public_url());
  page->set_time_zone("Etc/UTC");
  // Before the first change: the Unix epoch, as stable as any later time.
  const absl::Time updated_at =
      last_change == absl::InfinitePast() ? absl::UnixEpoch() : last_change;
  page->set_updated_at(FormatUtc(updated_at));

  // Components, each group just before its first member.
  std::map<std::string, const v1::ComponentGroupConfig*> group_of;
  for (const v1::ComponentGroupConfig& g : org.config().component_groups()) {
    for (const std::string& c : g.components()) group_of[c] = &g;
  }
  std::map<std::string, sp::Component> components;
  std::map<std::string, sp::Component*> groups;
  for (const v1::ComponentConfig& c : org.config().components()) {
    auto group = group_of.find(c.id());
    if (group != group_of.end() && !groups.contains(group->second->id())) {
      const v1::ComponentGroupConfig& g = *group->second;
      sp::Component* out_group = all.add_components();
      out_group->set_id(g.id());
      out_group->set_name(Scrubbed(g.name()));
      if (!g.description().empty()) {
        out_group->set_description(ScrubText(g.description()));
      }
      out_group->set_group(true);
      out_group->set_showcase(false);
      out_group->set_page_id(kPageId);
      out_group->set_created_at(FormatUtc(absl::UnixEpoch()));
      out_group->set_updated_at(FormatUtc(updated_at));
      out_group->set_position(all.components_size());
      for (const std::string& member : g.components()) {
        out_group->add_components(member);
      }
      groups[g.id()] = out_group;
    }
    sp::Component* out_component = all.add_components();
    out_component->set_id(c.id());
    out_component->set_name(Scrubbed(c.name()));
    if (!c.description().empty()) {
      out_component->set_description(ScrubText(c.description()));
    }
    out_component->set_position(all.components_size());
    out_component->set_page_id(kPageId);
    out_component->set_showcase(true);
    if (group != group_of.end()) {
      out_component->set_group_id(group->second->id());
    }
    auto state = states.find(c.id());
    out_component->set_status(EnumLabel(state == states.end()
                                            ? v1::COMPONENT_STATUS_OPERATIONAL
                                            : state->second.status()));
    // herald does not know when a component was added to the config; it
    // says so with the epoch rather than with a time that moves.
    out_component->set_created_at(FormatUtc(absl::UnixEpoch()));
    out_component->set_updated_at(state == states.end()
                                      ? FormatUtc(absl::UnixEpoch())
                                      : Time(state->second.updated_at()));
    components[c.id()] = *out_component;
  }
  // A group is as bad as its worst member.
  for (auto& [id, group] : groups) {
    v1::ComponentStatus worst = v1::COMPONENT_STATUS_OPERATIONAL;
    for (const std::string& member : group->components()) {
      v1::ComponentStatus status = v1::COMPONENT_STATUS_OPERATIONAL;
      ParseEnumLabel(components[member].status(), &status);
      if (Severity(status) > Severity(worst)) worst = status;
    }
    group->set_status(EnumLabel(worst));
  }

  const std::string& public_url = org.config().server().public_url();
  const auto add = [&](const v1::Incident& i, const PublicIncident& view,
                       sp::Incident* out_incident) {
    out_incident->set_id(i.ref());
    // An incident keeps its name when resolved, as on Statuspage: the
    // newest update's title, not the resolution's ("... resolved").
    std::string name = view.name;
    for (const v1::Message& m : view.messages) {  // newest first
      if (m.kind() != v1::MESSAGE_KIND_RESOLUTION) {
        name = m.title();
        out.name_from[i.ref()] = m.ref();
        break;
      }
    }
    out_incident->set_name(Scrubbed(name));
    // Statuspage's last state: resolved, with the account attached.
    out_incident->set_status(i.has_postmortem() &&
                                     view.status == v1::INCIDENT_STATUS_RESOLVED
                                 ? "postmortem"
                                 : EnumLabel(view.status));
    if (i.has_postmortem()) {
      out_incident->set_postmortem_body(ScrubText(i.postmortem().summary()));
      out_incident->set_postmortem_published_at(
          Time(i.postmortem().published_at()));
    }
    out_incident->set_impact(i.has_maintenance() ? "maintenance"
                                                 : EnumLabel(i.impact()));
    out_incident->set_created_at(Time(i.opened_at()));
    out_incident->set_started_at(Time(
        i.has_maintenance() ? i.maintenance().starts_at() : i.opened_at()));
    out_incident->set_updated_at(FormatUtc(view.updated_at));
    out_incident->set_page_id(kPageId);
    out_incident->set_shortlink(absl::StrCat(absl::StripSuffix(public_url, "/"),
                                             IncidentPagePath(i.ref())));
    if (i.has_maintenance()) {
      out_incident->set_scheduled_for(Time(i.maintenance().starts_at()));
      out_incident->set_scheduled_until(Time(i.maintenance().ends_at()));
    }
    if (view.resolved_at != absl::InfinitePast()) {
      out_incident->set_resolved_at(FormatUtc(view.resolved_at));
    }
    for (const std::string& c : view.component_ids) {
      auto it = components.find(c);
      if (it != components.end()) *out_incident->add_components() = it->second;
    }
    // Each update's components as they were before it: oldest first.
    std::vector<std::map<std::string, v1::ComponentStatus>> before(
        view.messages.size());
    std::map<std::string, v1::ComponentStatus> so_far;
    for (size_t k = view.messages.size(); k-- > 0;) {
      before[k] = so_far;
      for (const auto& [c, status] : view.messages[k].component_statuses()) {
        so_far[c] = status;
      }
    }
    for (size_t k = 0; k < view.messages.size(); ++k) {  // newest first
      const v1::Message& m = view.messages[k];
      if (m.incident_status() == v1::INCIDENT_STATUS_MONITORING &&
          !out_incident->has_monitoring_at()) {
        out_incident->set_monitoring_at(Time(m.published_at()));
      }
      sp::IncidentUpdate* u = out_incident->add_incident_updates();
      u->set_id(m.ref());
      if (!m.translations().empty()) {
        out.translations[m.ref()] = m.translations();
      }
      u->set_status(EnumLabel(m.incident_status()));
      u->set_body(ScrubText(m.body()));
      u->set_incident_id(i.ref());
      u->set_created_at(Time(m.published_at()));
      u->set_updated_at(Time(m.published_at()));
      u->set_display_at(Time(m.published_at()));
      u->set_deliver_notifications(true);
      for (const auto& [component, status] : m.component_statuses()) {
        auto it = components.find(component);
        if (it == components.end()) continue;
        sp::AffectedComponent* affected = u->add_affected_components();
        affected->set_code(component);
        affected->set_name(it->second.name());
        auto was = before[k].find(component);
        affected->set_old_status(
            EnumLabel(was == before[k].end() ? v1::COMPONENT_STATUS_OPERATIONAL
                                             : was->second));
        affected->set_new_status(EnumLabel(status));
      }
    }
  };
  v1::Impact worst = v1::IMPACT_NONE;
  for (const auto& [i, view] : incidents) {
    add(i, view, all.add_incidents());
    if (view.status != v1::INCIDENT_STATUS_RESOLVED) {
      worst = std::max(worst, i.impact());
    }
  }
  std::sort(maintenances.begin(), maintenances.end(),
            [](const auto& a, const auto& b) {
              return FromProtoTime(a.first.maintenance().starts_at()) <
                     FromProtoTime(b.first.maintenance().starts_at());
            });
  bool under_maintenance = false;
  for (const auto& [m, view] : maintenances) {
    add(m, view, all.add_scheduled_maintenances());
    under_maintenance =
        under_maintenance || view.status == v1::INCIDENT_STATUS_IN_PROGRESS;
  }
  sp::Status* status = all.mutable_status();
  switch (worst) {
    case v1::IMPACT_CRITICAL:
      status->set_indicator("critical");
      status->set_description("Major System Outage");
      break;
    case v1::IMPACT_MAJOR:
      status->set_indicator("major");
      status->set_description("Partial System Outage");
      break;
    case v1::IMPACT_MINOR:
      status->set_indicator("minor");
      status->set_description("Minor Service Outage");
      break;
    default:
      if (under_maintenance) {
        status->set_indicator("maintenance");
        status->set_description("Service Under Maintenance");
      } else {
        status->set_indicator("none");
        status->set_description("All Systems Operational");
      }
  }

  tally.Finish();
  const double window_seconds = absl::ToDoubleSeconds(now - tally.window_start);
  for (auto& [id, c] : tally.components) {
    std::vector<ComponentDay>& days = out.days[id];
    for (int d = 0; d < kHistoryDays; ++d) {
      ComponentDay day;
      day.day = tally.first + d;
      day.status = EnumLabel(c.worst[d].second);
      day.incident_ids = std::move(c.incidents[d]);
      days.push_back(std::move(day));
    }
    const double up =
        window_seconds <= 0
            ? 1.0
            : std::clamp(1.0 - c.down_seconds / window_seconds, 0.0, 1.0);
    out.uptime[id] = std::round(up * 1e4) / 1e4;
  }
  return out;
}

sp::Summary StatusPage::Current(const PublicState& state) {
  sp::Summary out = state.all;
  out.clear_incidents();
  out.clear_scheduled_maintenances();
  for (const sp::Incident& i : state.all.incidents()) {
    if (!IsResolved(i)) *out.add_incidents() = i;
  }
  for (const sp::Incident& m : state.all.scheduled_maintenances()) {
    if (m.status() != "completed") *out.add_scheduled_maintenances() = m;
  }
  return out;
}

sp::Summary StatusPage::Incidents(const PublicState& state, int limit) {
  sp::Summary out;
  *out.mutable_page() = state.all.page();
  for (const sp::Incident& i : state.all.incidents()) {
    if (out.incidents_size() >= limit) break;
    *out.add_incidents() = i;
  }
  return out;
}

sp::Summary StatusPage::MaintenancesOf(const PublicState& state,
                                       Maintenances which) {
  sp::Summary out;
  *out.mutable_page() = state.all.page();
  // All of them newest first, as Statuspage lists them; upcoming and
  // active in the order they start.
  if (which == Maintenances::kAll) {
    for (int i = state.all.scheduled_maintenances_size(); i-- > 0;) {
      *out.add_scheduled_maintenances() = state.all.scheduled_maintenances(i);
    }
    return out;
  }
  const char* wanted =
      which == Maintenances::kUpcoming ? "scheduled" : "in_progress";
  for (const sp::Incident& m : state.all.scheduled_maintenances()) {
    if (m.status() == wanted) *out.add_scheduled_maintenances() = m;
  }
  return out;
}

const sp::Incident* StatusPage::FindIncident(const PublicState& state,
                                             absl::string_view ref) {
  for (const auto* list :
       {&state.all.incidents(), &state.all.scheduled_maintenances()}) {
    for (const sp::Incident& i : *list) {
      if (i.id() == ref) return &i;
    }
  }
  return nullptr;
}

int StatusPage::HistoryPages(const PublicState& state) {
  return std::max(1, (state.all.incidents_size() + kHistoryPageSize - 1) /
                         kHistoryPageSize);
}

absl::StatusOr<sp::Summary> StatusPage::Summary() const {
  absl::StatusOr<PublicState> state = Read();
  if (!state.ok()) return state.status();
  return Current(*state);
}

absl::StatusOr<sp::Summary> StatusPage::History(int limit) const {
  absl::StatusOr<PublicState> state = Read();
  if (!state.ok()) return state.status();
  sp::Summary out = Incidents(*state, limit);
  *out.mutable_components() = state->all.components();
  *out.mutable_status() = state->all.status();
  return out;
}

absl::StatusOr<std::string> StatusPage::RenderHtml() const {
  absl::StatusOr<PublicState> state = Read();
  if (!state.ok()) return state.status();
  return RenderHtml(*state, PageLinks{});
}

absl::StatusOr<std::string> StatusPage::RenderAtom() const {
  absl::StatusOr<PublicState> state = Read();
  if (!state.ok()) return state.status();
  return RenderAtom(*state);
}

namespace {

constexpr const char* kComponentStatuses[] = {
    "operational", "degraded_performance", "partial_outage", "major_outage",
    "under_maintenance"};
constexpr const char* kIncidentStatuses[] = {
    "investigating", "identified", "monitoring",  "resolved",
    "postmortem",    "scheduled",  "in_progress", "completed"};
constexpr const char* kIndicators[] = {"none", "minor", "major", "critical",
                                       "maintenance"};

// A flag per status `prefix`+s for the templates to word the one `status`
// is, every one of them set, so that none reads through to an enclosing
// item's.
template <size_t N>
void StatusFlags(const char* const (&statuses)[N], absl::string_view prefix,
                 absl::string_view status, TemplateContext& ctx) {
  for (const char* s : statuses) {
    ctx.flags[absl::StrCat(prefix, s)] = status == s;
  }
}

// How one page speaks: its language, the organisation's zone for times, the
// prefix of its links, and the translations of what it shows.
struct Voice {
  const PublicState& state;
  std::string locale;
  std::string time_zone;
  std::string base;

  // An RFC 3339 time of the public documents as the language writes it.
  std::string Moment(const std::string& rfc3339) const {
    const absl::Time t = ParsedTime(rfc3339);
    return t == absl::InfinitePast() ? rfc3339
                                     : FormatDateTime(t, locale, time_zone);
  }
  // The translation of update `id` into the page's language, or null.
  const v1::Translation* Translation(const std::string& id) const {
    auto it = state.translations.find(id);
    return it == state.translations.end() ? nullptr
                                          : TranslationFor(it->second, locale);
  }
  std::string Body(const sp::IncidentUpdate& u) const {
    const v1::Translation* t = Translation(u.id());
    return t == nullptr ? u.body() : ScrubText(t->body());
  }
  std::string Name(const sp::Incident& i) const {
    auto from = state.name_from.find(i.id());
    const v1::Translation* t =
        from == state.name_from.end() ? nullptr : Translation(from->second);
    return t == nullptr ? i.name() : Scrubbed(t->title());
  }
  std::string Link(absl::string_view path) const {
    return absl::StrCat(base, path);
  }
};

// When what a page shows of `i` last changed: its newest update, its
// resolution, its postmortem, or its maintenance window starting (RFC 3339
// UTC strings of one format sort as their times do).
std::string LastChanged(const sp::Incident& i) {
  std::string out =
      std::max({i.updated_at(), i.resolved_at(), i.postmortem_published_at()});
  if (i.status() == "in_progress" || i.status() == "completed") {
    out = std::max(out, i.scheduled_for());
  }
  return out;
}

// An incident as the HTML pages list it.
TemplateContext IncidentItem(const sp::Incident& i, bool with_updates,
                             const Voice& voice) {
  TemplateContext item;
  item.values["name"] = voice.Name(i);
  item.values["id"] = i.id();
  item.values["url"] = voice.Link(IncidentPagePath(i.id()));
  item.values["started_at"] = i.started_at();
  item.values["started_at_text"] = voice.Moment(i.started_at());
  item.flags["resolved"] = IsResolved(i);
  item.values["resolved_at"] = i.resolved_at();
  if (i.has_resolved_at()) {
    item.values["resolved_at_text"] = voice.Moment(i.resolved_at());
    item.values["duration_text"] = FormatDuration(
        ParsedTime(i.resolved_at()) - ParsedTime(i.started_at()), voice.locale);
  }
  item.flags["postmortem"] = i.has_postmortem_body();
  StatusFlags(kIncidentStatuses, "is_", i.status(), item);
  std::vector<std::string> names;
  for (const sp::Component& c : i.components()) names.push_back(c.name());
  item.values["components_text"] = FormatList(names, voice.locale);
  item.lists.try_emplace("updates");
  if (with_updates) {
    for (const sp::IncidentUpdate& u : i.incident_updates()) {
      TemplateContext update;
      StatusFlags(kIncidentStatuses, "is_", u.status(), update);
      update.values["body"] = voice.Body(u);
      update.values["created_at"] = u.created_at();
      update.values["created_at_text"] = voice.Moment(u.created_at());
      item.lists["updates"].push_back(std::move(update));
    }
  }
  return item;
}

}  // namespace

TemplateContext StatusPage::PageFrame(const PublicState& state,
                                      const PageLanguage& language) const {
  TemplateContext ctx;
  ctx.locale = deps_.renderer.SpokenLocale(language.locale);
  ctx.values["lang"] = ctx.locale;
  ctx.values["base"] = language.base;
  ctx.values["page_name"] = state.all.page().name();
  StatusFlags(kIndicators, "overall_", state.all.status().indicator(), ctx);
  ctx.values["updated_at"] = state.all.page().updated_at();
  ctx.values["updated_at_text"] =
      FormatDateTime(ParsedTime(state.all.page().updated_at()), ctx.locale,
                     deps_.org->default_time_zone());
  ctx.flags["all_operational"] = state.all.status().indicator() == "none";
  // This page in every language the site has.
  std::vector<TemplateContext>& languages = ctx.lists["languages"];
  for (const std::string& tag : PageLanguages()) {
    TemplateContext item;
    item.values["tag"] = tag;
    item.values["name"] = LanguageName(tag);
    item.values["url"] =
        absl::StrCat("/", tag, language.path == "/" ? "/" : language.path);
    item.flags["current"] = tag == ctx.locale;
    languages.push_back(std::move(item));
  }
  ctx.flags["several_languages"] = languages.size() > 1;
  // Without a prefix: in the reader's language (Accept-Language).
  ctx.values["negotiated_url"] = language.path;
  return ctx;
}

absl::StatusOr<std::string> StatusPage::RenderHtml(
    const PublicState& state, const PageLinks& links,
    const PageLanguage& language) const {
  TemplateContext ctx = PageFrame(state, language);
  const Voice voice{state, ctx.locale, deps_.org->default_time_zone(),
                    language.base};
  const sp::Summary current = Current(state);
  bool all_operational = true;
  // The window's days as the language writes them, the same for every
  // component.
  std::map<absl::CivilDay, std::string> day_texts;
  for (const auto& [id, days] : state.days) {
    for (const ComponentDay& day : days) {
      if (!day_texts.contains(day.day)) {
        day_texts[day.day] = FormatDate(day.day, ctx.locale);
      }
    }
    break;  // every component has the same days
  }
  const auto day_text = [&](absl::CivilDay day) {
    auto it = day_texts.find(day);
    return it != day_texts.end() ? it->second : FormatDate(day, ctx.locale);
  };
  // Groups of components: one without a heading for those in no group.
  std::vector<TemplateContext>& sections = ctx.lists["component_groups"];
  std::map<std::string, size_t> section_of;
  for (const sp::Component& c : current.components()) {
    if (c.group()) {
      section_of[c.id()] = sections.size();
      TemplateContext section;
      section.values["name"] = c.name();
      section.flags["named"] = true;
      sections.push_back(std::move(section));
      continue;
    }
    size_t index;
    if (c.has_group_id() && section_of.contains(c.group_id())) {
      index = section_of[c.group_id()];
    } else {
      if (sections.empty() || sections.back().flags["named"]) {
        sections.emplace_back().flags["named"] = false;
      }
      index = sections.size() - 1;
    }
    TemplateContext item;
    item.values["name"] = c.name();
    item.values["status"] = c.status();
    StatusFlags(kComponentStatuses, "is_", c.status(), item);
    all_operational = all_operational && c.status() == "operational";
    auto uptime = state.uptime.find(c.id());
    if (uptime != state.uptime.end()) {
      item.values["uptime_percent"] =
          FormatPercent(100.0 * uptime->second, ctx.locale);
    }
    auto days = state.days.find(c.id());
    std::vector<TemplateContext>& bars = item.lists["days"];
    if (days != state.days.end()) {
      for (const ComponentDay& day : days->second) {
        TemplateContext bar;
        bar.values["date"] = absl::FormatCivilTime(day.day);
        bar.values["date_text"] = day_text(day.day);
        bar.values["status"] = day.status;
        StatusFlags(kComponentStatuses, "is_", day.status, bar);
        for (const std::string& ref : day.incident_ids) {
          const sp::Incident* incident = FindIncident(state, ref);
          if (incident == nullptr) continue;
          TemplateContext link;
          link.values["url"] = voice.Link(IncidentPagePath(ref));
          link.values["name"] = voice.Name(*incident);
          bar.lists["incidents"].push_back(std::move(link));
        }
        bar.flags["has_incidents"] = !day.incident_ids.empty();
        bar.lists.try_emplace("incidents");
        bars.push_back(std::move(bar));
      }
    }
    item.values["days_from"] =
        bars.empty() ? "" : bars.front().values["date_text"];
    sections[index].lists["components"].push_back(std::move(item));
  }
  for (TemplateContext& section : sections) {
    section.lists.try_emplace("components");
  }
  ctx.flags["all_operational"] = all_operational && current.incidents().empty();
  ctx.values["history_days"] = absl::StrCat(kHistoryDays);

  // Open incidents, then the newest resolved ones.
  for (const sp::Incident& i : state.all.incidents()) {
    if (static_cast<int>(ctx.lists["incidents"].size()) >= kRecentIncidents) {
      break;
    }
    ctx.lists["incidents"].push_back(IncidentItem(i, true, voice));
  }
  ctx.flags["more_history"] = state.all.incidents_size() >
                              static_cast<int>(ctx.lists["incidents"].size());
  for (const sp::Incident& m : current.scheduled_maintenances()) {
    TemplateContext item;
    item.values["name"] = voice.Name(m);
    item.values["id"] = m.id();
    item.values["url"] = voice.Link(IncidentPagePath(m.id()));
    StatusFlags(kIncidentStatuses, "is_", m.status(), item);
    item.values["scheduled_for"] = m.scheduled_for();
    item.values["scheduled_until"] = m.scheduled_until();
    item.values["scheduled_for_text"] = voice.Moment(m.scheduled_for());
    item.values["scheduled_until_text"] = voice.Moment(m.scheduled_until());
    if (!m.incident_updates().empty()) {
      item.values["body"] = voice.Body(m.incident_updates(0));
    }
    ctx.lists["maintenances"].push_back(std::move(item));
  }
  ctx.flags["has_maintenances"] = !current.scheduled_maintenances().empty();
  ctx.flags["self_service"] =
      deps_.org->self_service().enabled && !links.subscribe_action.empty();
  ctx.values["subscribe_action"] = links.subscribe_action;
  // A reader of the page in another language than the organisation's
  // subscribes in it unless they choose otherwise. The page that must
  // survive an outage's traffic does without the ~420 time zones: the
  // subscriber picks theirs on /subscribe or from the link in every email.
  AddSubscribeForm({}, ctx.locale == DefaultLanguage() ? "" : ctx.locale, "",
                   /*time_zones=*/false, ctx);
  ctx.lists.try_emplace("maintenances");
  ctx.lists.try_emplace("incidents");
  return deps_.renderer.Render("status_page.html", ctx);
}

absl::StatusOr<std::string> StatusPage::RenderIncidentPage(
    const PublicState& state, const sp::Incident& incident,
    const PageLanguage& language) const {
  TemplateContext ctx = PageFrame(state, language);
  const Voice voice{state, ctx.locale, deps_.org->default_time_zone(),
                    language.base};
  // Updated when this incident was: a change elsewhere leaves the page's
  // bytes (its ETag, the mirror's file) as they were.
  const std::string updated_at = LastChanged(incident);
  ctx.values["updated_at"] = updated_at;
  ctx.values["updated_at_text"] = voice.Moment(updated_at);
  TemplateContext item = IncidentItem(incident, true, voice);
  for (absl::string_view p : absl::StrSplit(incident.postmortem_body(), "\n\n",
                                            absl::SkipWhitespace())) {
    TemplateContext paragraph;
    paragraph.values["text"] = std::string(absl::StripAsciiWhitespace(p));
    item.lists["postmortem_paragraphs"].push_back(std::move(paragraph));
  }
  item.lists.try_emplace("postmortem_paragraphs");
  item.values["postmortem_published_at"] = incident.postmortem_published_at();
  item.values["postmortem_published_at_text"] =
      voice.Moment(incident.postmortem_published_at());
  item.flags["maintenance"] = incident.impact() == "maintenance";
  item.values["scheduled_for"] = incident.scheduled_for();
  item.values["scheduled_until"] = incident.scheduled_until();
  item.values["scheduled_for_text"] = voice.Moment(incident.scheduled_for());
  item.values["scheduled_until_text"] =
      voice.Moment(incident.scheduled_until());
  ctx.lists["incident"].push_back(std::move(item));
  return deps_.renderer.Render("incident_page.html", ctx);
}

absl::StatusOr<std::string> StatusPage::RenderHistoryPage(
    const PublicState& state, int number, const PageLanguage& language) const {
  const int pages = HistoryPages(state);
  if (number < 1 || number > pages) {
    return absl::NotFoundError(absl::StrCat("no history page ", number));
  }
  TemplateContext ctx = PageFrame(state, language);
  const Voice voice{state, ctx.locale, deps_.org->default_time_zone(),
                    language.base};
  const int from = (number - 1) * kHistoryPageSize;
  const int to = std::min(state.all.incidents_size(), from + kHistoryPageSize);
  // Updated when the newest incident it lists was (RFC 3339 UTC strings
  // sort as their times do).
  std::string updated_at;
  for (int i = from; i < to; ++i) {
    ctx.lists["incidents"].push_back(
        IncidentItem(state.all.incidents(i), false, voice));
    updated_at = std::max(updated_at, LastChanged(state.all.incidents(i)));
  }
  if (!updated_at.empty()) {
    ctx.values["updated_at"] = updated_at;
    ctx.values["updated_at_text"] = voice.Moment(updated_at);
  }
  ctx.lists.try_emplace("incidents");
  ctx.values["page_number"] = absl::StrCat(number);
  ctx.values["page_count"] = absl::StrCat(pages);
  if (number > 1) {
    ctx.values["newer_url"] = voice.Link(
        number == 2 ? "/history" : absl::StrCat("/history/", number - 1));
  }
  if (number < pages) {
    ctx.values["older_url"] = voice.Link(absl::StrCat("/history/", number + 1));
  }
  return deps_.renderer.Render("history_page.html", ctx);
}

absl::StatusOr<std::string> StatusPage::RenderNotFound(
    const PublicState& state, const PageLanguage& language) const {
  return deps_.renderer.Render("not_found.html", PageFrame(state, language));
}

void StatusPage::AddSubscribeForm(const std::vector<std::string>& checked,
                                  absl::string_view locale,
                                  absl::string_view time_zone, bool time_zones,
                                  TemplateContext& ctx) const {
  std::vector<TemplateContext>& list = ctx.lists["subscribe_components"];
  for (const v1::ComponentConfig& c : deps_.org->config().components()) {
    TemplateContext item;
    item.values["id"] = c.id();
    item.values["name"] = c.name().empty() ? c.id() : c.name();
    item.flags["checked"] =
        std::find(checked.begin(), checked.end(), c.id()) != checked.end();
    list.push_back(std::move(item));
  }
  // The organisation's language and zone first, as "" (the default: the
  // subscriber follows it when it changes); then every language with
  // templates and every zone; and the one chosen, even when it is not
  // among them, so that saving the form unchanged changes nothing.
  const auto choice = [](std::string value, std::string name, bool selected,
                         bool is_default) {
    TemplateContext item;
    item.values["tag"] = value;  // languages' value
    item.values["value"] = std::move(value);
    item.values["name"] = std::move(name);
    item.flags["selected"] = selected;
    item.flags["is_default"] = is_default;
    return item;
  };
  std::vector<TemplateContext>& languages = ctx.lists["subscribe_languages"];
  languages.push_back(choice("", LanguageName(deps_.renderer.SpokenLocale("")),
                             locale.empty(), true));
  bool listed = locale.empty();
  for (const std::string& tag : deps_.renderer.Languages()) {
    listed |= tag == locale;
    languages.push_back(choice(tag, LanguageName(tag), tag == locale, false));
  }
  if (!listed) {
    languages.push_back(
        choice(std::string(locale), LanguageName(locale), true, false));
  }
  std::vector<TemplateContext>& zones = ctx.lists["subscribe_time_zones"];
  ctx.flags["offer_time_zones"] = time_zones;
  ctx.values["default_time_zone"] = deps_.org->default_time_zone();
  if (!time_zones) return;
  zones.push_back(
      choice("", deps_.org->default_time_zone(), time_zone.empty(), true));
  listed = time_zone.empty();
  for (const std::string& name : TimeZoneNames()) {
    listed |= name == time_zone;
    zones.push_back(choice(name, name, name == time_zone, false));
  }
  if (!listed) {
    zones.push_back(
        choice(std::string(time_zone), std::string(time_zone), true, false));
  }
}

absl::StatusOr<std::string> StatusPage::RenderSelfService(
    const SelfServicePage& page) const {
  TemplateContext ctx;
  ctx.locale = deps_.renderer.SpokenLocale(page.locale);
  ctx.values["page_name"] = deps_.org->config().server().page_name();
  ctx.values["lang"] = ctx.locale;
  if (!page.kind.empty()) ctx.flags[page.kind] = true;
  ctx.flags["show_form"] = page.kind == "subscribe" || page.offer_form;
  ctx.values["error"] = page.error;
  if (!page.error_field.empty()) {
    ctx.flags[absl::StrCat("error_", page.error_field)] = true;
  }
  if (!page.link_problem.empty()) {
    ctx.flags[absl::StrCat("link_", page.link_problem)] = true;
  }
  ctx.values["email"] = page.email;
  ctx.values["subscribe_action"] = "/subscribe";
  ctx.values["form_email"] = page.email;
  ctx.values["form_name"] = page.name;
  ctx.values["confirm_token"] = page.confirm_token;
  ctx.values["unsubscribe_token"] = page.unsubscribe_token;
  ctx.values["incident_ref"] = page.incident_ref;
  if (!page.answer.empty()) {
    ctx.flags[absl::StrCat("answer_", page.answer)] = true;
  }
  ctx.flags["answer_problem"] =
      page.answer == "still_broken" || page.answer == "credit_missing";
  ctx.values["answer_token"] = page.answer_token;
  ctx.flags["answer_comment_box"] = page.answer_comment_box;
  ctx.values["answer_comment"] = page.answer_comment;
  ctx.values["manage_token"] = page.manage_token;
  std::vector<TemplateContext>& channels = ctx.lists["channels"];
  const int count = static_cast<int>(page.channels.size());
  for (int i = 0; i < count; ++i) {
    const SelfServicePage::Channel& c = page.channels[i];
    TemplateContext item;
    item.values["key"] = c.key;
    item.values["hint"] = c.hint;
    // Every kind set, so that none reads through to the page's values
    // (the page has an `email` of its own).
    for (absl::string_view kind : {"email", "sms", "slack", "webhook"}) {
      item.flags[absl::StrCat("is_", kind)] = c.kind == kind;
    }
    // Where it stands: a choice of every place, its own selected.
    for (int place = 1; place <= count; ++place) {
      TemplateContext option;
      option.values["place"] = absl::StrCat(place);
      option.flags["selected"] = place == i + 1;
      item.lists["places"].push_back(std::move(option));
    }
    channels.push_back(std::move(item));
  }
  ctx.flags["several_channels"] = count > 1;
  ctx.values["channels_fingerprint"] = page.channels_fingerprint;
  AddSubscribeForm(page.component_ids, page.form_locale, page.form_time_zone,
                   /*time_zones=*/true, ctx);
  return deps_.renderer.Render("self_service.html", ctx);
}

absl::StatusOr<std::string> StatusPage::RenderAtom(
    const PublicState& state) const {
  const sp::Summary history = Incidents(state, 50);
  const std::string url(absl::StripSuffix(history.page().url(), "/"));
  TemplateContext ctx;
  ctx.values["page_name"] = history.page().name();
  ctx.values["public_url"] = url;
  ctx.values["feed_id"] = absl::StrCat(url, "/history.atom");
  std::vector<std::pair<const sp::Incident*, const sp::IncidentUpdate*>> all;
  for (const sp::Incident& i : history.incidents()) {
    for (const sp::IncidentUpdate& u : i.incident_updates()) {
      all.emplace_back(&i, &u);
    }
  }
  // RFC 3339 UTC strings of one format sort as their times do.
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second->created_at() > b.second->created_at();
  });
  ctx.values["updated"] =
      all.empty() ? history.page().updated_at() : all[0].second->created_at();
  for (const auto& [incident, update] : all) {
    TemplateContext entry;
    // The id an entry was first published with: never changes.
    entry.values["id"] = absl::StrCat(url, "/#", update->id());
    entry.values["incident_name"] = incident->name();
    entry.values["status_text"] = update->status();
    entry.values["link"] = absl::StrCat(url, IncidentPagePath(incident->id()));
    entry.values["published"] = update->created_at();
    entry.values["body"] = update->body();
    ctx.lists["entries"].push_back(std::move(entry));
  }
  ctx.lists.try_emplace("entries");
  return deps_.renderer.Render("history.atom.xml", ctx);
}

}  // namespace herald
