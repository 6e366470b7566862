#include "server/http/public_document.h"

#include <zlib.h>

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/base/secret_token.h"

namespace herald {
namespace {

// `body` as a gzip stream; "" if zlib fails (then it is sent as is).
std::string Gzip(absl::string_view body) {
  z_stream z{};
  // 15 + 16: a gzip header and trailer around the deflate stream.
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return "";
  }
  std::string out(deflateBound(&z, body.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : "";
}

// An entity tag without its weakness marker: W/"x" and "x" compare equal.
absl::string_view Opaque(absl::string_view tag) {
  tag = absl::StripAsciiWhitespace(tag);
  absl::ConsumePrefix(&tag, "W/");
  return tag;
}

}  // namespace

std::string PublicCacheControl(const PublicCaching& caching) {
  return absl::StrCat(
      "public, max-age=0, s-maxage=", absl::ToInt64Seconds(caching.max_age),
      ", stale-if-error=", absl::ToInt64Seconds(caching.stale_if_error));
}

std::string PublicCdnCacheControl(const PublicCaching& caching) {
  return absl::StrCat(
      "public, max-age=", absl::ToInt64Seconds(caching.max_age),
      ", stale-while-revalidate=",
      absl::ToInt64Seconds(caching.stale_while_revalidate),
      ", stale-if-error=", absl::ToInt64Seconds(caching.stale_if_error));
}

bool AcceptsGzip(absl::string_view accept_encoding) {
  for (absl::string_view part : absl::StrSplit(accept_encoding, ',')) {
    std::vector<absl::string_view> params = absl::StrSplit(part, ';');
    const absl::string_view coding = absl::StripAsciiWhitespace(params[0]);
    if (!absl::EqualsIgnoreCase(coding, "gzip") &&
        !absl::EqualsIgnoreCase(coding, "x-gzip")) {
      continue;
    }
    double q = 1;
    for (size_t i = 1; i < params.size(); ++i) {
      absl::string_view p = absl::StripAsciiWhitespace(params[i]);
      if (absl::ConsumePrefix(&p, "q=") && !absl::SimpleAtod(p, &q)) q = 0;
    }
    return q > 0;
  }
  return false;
}

bool IfNoneMatchHolds(absl::string_view if_none_match, absl::string_view etag) {
  if (absl::StripAsciiWhitespace(if_none_match) == "*") return true;
  for (absl::string_view tag : absl::StrSplit(if_none_match, ',')) {
    if (Opaque(tag) == Opaque(etag)) return true;
  }
  return false;
}

std::string HttpDate(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone());
}

namespace {

// Fills `document`'s entity tags and header lines from its rendered reply,
// digest, gzipped bytes and modified time.
void SerializeHeads(const PublicCaching& caching, PreparedDocument& document) {
  const HttpReply& rendered = document.rendered;
  // What every answer carries, then what only a 200 does.
  std::string common;
  const auto line = [](std::string& into, absl::string_view name,
                       absl::string_view value) {
    absl::StrAppend(&into, name, ": ", value, "\r\n");
  };
  line(common, "Content-Type", rendered.content_type);
  // Every document varies with Accept-Encoding; one rendered for the
  // reader's language says what else, in the same field.
  std::string vary = "Accept-Encoding";
  for (const auto& [name, value] : rendered.headers) {
    if (absl::EqualsIgnoreCase(name, "Vary")) {
      absl::StrAppend(&vary, ", ", value);
    } else {
      line(common, name, value);
    }
  }
  line(common, "Cache-Control", PublicCacheControl(caching));
  line(common, "CDN-Cache-Control", PublicCdnCacheControl(caching));
  line(common, "Vary", vary);
  if (document.modified != absl::InfinitePast()) {
    line(common, "Last-Modified", HttpDate(document.modified));
  }
  for (int gzip = 0; gzip < 2; ++gzip) {
    if (gzip == 1 && document.gzipped.empty()) break;
    // One tag per representation: the gzipped bytes are another entity.
    document.etag[gzip] =
        absl::StrCat("\"", document.digest, gzip == 1 ? "-gzip" : "", "\"");
    std::string tagged = common;
    line(tagged, "ETag", document.etag[gzip]);
    document.not_modified_head[gzip] = tagged;
    if (gzip == 1) line(tagged, "Content-Encoding", "gzip");
    line(tagged, "Content-Length",
         absl::StrCat(gzip == 1 ? document.gzipped.size()
                                : rendered.body.size()));
    document.head[gzip] = std::move(tagged);
  }
}

}  // namespace

PreparedDocument PrepareDocument(HttpReply rendered,
                                 const PublicCaching& caching,
                                 absl::Time modified) {
  PreparedDocument out;
  out.modified = modified;
  // A 404 (the not-found page) is kept and cached too: a client asking
  // for one unknown path after another costs a lookup, not a render.
  if (rendered.status == 200 || rendered.status == 404) {
    out.digest = Sha256Hex(rendered.body).substr(0, 32);
    out.gzipped = Gzip(rendered.body);
    out.rendered = std::move(rendered);
    SerializeHeads(caching, out);
    return out;
  }
  out.rendered = std::move(rendered);
  return out;
}

HttpReply AnswerPublicDocument(
    const HttpRequest& request,
    const std::shared_ptr<const PreparedDocument>& prepared) {
  const PreparedDocument& document = *prepared;
  const HttpReply& rendered = document.rendered;
  if (document.digest.empty()) {
    HttpReply reply = rendered;
    reply.headers.emplace_back("Cache-Control", "no-store");
    return reply;
  }
  const int gzip =
      !document.gzipped.empty() && AcceptsGzip(request.accept_encoding) ? 1 : 0;
  const std::string& etag = document.etag[gzip];
  const bool known = document.modified != absl::InfinitePast();
  // An entity tag, when the client sends one, decides alone (RFC 9110
  // 13.2.2); else the date, to the second.
  absl::Time since;
  const bool not_modified =
      rendered.status != 200 ? false
      : !request.if_none_match.empty()
          ? IfNoneMatchHolds(request.if_none_match, etag)
          : known && !request.if_modified_since.empty() &&
                absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT",
                                request.if_modified_since, absl::UTCTimeZone(),
                                &since, nullptr) &&
                absl::ToUnixSeconds(document.modified) <=
                    absl::ToUnixSeconds(since);
  // Neither the bytes nor the header lines are copied.
  HttpReply reply{.status = not_modified ? 304 : rendered.status};
  reply.serialized =
      SerializedReply{.owner = prepared,
                      .head = not_modified ? document.not_modified_head[gzip]
                                           : document.head[gzip],
                      .body = not_modified ? absl::string_view()
                              : gzip == 1  ? absl::string_view(document.gzipped)
                                           : absl::string_view(rendered.body)};
  return reply;
}

HttpReply ServePublicDocument(const HttpRequest& request, HttpReply rendered,
                              const PublicCaching& caching) {
  return AnswerPublicDocument(
      request, std::make_shared<const PreparedDocument>(
                   PrepareDocument(std::move(rendered), caching)));
}

PublicDocumentCache::PublicDocumentCache(const Clock& clock,
                                         const EventHub& changes,
                                         absl::Duration refresh,
                                         PublicCaching caching)
    : clock_(clock), changes_(changes), refresh_(refresh), caching_(caching) {}

std::shared_ptr<const PreparedDocument> PublicDocumentCache::Fresh(
    const std::string& path) {
  const uint64_t changes = changes_.changes();
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(path);
  if (it == entries_.end() || it->second.changes != changes ||
      now - it->second.rendered_at >= refresh_) {
    return nullptr;
  }
  return it->second.document;
}

std::shared_ptr<const PreparedDocument> PublicDocumentCache::Get(
    const std::string& path, absl::FunctionRef<HttpReply()> render,
    bool* rendered) {
  // Read before rendering: a change committed meanwhile leaves this copy
  // stale for the next request.
  const uint64_t changes = changes_.changes();
  const absl::Time now = clock_.Now();
  if (std::shared_ptr<const PreparedDocument> fresh = Fresh(path)) {
    if (rendered != nullptr) *rendered = false;
    return fresh;
  }
  PreparedDocument prepared = PrepareDocument(render(), caching_, now);
  if (rendered != nullptr) *rendered = true;
  if (prepared.digest.empty()) {
    return std::make_shared<const PreparedDocument>(std::move(prepared));
  }
  absl::MutexLock lock(&mu_);
  Entry& entry = entries_[path];
  // The same bytes as before: modified when they first appeared.
  if (entry.document != nullptr && entry.document->digest == prepared.digest &&
      entry.document->modified != prepared.modified) {
    prepared.modified = entry.document->modified;
    SerializeHeads(caching_, prepared);
  } else if (entry.document != nullptr &&
             entry.document->digest != prepared.digest &&
             absl::ToUnixSeconds(prepared.modified) <=
                 absl::ToUnixSeconds(entry.document->modified)) {
    // New bytes within the second of the old ones: Last-Modified has
    // whole seconds, and a client holding the old ones must not get a 304
    // for them by date.
    prepared.modified = absl::FromUnixSeconds(
        absl::ToUnixSeconds(entry.document->modified) + 1);
    SerializeHeads(caching_, prepared);
  }
  auto document = std::make_shared<const PreparedDocument>(std::move(prepared));
  // Keep the newest render of several at once.
  if (entry.document == nullptr || changes >= entry.changes) {
    entry = Entry{document, changes, now};
  }
  return document;
}

}  // namespace herald
