#include "server/statuspage/status_page.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "herald/enum_labels.h"
#include "server/base/proto_time.h"
#include "server/base/text.h"
#include "server/core/incidents/public_incident.h"

namespace herald {
namespace {

namespace sp = v1::statuspage;

constexpr char kPageId[] = "herald";

std::string ComponentStatusText(const std::string& s) {
  static const auto* const kText = new std::map<std::string, std::string>{
      {"operational", "Operational"},
      {"degraded_performance", "Degraded performance"},
      {"partial_outage", "Partial outage"},
      {"major_outage", "Major outage"},
      {"under_maintenance", "Under maintenance"}};
  auto it = kText->find(s);
  return it == kText->end() ? s : it->second;
}

// One line of public text: no characters XML, HTML or JSON readers choke
// on, no line breaks.
std::string Scrubbed(absl::string_view text) { return ScrubText(text, false); }

std::string Time(const google::protobuf::Timestamp& ts) {
  return ts.seconds() == 0 && ts.nanos() == 0 ? ""
                                              : FormatUtc(FromProtoTime(ts));
}

}  // namespace

StatusPage::StatusPage(const CoreDeps& deps) : deps_(deps) {}

absl::StatusOr<sp::Summary> StatusPage::Summary() const {
  return Build(true, 50);
}

absl::StatusOr<sp::Summary> StatusPage::History(int limit) const {
  return Build(false, limit);
}

absl::StatusOr<sp::Summary> StatusPage::Build(bool only_unresolved,
                                              int limit) const {
  const Organisation& org = *deps_.org;
  sp::Summary summary;
  // Each incident as customers were told of it: its approved messages only.
  std::vector<std::pair<v1::Incident, PublicIncident>> incidents;
  std::vector<std::pair<v1::Incident, PublicIncident>> maintenances;
  std::map<std::string, v1::ComponentState> states;
  // When customers were last told anything: the page's updated_at, the same
  // on every request until the next change (so that its ETag holds).
  absl::Time last_change = absl::InfinitePast();
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    auto list = r.ListIncidents({/*include_resolved=*/true});
    if (!list.ok()) return list.status();
    for (v1::Incident& i : *list) {
      if (!i.customer_visible()) continue;
      const bool maintenance = i.has_maintenance();
      auto& into = maintenance ? maintenances : incidents;
      if (static_cast<int>(into.size()) >= limit) continue;
      auto messages = r.ListMessages({i.id(), {v1::MESSAGE_STATE_PUBLISHED}});
      if (!messages.ok()) return messages.status();
      PublicIncident view = PublicView(i, *std::move(messages));
      if (!view.visible) continue;
      last_change = std::max(last_change, view.updated_at);
      if (i.has_postmortem()) {
        last_change =
            std::max(last_change, FromProtoTime(i.postmortem().published_at()));
      }
      // Maintenance shows while it is upcoming or under way, incidents while
      // customers were not told they are resolved (or, for the history,
      // always).
      if (maintenance ? view.status == v1::INCIDENT_STATUS_COMPLETED
                      : only_unresolved &&
                            view.status == v1::INCIDENT_STATUS_RESOLVED) {
        continue;
      }
      into.emplace_back(std::move(i), std::move(view));
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

  sp::Page* page = summary.mutable_page();
  page->set_id(kPageId);
  page->set_name(Scrubbed(org.config().server().page_name()));
  page->set_url(org.config().server().public_url());
  page->set_time_zone("Etc/UTC");
  // Before the first change: the Unix epoch, as stable as any later time.
  page->set_updated_at(FormatUtc(
      last_change == absl::InfinitePast() ? absl::UnixEpoch() : last_change));

  std::map<std::string, sp::Component> components;
  for (int i = 0; i < org.config().components_size(); ++i) {
    const auto& c = org.config().components(i);
    sp::Component* out = summary.add_components();
    out->set_id(c.id());
    out->set_name(Scrubbed(c.name()));
    out->set_description(ScrubText(c.description()));
    out->set_position(i + 1);
    out->set_page_id(kPageId);
    out->set_showcase(true);
    auto it = states.find(c.id());
    out->set_status(EnumLabel(it == states.end()
                                  ? v1::COMPONENT_STATUS_OPERATIONAL
                                  : it->second.status()));
    if (it != states.end()) out->set_updated_at(Time(it->second.updated_at()));
    components[c.id()] = *out;
  }

  const auto add = [&](const v1::Incident& i, const PublicIncident& view,
                       sp::Incident* out) {
    out->set_id(i.ref());
    out->set_name(Scrubbed(view.name));
    // Statuspage's last state: resolved, with the account attached.
    out->set_status(i.has_postmortem() &&
                            view.status == v1::INCIDENT_STATUS_RESOLVED
                        ? "postmortem"
                        : EnumLabel(view.status));
    if (i.has_postmortem()) {
      out->set_postmortem_body(ScrubText(i.postmortem().summary()));
      out->set_postmortem_published_at(Time(i.postmortem().published_at()));
    }
    out->set_impact(i.has_maintenance() ? "maintenance"
                                        : EnumLabel(i.impact()));
    out->set_created_at(Time(i.opened_at()));
    out->set_started_at(Time(i.has_maintenance() ? i.maintenance().starts_at()
                                                 : i.opened_at()));
    out->set_updated_at(FormatUtc(view.updated_at));
    out->set_page_id(kPageId);
    out->set_shortlink(
        absl::StrCat(org.config().server().public_url(), "/#", i.ref()));
    if (i.has_maintenance()) {
      out->set_scheduled_for(Time(i.maintenance().starts_at()));
      out->set_scheduled_until(Time(i.maintenance().ends_at()));
    }
    if (view.resolved_at != absl::InfinitePast()) {
      out->set_resolved_at(FormatUtc(view.resolved_at));
    }
    for (const std::string& c : view.component_ids) {
      auto it = components.find(c);
      if (it != components.end()) *out->add_components() = it->second;
    }
    for (const v1::Message& m : view.messages) {  // newest first
      if (m.incident_status() == v1::INCIDENT_STATUS_MONITORING &&
          out->monitoring_at().empty()) {
        out->set_monitoring_at(Time(m.published_at()));
      }
      sp::IncidentUpdate* u = out->add_incident_updates();
      u->set_id(m.ref());
      u->set_status(EnumLabel(m.incident_status()));
      u->set_body(ScrubText(m.body()));
      u->set_incident_id(i.ref());
      u->set_created_at(Time(m.published_at()));
      u->set_updated_at(Time(m.published_at()));
      u->set_display_at(Time(m.published_at()));
    }
  };
  v1::Impact worst = v1::IMPACT_NONE;
  for (const auto& [i, view] : incidents) {
    add(i, view, summary.add_incidents());
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
    add(m, view, summary.add_scheduled_maintenances());
    under_maintenance =
        under_maintenance || view.status == v1::INCIDENT_STATUS_IN_PROGRESS;
  }
  sp::Status* status = summary.mutable_status();
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
  return summary;
}

absl::StatusOr<std::string> StatusPage::RenderHtml() const {
  absl::StatusOr<sp::Summary> current = Summary();
  if (!current.ok()) return current.status();
  absl::StatusOr<sp::Summary> history = History(20);
  if (!history.ok()) return history.status();
  TemplateContext ctx;
  ctx.values["page_name"] = current->page().name();
  ctx.values["overall_text"] = current->status().description();
  bool all_operational = true;
  for (const sp::Component& c : current->components()) {
    TemplateContext item;
    item.values["name"] = c.name();
    item.values["status_text"] = ComponentStatusText(c.status());
    all_operational = all_operational && c.status() == "operational";
    ctx.lists["components"].push_back(std::move(item));
  }
  ctx.flags["all_operational"] =
      all_operational && current->incidents().empty();
  for (const sp::Incident& i : history->incidents()) {
    TemplateContext item;
    item.values["name"] = i.name();
    item.values["id"] = i.id();
    item.flags["resolved"] =
        i.status() == "resolved" || i.status() == "postmortem";
    for (absl::string_view p :
         absl::StrSplit(i.postmortem_body(), "\n\n", absl::SkipWhitespace())) {
      TemplateContext paragraph;
      paragraph.values["text"] = std::string(absl::StripAsciiWhitespace(p));
      item.lists["postmortem_paragraphs"].push_back(std::move(paragraph));
    }
    item.lists.try_emplace("postmortem_paragraphs");
    item.flags["postmortem"] = !i.postmortem_body().empty();
    item.values["postmortem_published_at"] = i.postmortem_published_at();
    for (const sp::IncidentUpdate& u : i.incident_updates()) {
      TemplateContext update;
      update.values["status_text"] = u.status();
      update.values["body"] = u.body();
      update.values["created_at"] = u.created_at();
      item.lists["updates"].push_back(std::move(update));
    }
    ctx.lists["incidents"].push_back(std::move(item));
  }
  for (const sp::Incident& m : current->scheduled_maintenances()) {
    TemplateContext item;
    item.values["name"] = m.name();
    item.values["id"] = m.id();
    item.values["status_text"] =
        m.status() == "in_progress" ? "In progress" : "Scheduled";
    item.values["scheduled_for"] = m.scheduled_for();
    item.values["scheduled_until"] = m.scheduled_until();
    if (!m.incident_updates().empty()) {
      item.values["body"] = m.incident_updates(0).body();
    }
    ctx.lists["maintenances"].push_back(std::move(item));
  }
  ctx.flags["has_maintenances"] = !current->scheduled_maintenances().empty();
  ctx.flags["self_service"] = deps_.org->self_service().enabled;
  AddSubscribeForm({}, ctx);
  ctx.lists.try_emplace("maintenances");
  ctx.lists.try_emplace("incidents");
  ctx.lists.try_emplace("components");
  return deps_.renderer.Render("status_page.html", ctx);
}

void StatusPage::AddSubscribeForm(const std::vector<std::string>& checked,
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
}

absl::StatusOr<std::string> StatusPage::RenderSelfService(
    const SelfServicePage& page) const {
  TemplateContext ctx;
  ctx.values["page_name"] = deps_.org->config().server().page_name();
  ctx.values["heading"] = page.heading;
  ctx.values["text"] = page.text;
  ctx.values["error"] = page.error;
  ctx.flags["show_form"] = page.show_form;
  ctx.values["form_email"] = page.email;
  ctx.values["form_name"] = page.name;
  ctx.values["confirm_token"] = page.confirm_token;
  ctx.values["unsubscribe_token"] = page.unsubscribe_token;
  ctx.values["answer_token"] = page.answer_token;
  AddSubscribeForm(page.component_ids, ctx);
  return deps_.renderer.Render("self_service.html", ctx);
}

absl::StatusOr<std::string> StatusPage::RenderAtom() const {
  absl::StatusOr<sp::Summary> history = History(50);
  if (!history.ok()) return history.status();
  const std::string& url = history->page().url();
  TemplateContext ctx;
  ctx.values["page_name"] = history->page().name();
  ctx.values["public_url"] = url;
  ctx.values["feed_id"] = absl::StrCat(url, "/history.atom");
  std::vector<std::pair<const sp::Incident*, const sp::IncidentUpdate*>> all;
  for (const sp::Incident& i : history->incidents()) {
    for (const sp::IncidentUpdate& u : i.incident_updates()) {
      all.emplace_back(&i, &u);
    }
  }
  // RFC 3339 UTC strings of one format sort as their times do.
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second->created_at() > b.second->created_at();
  });
  ctx.values["updated"] =
      all.empty() ? history->page().updated_at() : all[0].second->created_at();
  for (const auto& [incident, update] : all) {
    TemplateContext entry;
    entry.values["id"] = absl::StrCat(url, "/#", update->id());
    entry.values["incident_name"] = incident->name();
    entry.values["status_text"] = update->status();
    entry.values["link"] = absl::StrCat(url, "/#", incident->id());
    entry.values["published"] = update->created_at();
    entry.values["body"] = update->body();
    ctx.lists["entries"].push_back(std::move(entry));
  }
  ctx.lists.try_emplace("entries");
  return deps_.renderer.Render("history.atom.xml", ctx);
}

}  // namespace herald
