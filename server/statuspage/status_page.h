// StatusPage builds the public view of herald's state: the Statuspage-v2
// JSON documents, the HTML pages (the status page, a page per incident, the
// history) and the Atom feed. It shows only what was approved and
// published; internal incidents and drafts never appear.
//
// Everything public derives from one read of the store, a PublicState; each
// document is a pure function of it, so that heraldd's routes and the
// static mirror render the same bytes from one read. Thread-safe.
#ifndef HERALD_SERVER_STATUSPAGE_STATUS_PAGE_H_
#define HERALD_SERVER_STATUSPAGE_STATUS_PAGE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "herald/v1/domain.pb.h"
#include "herald/v1/statuspage.pb.h"
#include "server/core/core_deps.h"

namespace herald {

// A self-service page (subscribe, confirm, unsubscribe, preferences, a
// follow-up answer) in the status page's look and in the reader's
// language: the templates word each kind of page (self_service.html), so
// that every language has all of them. Only the parts that are set appear.
struct SelfServicePage {
  // Which page, a flag of that name for the template: "subscribe" (the
  // form), "check_inbox", "confirm", "subscribed", "unsubscribe",
  // "unsubscribed", "broken_link", "answer", "answered", "preferences",
  // "preferences_saved".
  std::string kind;
  // The reader's language tag; "": the organisation's.
  std::string locale;
  // What went wrong, as herald says it (in English), and the form field it
  // is about ("email", "name", "component", "channels", "locale",
  // "time_zone", "comment"; "" for none), for templates that word it in
  // their own language. A broken link says why with `link_problem`:
  // "invalid", "expired", "gone" or "unavailable".
  std::string error;
  std::string error_field;
  std::string link_problem;
  // The subscription's address (check_inbox, subscribed, unsubscribed,
  // preferences) and the subscribe form's values, kept after an error.
  std::string email;
  std::string name;
  std::vector<std::string> component_ids;  // ticked
  std::string form_locale;     // chosen; "": the organisation's default
  std::string form_time_zone;  // chosen; "": the organisation's default
  // The subscribe form, under another page (a link that expired).
  bool offer_form = false;
  // A button that confirms (or unsubscribes) with this token.
  std::string confirm_token;
  std::string unsubscribe_token;
  // A follow-up answer: its incident ("INC-12") and what the customer
  // tells us ("works", "still_broken", "credit_received",
  // "credit_missing"); a button that records it with `answer_token`, and
  // with `answer_comment_box`, a box for the customer to say what is wrong.
  std::string incident_ref;
  std::string answer;
  std::string answer_token;
  bool answer_comment_box = false;
  std::string answer_comment;  // the box's text, after an error
  // The preferences form, posted with `manage_token`: the channels in the
  // subscriber's order (their position, kind such as "email", ContactHint)
  // with the fingerprint that proves which they were; the components,
  // language and time zone are the form's values above.
  struct Channel {
    std::string key;
    std::string kind;
    std::string hint;
  };
  std::string manage_token;
  std::vector<Channel> channels;
  std::string channels_fingerprint;
};

// One day of a component's history: the worst status herald published for
// it that day, and the incidents that set it.
struct ComponentDay {
  absl::CivilDay day;
  std::string status = "operational";  // a Statuspage component status
  std::vector<std::string> incident_ids;

  friend bool operator==(const ComponentDay&, const ComponentDay&) = default;
};

// Everything customers can see, as of one read of the store.
struct PublicState {
  // The page; components and groups; every visible incident, newest first;
  // every announced maintenance (completed too), by its start; the overall
  // status.
  v1::statuspage::Summary all;
  // Per component id, its last kHistoryDays days, oldest first, ending
  // today (UTC) as of the read.
  std::map<std::string, std::vector<ComponentDay>> days;
  // Per component id, the share of that window it was up: all of a major
  // outage counts as down, and 30% of a partial one, as Statuspage counts.
  // To the hundredth of a percent the page shows, so that a read a moment
  // later is the same (SameContent) while the page would be.
  std::map<std::string, double> uptime;
  // The approved translations of each published update, by language tag,
  // by update id (the message's ref); and per incident id, the update its
  // name comes from (so that the name reads in the same language).
  std::map<std::string, google::protobuf::Map<std::string, v1::Translation>>
      translations;
  std::map<std::string, std::string> name_from;
};

// Whether `a` and `b` show the same: every public document is a function of
// the state alone, so the same bytes. A read after a change customers do not
// see (an alert, a draft) is the same as the one before it. May say "not the
// same" of two that are (their maps serialized in other orders), never the
// reverse.
bool SameContent(const PublicState& a, const PublicState& b);

// The language a public page is in, and where its links lead.
struct PageLanguage {
  // A language tag; "": the organisation's.
  std::string locale;
  // What links to the site's other pages start with: "" on the pages that
  // follow the reader's Accept-Language, "/de" on the German ones.
  std::string base;
  // The page's own path under `base` ("/", "/history/2"), for the links to
  // it in the other languages.
  std::string path = "/";
};

// How pages link out of themselves.
struct PageLinks {
  // Where the subscribe form posts; "" leaves the form out.
  std::string subscribe_action = "/subscribe";
};

class StatusPage {
 public:
  static constexpr int kHistoryDays = 90;
  static constexpr int kHistoryPageSize = 25;
  // Incidents on the status page itself; the rest are in the history.
  static constexpr int kRecentIncidents = 10;

  explicit StatusPage(const CoreDeps& deps);

  // The clock every read is as of.
  const Clock& clock() const { return deps_.clock; }
  // The languages emails and the self-service pages can be in (Renderer::
  // Languages), and those the public pages are in: the languages whose
  // templates word the status page.
  std::vector<std::string> Languages() const {
    return deps_.renderer.Languages();
  }
  std::vector<std::string> PageLanguages() const {
    return deps_.renderer.LanguagesWith("status_page.html");
  }

  // What customers were told, read from the store at once.
  absl::StatusOr<PublicState> Read() const;

  // Statuspage's documents as projections of `state`.
  // summary.json: open incidents, upcoming and active maintenance.
  static v1::statuspage::Summary Current(const PublicState& state);
  // incidents.json: the newest `limit` incidents, resolved ones too.
  static v1::statuspage::Summary Incidents(const PublicState& state, int limit);
  // scheduled-maintenances.json and its upcoming and active subsets.
  enum class Maintenances { kAll, kUpcoming, kActive };
  static v1::statuspage::Summary MaintenancesOf(const PublicState& state,
                                                Maintenances which);
  // The incident or maintenance called `ref` (INC-12), or null.
  static const v1::statuspage::Incident* FindIncident(const PublicState& state,
                                                      absl::string_view ref);
  // How many history pages `state` fills (at least one).
  static int HistoryPages(const PublicState& state);

  // The organisation's language, which pages are in unless asked for
  // another.
  std::string DefaultLanguage() const {
    return deps_.renderer.SpokenLocale("");
  }

  // The HTML pages, in `language`: its templates' words, its formats for
  // times (in the organisation's zone) and durations, and the approved
  // translation of each update where there is one (else the text as
  // published). The subscribe form shows when self-service is on and
  // `links` gives it somewhere to post.
  absl::StatusOr<std::string> RenderHtml(
      const PublicState& state, const PageLinks& links,
      const PageLanguage& language = {}) const;
  absl::StatusOr<std::string> RenderIncidentPage(
      const PublicState& state, const v1::statuspage::Incident& incident,
      const PageLanguage& language = {}) const;
  // History page `number` (1 is the newest); NotFound past the last.
  absl::StatusOr<std::string> RenderHistoryPage(
      const PublicState& state, int number,
      const PageLanguage& language = {}) const;
  // The page a reader gets for a path the site does not have.
  absl::StatusOr<std::string> RenderNotFound(
      const PublicState& state, const PageLanguage& language = {}) const;
  // The Atom feed of published updates, newest first. Entry ids derive
  // from the message, so they never change once published.
  absl::StatusOr<std::string> RenderAtom(const PublicState& state) const;

  absl::StatusOr<std::string> RenderSelfService(
      const SelfServicePage& page) const;

  // Shorthands that read and render at once.
  absl::StatusOr<v1::statuspage::Summary> Summary() const;
  absl::StatusOr<v1::statuspage::Summary> History(int limit) const;
  absl::StatusOr<std::string> RenderHtml() const;
  absl::StatusOr<std::string> RenderAtom() const;

 private:
  // The values every page's frame shows, in `language`: the page's name
  // and overall status, when it was updated, and the links to this page in
  // each language.
  TemplateContext PageFrame(const PublicState& state,
                            const PageLanguage& language) const;
  // The subscribe (and preferences) form's values: components, ticked as
  // `checked`; the languages to choose from and, with `time_zones`, the
  // time zones (`offer_time_zones`), with `locale` and `time_zone` chosen
  // ("": the organisation's default, which is offered first).
  void AddSubscribeForm(const std::vector<std::string>& checked,
                        absl::string_view locale, absl::string_view time_zone,
                        bool time_zones, TemplateContext& ctx) const;

  const CoreDeps& deps_;
};

}  // namespace herald

#endif  // HERALD_SERVER_STATUSPAGE_STATUS_PAGE_H_
