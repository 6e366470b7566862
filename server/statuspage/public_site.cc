#include "server/statuspage/public_site.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/base/locale_text.h"
#include "server/base/log.h"
#include "server/core/incidents/public_incident.h"
#include "server/statuspage/statuspage_json.h"

namespace herald {
namespace {

namespace sp = v1::statuspage;

constexpr char kHtml[] = "text/html; charset=utf-8";
constexpr char kJson[] = "application/json";
constexpr char kAtom[] = "application/atom+xml; charset=utf-8";
constexpr char kHistory[] = "/history";
constexpr char kIncidents[] = "/incidents/";

// The Statuspage JSON documents: each a projection of the state, with the
// keys Statuspage gives that document.
struct JsonDocument {
  const char* path;
  std::string (*render)(const PublicState&);
};

sp::StatusDocument StatusOf(const sp::Summary& s) {
  sp::StatusDocument out;
  *out.mutable_page() = s.page();
  *out.mutable_status() = s.status();
  return out;
}

sp::ComponentsDocument ComponentsOf(const sp::Summary& s) {
  sp::ComponentsDocument out;
  *out.mutable_page() = s.page();
  *out.mutable_components() = s.components();
  return out;
}

sp::IncidentsDocument IncidentsOf(const sp::Summary& s) {
  sp::IncidentsDocument out;
  *out.mutable_page() = s.page();
  *out.mutable_incidents() = s.incidents();
  return out;
}

sp::MaintenancesDocument MaintenancesOf(const sp::Summary& s) {
  sp::MaintenancesDocument out;
  *out.mutable_page() = s.page();
  *out.mutable_scheduled_maintenances() = s.scheduled_maintenances();
  return out;
}

const JsonDocument kJsonDocuments[] = {
    {"/api/v2/summary.json",
     [](const PublicState& s) {
       return StatuspageJson(StatusPage::Current(s));
     }},
    {"/api/v2/status.json",
     [](const PublicState& s) {
       return StatuspageJson(StatusOf(StatusPage::Current(s)));
     }},
    {"/api/v2/components.json",
     [](const PublicState& s) {
       return StatuspageJson(ComponentsOf(StatusPage::Current(s)));
     }},
    {"/api/v2/incidents/unresolved.json",
     [](const PublicState& s) {
       return StatuspageJson(IncidentsOf(StatusPage::Current(s)));
     }},
    {"/api/v2/incidents.json",
     [](const PublicState& s) {
       return StatuspageJson(IncidentsOf(StatusPage::Incidents(s, 50)));
     }},
    {"/api/v2/scheduled-maintenances.json",
     [](const PublicState& s) {
       return StatuspageJson(MaintenancesOf(
           StatusPage::MaintenancesOf(s, StatusPage::Maintenances::kAll)));
     }},
    {"/api/v2/scheduled-maintenances/upcoming.json",
     [](const PublicState& s) {
       return StatuspageJson(MaintenancesOf(
           StatusPage::MaintenancesOf(s, StatusPage::Maintenances::kUpcoming)));
     }},
    {"/api/v2/scheduled-maintenances/active.json",
     [](const PublicState& s) {
       return StatuspageJson(MaintenancesOf(
           StatusPage::MaintenancesOf(s, StatusPage::Maintenances::kActive)));
     }},
};

// The history page `path` names: 1 for "/history", N for "/history/N";
// 0 when it names none.
int HistoryPageNumber(absl::string_view path) {
  if (path == kHistory) return 1;
  if (!absl::ConsumePrefix(&path, "/history/")) return 0;
  int n = 0;
  // Digits only: "+2", " 2" and "02" are not pages.
  if (path.empty() || path.size() > 6 || path[0] == '0') return 0;
  for (char c : path) {
    if (c < '0' || c > '9') return 0;
  }
  return absl::SimpleAtoi(path, &n) ? n : 0;
}

// Whether `path`, without a language prefix, is one of the HTML pages.
bool IsPage(absl::string_view path) {
  return path == "/" || path == kHistory ||
         absl::StartsWith(path, "/history/") ||
         absl::StartsWith(path, kIncidents);
}

}  // namespace

PublicSite::PublicSite(const StatusPage& page)
    : page_(page),
      languages_(page.PageLanguages()),
      default_language_(page.DefaultLanguage()) {}

PublicSite::Located PublicSite::Locate(absl::string_view path) const {
  absl::string_view rest = path;
  if (absl::ConsumePrefix(&rest, "/")) {
    const absl::string_view first = rest.substr(0, rest.find('/'));
    for (const std::string& tag : languages_) {
      if (first != tag) continue;
      rest.remove_prefix(first.size());
      return {tag, rest.empty() ? "/" : std::string(rest)};
    }
  }
  return {"", std::string(path)};
}

bool PublicSite::Covers(absl::string_view path) const {
  const Located at = Locate(path);
  if (!at.language.empty()) return IsPage(at.path);
  for (const std::string& p : FixedPaths()) {
    if (path == p) return true;
  }
  return IsPage(path);
}

bool PublicSite::Negotiates(absl::string_view path) const {
  return IsPage(path) && Locate(path).language.empty();
}

std::string PublicSite::LanguageFor(absl::string_view accept_language) const {
  std::string best = BestLanguage(accept_language, languages_);
  return best.empty() ? default_language_ : best;
}

bool PublicSite::Has(const PublicState& state, absl::string_view path) const {
  const Located at = Locate(path);
  // Under a language's prefix, only pages.
  if (!at.language.empty() && !IsPage(at.path)) return false;
  for (const std::string& p : FixedPaths()) {
    if (at.path == p) return true;
  }
  if (const int n = HistoryPageNumber(at.path); n > 0) {
    return n <= StatusPage::HistoryPages(state);
  }
  absl::string_view ref = at.path;
  return absl::ConsumePrefix(&ref, kIncidents) &&
         StatusPage::FindIncident(state, ref) != nullptr;
}

const std::vector<std::string>& PublicSite::FixedPaths() {
  static const auto* const paths = [] {
    auto* out = new std::vector<std::string>{"/", kHistory, "/history.atom"};
    for (const JsonDocument& d : kJsonDocuments) out->push_back(d.path);
    return out;
  }();
  return *paths;
}

std::vector<std::string> PublicSite::Paths(const PublicState& state) const {
  std::vector<std::string> pages = {"/", kHistory};
  for (int n = 2; n <= StatusPage::HistoryPages(state); ++n) {
    pages.push_back(absl::StrCat(kHistory, "/", n));
  }
  for (const auto* list :
       {&state.all.incidents(), &state.all.scheduled_maintenances()}) {
    for (const sp::Incident& i : *list) {
      pages.push_back(IncidentPagePath(i.id()));
    }
  }
  std::vector<std::string> out = FixedPaths();
  for (const std::string& page : pages) {
    if (page != "/" && page != kHistory) out.push_back(page);
  }
  for (const std::string& tag : languages_) {
    for (const std::string& page : pages) {
      out.push_back(absl::StrCat("/", tag, page));
    }
  }
  return out;
}

absl::StatusOr<PublicDocument> PublicSite::Render(
    const PublicState& state, absl::string_view path, const PageLinks& links,
    absl::string_view language) const {
  for (const JsonDocument& d : kJsonDocuments) {
    if (path == d.path) {
      return PublicDocument{200, kJson, d.render(state), true};
    }
  }
  if (path == "/history.atom") {
    absl::StatusOr<std::string> atom = page_.RenderAtom(state);
    if (!atom.ok()) return atom.status();
    return PublicDocument{200, kAtom, *std::move(atom), true};
  }
  const Located at = Locate(path);
  PageLanguage page_language;
  page_language.locale =
      at.language.empty() ? std::string(language) : at.language;
  if (page_language.locale.empty()) page_language.locale = default_language_;
  if (!at.language.empty()) page_language.base = absl::StrCat("/", at.language);
  // "/history/1" is "/history": its links to the other languages too.
  page_language.path =
      HistoryPageNumber(at.path) == 1 ? std::string(kHistory) : at.path;
  const auto html = [&](absl::StatusOr<std::string> body,
                        int status) -> absl::StatusOr<PublicDocument> {
    if (!body.ok()) return body.status();
    return PublicDocument{status,
                          kHtml,
                          *std::move(body),
                          false,
                          page_language.locale,
                          at.language.empty()};
  };
  if (at.path == "/") {
    return html(page_.RenderHtml(state, links, page_language), 200);
  }
  absl::string_view ref = at.path;
  const sp::Incident* incident = absl::ConsumePrefix(&ref, kIncidents)
                                     ? StatusPage::FindIncident(state, ref)
                                     : nullptr;
  if (!Has(state, path) || (HistoryPageNumber(at.path) == 0 && !incident)) {
    // One page for every unknown path: it links to the other languages'
    // front pages, never to the path asked for (which a client chose).
    page_language.path = "/";
    return html(page_.RenderNotFound(state, page_language), 404);
  }
  if (const int n = HistoryPageNumber(at.path); n > 0) {
    return html(page_.RenderHistoryPage(state, n, page_language), 200);
  }
  return html(page_.RenderIncidentPage(state, *incident, page_language), 200);
}

PublicStateCache::PublicStateCache(const StatusPage& page,
                                   const EventHub* changes,
                                   absl::Duration refresh)
    : page_(page), changes_(changes), refresh_(refresh) {}

std::shared_ptr<const PublicState> PublicStateCache::Fresh() {
  if (changes_ == nullptr) return nullptr;
  const uint64_t changes = changes_->changes();
  const absl::Time now = page_.clock().Now();
  absl::MutexLock lock(&mu_);
  if (state_ != nullptr && read_at_changes_ >= changes &&
      now - read_at_ < refresh_) {
    return state_;
  }
  return nullptr;
}

absl::StatusOr<std::shared_ptr<const PublicState>> PublicStateCache::Get() {
  if (std::shared_ptr<const PublicState> fresh = Fresh()) return fresh;
  absl::MutexLock reading(&read_mu_);
  // Another caller may have read while this one waited.
  if (std::shared_ptr<const PublicState> fresh = Fresh()) return fresh;
  // Taken before reading: a change committed during the read makes the
  // next caller read again.
  const uint64_t changes = changes_ == nullptr ? 0 : changes_->changes();
  const absl::Time now = page_.clock().Now();
  absl::StatusOr<PublicState> state = page_.Read();
  absl::MutexLock lock(&mu_);
  if (!state.ok()) {
    if (state_ == nullptr) return state.status();
    // The store is down: the page goes on showing what it last could,
    // and asks the store again after `refresh`, not on every request.
    LogWarn("public state unreadable; serving the last one read",
            {{"error", state.status().ToString()}});
    read_at_ = now;
    return state_;
  }
  state_ = std::make_shared<const PublicState>(*std::move(state));
  read_at_changes_ = changes;
  read_at_ = now;
  return state_;
}

}  // namespace herald
