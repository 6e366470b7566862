// How heraldd answers for a public document (the page, the feed, the JSON):
// so that a CDN in front can keep it and absorb an outage's traffic, while a
// customer's browser never shows an older state than heraldd's. A rendered
// document gets a strong ETag (a digest of its bytes), gzip when the client
// accepts it (Vary: Accept-Encoding), and 304 Not Modified when the client
// already holds it (If-None-Match). Browsers revalidate on every visit
// (max-age=0; a 304 carries no body); shared caches keep it for `max_age`
// (s-maxage), and CDNs that read CDN-Cache-Control (RFC 9213) may also serve
// it stale while they revalidate and while heraldd fails or is down. A
// failed render is never cached. Stateless; thread-safe.
#ifndef HERALD_SERVER_HTTP_PUBLIC_DOCUMENT_H_
#define HERALD_SERVER_HTTP_PUBLIC_DOCUMENT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
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

// `rendered` (a 200 reply) as `request` should get it: 304 when its
// If-None-Match names this representation, else the body, gzipped when the
// request's Accept-Encoding takes gzip. Any other status: `rendered` with
// Cache-Control: no-store.
HttpReply ServePublicDocument(const HttpRequest& request, HttpReply rendered,
                              const PublicCaching& caching);

// Whether an Accept-Encoding header value takes gzip (q > 0).
bool AcceptsGzip(absl::string_view accept_encoding);

// Whether an If-None-Match header value matches `etag` (weak comparison, as
// RFC 9110 says for If-None-Match; "*" matches any).
bool IfNoneMatchHolds(absl::string_view if_none_match, absl::string_view etag);

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_PUBLIC_DOCUMENT_H_
