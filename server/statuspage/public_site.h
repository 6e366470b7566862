// The public site: every document a customer, a customer's widget or a
// feed reader can fetch, by path, each a pure function of one PublicState.
// heraldd's routes serve them (from memory, once per change) and the static
// mirror writes the same bytes as files, so that both always agree.
//
// Paths: "/", "/history" and "/history/N", "/incidents/INC-n", the Atom
// feed "/history.atom", and Statuspage's JSON under "/api/v2/". An unknown
// incident, one never made public, or a history page past the last gets the
// not-found page with status 404 (not a soft 200).
//
// The HTML pages are in every language herald has templates for: under
// that language's prefix ("/de/", "/de/history", "/de/incidents/INC-n"),
// and without one in the language the caller picked for the reader (from
// Accept-Language; the organisation's by default). The feed and the JSON
// are in the organisation's language only: scripts read them. Thread-safe.
#ifndef HERALD_SERVER_STATUSPAGE_PUBLIC_SITE_H_
#define HERALD_SERVER_STATUSPAGE_PUBLIC_SITE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/core/event_hub.h"
#include "server/statuspage/status_page.h"

namespace herald {

struct PublicDocument {
  int status = 200;  // 404: the not-found page
  std::string content_type;
  std::string body;
  // JSON or a feed: data that scripts on other sites may read (CORS).
  bool data = false;
  // A page's language tag (Content-Language); "" for data.
  std::string language;
  // Whether the page is in the reader's language, chosen by the caller
  // (Vary: Accept-Language), rather than in its prefix's.
  bool negotiated = false;
};

class PublicSite {
 public:
  explicit PublicSite(const StatusPage& page);

  // The languages the pages are in (StatusPage::Languages), and the one a
  // page without a prefix is in unless the caller picks another.
  const std::vector<std::string>& languages() const { return languages_; }
  const std::string& default_language() const { return default_language_; }

  // `path` split into a language's prefix and the page under it:
  // "/de/history" is {"de", "/history"}, "/de" and "/de/" are {"de", "/"}.
  // A path without one is {"", path}.
  struct Located {
    std::string language;
    std::string path;
  };
  Located Locate(absl::string_view path) const;

  // Whether `path` is the site's to answer (with the document, or with
  // the not-found page for an unknown incident or history page).
  bool Covers(absl::string_view path) const;
  // Whether `state` has a document at `path` (else it is the not-found
  // page, the same for every such path in one language).
  bool Has(const PublicState& state, absl::string_view path) const;
  // Whether the document at `path`, which Covers, is a page without a
  // language prefix: it is in whichever language the caller picks.
  bool Negotiates(absl::string_view path) const;
  // The language of the site a reader whose browser sent
  // `accept_language` reads best; the default when none fits.
  std::string LanguageFor(absl::string_view accept_language) const;

  // The paths every site has, whatever its state, in no language.
  static const std::vector<std::string>& FixedPaths();
  // Every path the site has for `state`: the fixed ones, each history page
  // and each public incident's page; and each page again under each
  // language's prefix.
  std::vector<std::string> Paths(const PublicState& state) const;

  // The document at `path`, which Covers; a page without a language prefix
  // in `language` ("": the default). A renderer error is returned.
  absl::StatusOr<PublicDocument> Render(const PublicState& state,
                                        absl::string_view path,
                                        const PageLinks& links,
                                        absl::string_view language = "") const;

 private:
  const StatusPage& page_;
  const std::vector<std::string> languages_;
  const std::string default_language_;
};

// The PublicState, read again only once something public may have changed:
// when the EventHub has counted a change since the last read (core counts
// every committed change before the call that made it returns), or once
// `refresh` has passed (for what moves with time alone: the day bars, the
// uptime, maintenance starting). Concurrent callers share one read. When
// the store cannot be read, the last state read is kept (and the store
// asked again after `refresh`): the page outlives the store.
// Thread-safe.
class PublicStateCache {
 public:
  // Null `changes`: every Get reads. Time is the page's clock.
  PublicStateCache(const StatusPage& page, const EventHub* changes,
                   absl::Duration refresh);

  absl::StatusOr<std::shared_ptr<const PublicState>> Get();
  // The state when one is kept and fresh, else null: a lookup that never
  // waits for a read, quick enough for an I/O thread.
  std::shared_ptr<const PublicState> Fresh();

 private:
  const StatusPage& page_;
  const EventHub* const changes_;
  const absl::Duration refresh_;
  absl::Mutex read_mu_;  // one read of the store at a time
  absl::Mutex mu_;       // held only to look at or swap what is kept
  std::shared_ptr<const PublicState> state_ ABSL_GUARDED_BY(mu_);
  uint64_t read_at_changes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time read_at_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald

#endif  // HERALD_SERVER_STATUSPAGE_PUBLIC_SITE_H_
