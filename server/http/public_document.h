// How heraldd answers for a public document (the page, the feed, the JSON):
// so that a CDN in front can keep it and absorb an outage's traffic, while a
// customer's browser never shows an older state than heraldd's. A rendered
// document gets a strong ETag (a digest of its bytes), gzip when the client
// accepts it (Vary: Accept-Encoding), and 304 Not Modified when the client
// already holds it (If-None-Match, or If-Modified-Since against its
// Last-Modified when it sends no entity tag). Browsers revalidate on every
// visit (max-age=0; a 304 carries no body); shared caches keep it for `max_age`
// (s-maxage), and CDNs that read CDN-Cache-Control (RFC 9213) may also serve
// it stale while they revalidate and while heraldd fails or is down. A
// failed render is never cached. Stateless; thread-safe.
#ifndef HERALD_SERVER_HTTP_PUBLIC_DOCUMENT_H_
#define HERALD_SERVER_HTTP_PUBLIC_DOCUMENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/base/clock.h"
#include "server/core/event_hub.h"
#include "server/http/http_message.h"

namespace herald {

struct PublicCaching {
  absl::Duration max_age = absl::Seconds(10);
  // How long a cache may serve a stale copy while it fetches a fresh one,
  // and while heraldd answers with errors or not at all.
  absl::Duration stale_while_revalidate = absl::Minutes(1);
  absl::Duration stale_if_error = absl::Hours(24);
};

// The Cache-Control and CDN-Cache-Control values of a public document under
// `caching`.
std::string PublicCacheControl(const PublicCaching& caching);
std::string PublicCdnCacheControl(const PublicCaching& caching);

// A rendered document made ready to answer many requests: its digest (the
// ETag), its gzipped bytes, and the header lines of each representation
// (as is, gzipped) and of its 304s, serialized once.
struct PreparedDocument {
  HttpReply rendered;
  // "" when `rendered` is neither a 200 nor a 404 (never cached).
  std::string digest;
  std::string gzipped;  // "" when zlib failed: it goes as is
  // Since when these bytes are what the path shows (Last-Modified);
  // InfinitePast when unknown (no Last-Modified then).
  absl::Time modified = absl::InfinitePast();
  // Per representation, 0 as is and 1 gzipped: the entity tag, and the
  // header lines of a 200 and of a 304 (SerializedReply::head).
  std::string etag[2];
  std::string head[2];
  std::string not_modified_head[2];
};
PreparedDocument PrepareDocument(HttpReply rendered,
                                 const PublicCaching& caching,
                                 absl::Time modified = absl::InfinitePast());

// `document` as `request` should get it: 304 when its If-None-Match names
// this representation (a 200 only), else the body, gzipped when the
// request's Accept-Encoding takes gzip. A document that is neither a 200
// nor a 404: as rendered, with Cache-Control: no-store.
// A 200 or 304 is a SerializedReply that shares the document's bytes.
HttpReply AnswerPublicDocument(
    const HttpRequest& request,
    const std::shared_ptr<const PreparedDocument>& document);
// The same for a document rendered for this request alone.
HttpReply ServePublicDocument(const HttpRequest& request, HttpReply rendered,
                              const PublicCaching& caching);

// Renders each public document once per change and keeps it prepared, so
// that serving one is a lookup. An entry is stale once the EventHub has
// counted a change since it was rendered (core announces every committed
// change before the call that made it returns), or once `refresh` has
// passed (for what changes with time alone, such as maintenance starting).
// A document that did not render is not kept. Thread-safe.
class PublicDocumentCache {
 public:
  PublicDocumentCache(const Clock& clock, const EventHub& changes,
                      absl::Duration refresh, PublicCaching caching = {});

  // The fresh copy of the document at `path`, or null when none is kept:
  // a lookup, quick enough for an I/O thread.
  std::shared_ptr<const PreparedDocument> Fresh(const std::string& path);

  // The document at `path`, rendered by `render` when no fresh copy is
  // kept. `rendered` (if not null) is set to whether it was rendered now.
  // Its Last-Modified is when its bytes last changed: rendering the same
  // bytes again keeps it.
  std::shared_ptr<const PreparedDocument> Get(
      const std::string& path, absl::FunctionRef<HttpReply()> render,
      bool* rendered = nullptr);

 private:
  struct Entry {
    std::shared_ptr<const PreparedDocument> document;
    uint64_t changes = 0;  // EventHub::changes() before it was rendered
    absl::Time rendered_at;
  };

  const Clock& clock_;
  const EventHub& changes_;
  const absl::Duration refresh_;
  const PublicCaching caching_;
  absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

// Whether an Accept-Encoding header value takes gzip (q > 0).
bool AcceptsGzip(absl::string_view accept_encoding);

// `t` as an HTTP date (IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string HttpDate(absl::Time t);

// Whether an If-None-Match header value matches `etag` (weak comparison, as
// RFC 9110 says for If-None-Match; "*" matches any).
bool IfNoneMatchHolds(absl::string_view if_none_match, absl::string_view etag);

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_PUBLIC_DOCUMENT_H_
