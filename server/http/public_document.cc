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

HttpReply ServePublicDocument(const HttpRequest& request, HttpReply rendered,
                              const PublicCaching& caching) {
  if (rendered.status != 200) {
    rendered.headers.emplace_back("Cache-Control", "no-store");
    return rendered;
  }
  const std::string digest = Sha256Hex(rendered.body).substr(0, 32);
  const bool gzip = AcceptsGzip(request.accept_encoding);
  // One tag per representation: the gzipped bytes are another entity.
  const std::string etag =
      absl::StrCat("\"", digest, gzip ? "-gzip" : "", "\"");
  std::vector<std::pair<std::string, std::string>> caching_headers = {
      {"ETag", etag},
      {"Cache-Control", PublicCacheControl(caching)},
      {"CDN-Cache-Control", PublicCdnCacheControl(caching)},
      {"Vary", "Accept-Encoding"},
  };
  if (!request.if_none_match.empty() &&
      IfNoneMatchHolds(request.if_none_match, etag)) {
    HttpReply not_modified;
    not_modified.status = 304;
    not_modified.content_type = rendered.content_type;
    not_modified.headers = std::move(rendered.headers);
    for (auto& h : caching_headers) not_modified.headers.push_back(h);
    return not_modified;
  }
  if (gzip) {
    std::string zipped = Gzip(rendered.body);
    if (!zipped.empty()) {
      rendered.body = std::move(zipped);
      rendered.headers.emplace_back("Content-Encoding", "gzip");
    } else {
      caching_headers[0].second = absl::StrCat("\"", digest, "\"");  // as is
    }
  }
  for (auto& h : caching_headers) rendered.headers.push_back(std::move(h));
  return rendered;
}

}  // namespace herald
