// Public documents can be kept by browsers and a CDN: ETag and 304,
// Cache-Control, gzip, CORS on the data; and a change shows at once.
#include "server/http/public_document.h"

#include <zlib.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/http/http_server_fixture.h"

namespace herald {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

// `zipped` inflated from gzip; "" when it is not a gzip stream.
std::string Gunzip(const std::string& zipped) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return "";
  std::string out;
  char buf[16 * 1024];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zipped.data()));
  z.avail_in = static_cast<uInt>(zipped.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "";
}

// The value of header `name`, from the reply's headers or its serialized
// header lines.
std::string HeaderOf(const HttpReply& reply, const std::string& name) {
  if (reply.serialized) {
    for (absl::string_view line :
         absl::StrSplit(reply.serialized->head, "\r\n")) {
      if (absl::ConsumePrefix(&line, name + ": ")) return std::string(line);
    }
    return "";
  }
  for (const auto& [n, v] : reply.headers) {
    if (n == name) return v;
  }
  return "";
}

// The body a reply carries, serialized or not.
std::string BodyOf(const HttpReply& reply) {
  return reply.serialized ? std::string(reply.serialized->body) : reply.body;
}

std::shared_ptr<const PreparedDocument> Prepared(
    HttpReply rendered, absl::Time modified = absl::InfinitePast()) {
  return std::make_shared<const PreparedDocument>(
      PrepareDocument(std::move(rendered), {}, modified));
}

HttpReply Rendered(std::string body) {
  return HttpReply{.status = 200,
                   .content_type = "application/json",
                   .body = std::move(body)};
}

TEST(AcceptsGzipTest, ReadsTheCodingsAndTheirWeights) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, GZIP;q=0.5, br"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("br, deflate"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("gzipped"));
}

TEST(IfNoneMatchTest, ComparesTagsWeaklyAndTakesListsAndStar) {
  EXPECT_TRUE(IfNoneMatchHolds("\"a1\"", "\"a1\""));
  EXPECT_TRUE(IfNoneMatchHolds("W/\"a1\"", "\"a1\""));
  EXPECT_TRUE(IfNoneMatchHolds("\"b2\", \"a1\"", "\"a1\""));
  EXPECT_TRUE(IfNoneMatchHolds(" * ", "\"a1\""));
  EXPECT_FALSE(IfNoneMatchHolds("\"a2\"", "\"a1\""));
  EXPECT_FALSE(IfNoneMatchHolds("a1", "\"a1\""));
}

TEST(ServePublicDocumentTest, TheSameBytesGetTheSameTagAndOthersAnother) {
  const PublicCaching caching{.max_age = absl::Seconds(30)};
  const HttpReply a = ServePublicDocument({}, Rendered("{\"a\":1}"), caching);
  const HttpReply again =
      ServePublicDocument({}, Rendered("{\"a\":1}"), caching);
  const HttpReply b = ServePublicDocument({}, Rendered("{\"a\":2}"), caching);
  EXPECT_THAT(HeaderOf(a, "ETag"), StartsWith("\""));
  EXPECT_EQ(HeaderOf(a, "ETag"), HeaderOf(again, "ETag"));
  EXPECT_NE(HeaderOf(a, "ETag"), HeaderOf(b, "ETag"));
  // Browsers ask again on every visit; a CDN keeps it for max_age.
  EXPECT_EQ(HeaderOf(a, "Cache-Control"),
            "public, max-age=0, s-maxage=30, stale-if-error=86400");
  EXPECT_EQ(HeaderOf(a, "CDN-Cache-Control"),
            "public, max-age=30, stale-while-revalidate=60, "
            "stale-if-error=86400");
  EXPECT_EQ(HeaderOf(a, "Vary"), "Accept-Encoding");
  EXPECT_EQ(BodyOf(a), "{\"a\":1}");
}

TEST(ServePublicDocumentTest, AClientHoldingItGets304WithNoBody) {
  const HttpReply first = ServePublicDocument({}, Rendered("doc"), {});
  HttpRequest again;
  again.if_none_match = HeaderOf(first, "ETag");
  const HttpReply reply = ServePublicDocument(again, Rendered("doc"), {});
  EXPECT_EQ(reply.status, 304);
  EXPECT_THAT(BodyOf(reply), IsEmpty());
  EXPECT_EQ(HeaderOf(reply, "ETag"), HeaderOf(first, "ETag"));
  EXPECT_THAT(HeaderOf(reply, "Cache-Control"), StartsWith("public"));
}

TEST(ServePublicDocumentTest, LastModifiedAnswersIfModifiedSinceWithoutATag) {
  const absl::Time modified = absl::FromUnixSeconds(1764410400);  // whole
  const auto doc = Prepared(Rendered("doc"), modified);
  const HttpReply first = AnswerPublicDocument({}, doc);
  EXPECT_EQ(HeaderOf(first, "Last-Modified"), "Sat, 29 Nov 2025 10:00:00 GMT");
  HttpRequest since;
  since.if_modified_since = HeaderOf(first, "Last-Modified");
  EXPECT_EQ(AnswerPublicDocument(since, doc).status, 304);
  since.if_modified_since = HttpDate(modified + absl::Hours(1));
  EXPECT_EQ(AnswerPublicDocument(since, doc).status, 304);
  since.if_modified_since = HttpDate(modified - absl::Seconds(1));
  EXPECT_EQ(AnswerPublicDocument(since, doc).status, 200);
  since.if_modified_since = "not a date";
  EXPECT_EQ(AnswerPublicDocument(since, doc).status, 200);
  // A tag, when sent, decides alone: a stale tag gets the body.
  since.if_modified_since = HeaderOf(first, "Last-Modified");
  since.if_none_match = "\"older\"";
  EXPECT_EQ(AnswerPublicDocument(since, doc).status, 200);
  // Without a known time, neither the header nor a 304 by date.
  const auto undated = Prepared(Rendered("doc"));
  HttpRequest dated;
  dated.if_modified_since = HttpDate(modified);
  const HttpReply reply = AnswerPublicDocument(dated, undated);
  EXPECT_EQ(reply.status, 200);
  EXPECT_THAT(HeaderOf(reply, "Last-Modified"), IsEmpty());
}

TEST(ServePublicDocumentTest, GzipIsAnotherRepresentationOfTheSameBytes) {
  const std::string body(5000, 'x');
  HttpRequest zip;
  zip.accept_encoding = "gzip";
  const HttpReply zipped = ServePublicDocument(zip, Rendered(body), {});
  const HttpReply plain = ServePublicDocument({}, Rendered(body), {});
  EXPECT_EQ(HeaderOf(zipped, "Content-Encoding"), "gzip");
  EXPECT_LT(BodyOf(zipped).size(), body.size());
  EXPECT_EQ(Gunzip(BodyOf(zipped)), body);
  EXPECT_THAT(HeaderOf(zipped, "ETag"), EndsWith("-gzip\""));
  EXPECT_NE(HeaderOf(zipped, "ETag"), HeaderOf(plain, "ETag"));
  // A client holding the plain copy that now takes gzip gets the gzip one.
  zip.if_none_match = HeaderOf(plain, "ETag");
  EXPECT_EQ(ServePublicDocument(zip, Rendered(body), {}).status, 200);
}

TEST(ServePublicDocumentTest, AFailedRenderIsNeverCached) {
  HttpReply failed = Rendered("internal error");
  failed.status = 500;
  const HttpReply reply = ServePublicDocument({}, std::move(failed), {});
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(HeaderOf(reply, "Cache-Control"), "no-store");
  EXPECT_THAT(HeaderOf(reply, "ETag"), IsEmpty());
}

class PublicDocumentCacheTest : public ::testing::Test {
 protected:
  // Gets "/" from the cache; returns whether it was rendered now.
  bool Fetch(int status = 200) {
    bool rendered = false;
    doc_ = cache_.Get(
        "/",
        [&] {
          ++renders_;
          HttpReply r = Rendered(absl::StrCat("render ", renders_));
          r.status = status;
          return r;
        },
        &rendered);
    return rendered;
  }

  FakeClock clock_{testing::TestEpoch()};
  EventHub hub_;
  PublicDocumentCache cache_{clock_, hub_, absl::Seconds(1)};
  std::shared_ptr<const PreparedDocument> doc_;
  int renders_ = 0;
};

TEST_F(PublicDocumentCacheTest, ADocumentIsRenderedOnceUntilAChangeIsCounted) {
  EXPECT_TRUE(Fetch());
  EXPECT_FALSE(Fetch());
  EXPECT_FALSE(Fetch());
  EXPECT_EQ(doc_->rendered.body, "render 1");
  hub_.CountChange();
  EXPECT_TRUE(Fetch());
  EXPECT_EQ(doc_->rendered.body, "render 2");
  EXPECT_FALSE(Fetch());
}

TEST_F(PublicDocumentCacheTest, ACopyIsRenderedAgainOnceItsRefreshHasPassed) {
  EXPECT_TRUE(Fetch());
  clock_.Advance(absl::Milliseconds(999));
  EXPECT_FALSE(Fetch());
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(Fetch());
}

TEST_F(PublicDocumentCacheTest, LastModifiedMovesOnlyWhenTheBytesDo) {
  const auto fetch = [&](const std::string& body) {
    doc_ = cache_.Get("/", [&] { return Rendered(body); });
    return doc_->modified;
  };
  const absl::Time first = clock_.Now();
  EXPECT_EQ(fetch("same"), first);
  clock_.Advance(absl::Seconds(5));  // past the refresh: rendered again
  EXPECT_EQ(fetch("same"), first) << "the same bytes";
  hub_.CountChange();
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(fetch("other"), clock_.Now());
}

TEST_F(PublicDocumentCacheTest, NewBytesWithinTheSameSecondAreDatedLater) {
  const auto fetch = [&](const std::string& body) {
    doc_ = cache_.Get("/", [&] { return Rendered(body); });
    return doc_->modified;
  };
  const absl::Time first = fetch("one");
  hub_.CountChange();
  clock_.Advance(absl::Milliseconds(300));
  const absl::Time second = fetch("two");
  EXPECT_GT(absl::ToUnixSeconds(second), absl::ToUnixSeconds(first));
  HttpRequest since;
  since.if_modified_since = HttpDate(first);
  EXPECT_EQ(AnswerPublicDocument(since, doc_).status, 200)
      << "a client holding the first bytes gets the second";
}

TEST_F(PublicDocumentCacheTest, AFailedRenderIsNotKept) {
  EXPECT_TRUE(Fetch(/*status=*/500));
  EXPECT_TRUE(doc_->digest.empty());
  EXPECT_TRUE(Fetch());
  EXPECT_FALSE(Fetch());
}

class PublicDocumentHttpTest : public http_testing::HttpServerTest {
 protected:
  // Opens an incident and publishes an approved update titled `title`.
  void PublishUpdate(const std::string& title) {
    const int64_t id =
        h_.intake.Ingest(testing::FiringGroup("g1", "checkout", {"fp1"}))
            ->incident_id;
    const v1::Message draft =
        h_.workflow.PostUpdate(testing::Engineer(), id, "rolled back", {})
            ->draft;
    ASSERT_TRUE(h_.workflow
                    .Edit(testing::CommsLead(), draft.id(), 0, title,
                          "We rolled back the release.")
                    .ok());
    ASSERT_TRUE(
        h_.workflow.Approve(testing::CommsLead(), draft.id(), 0, kAsWritten)
            .ok());
  }
};

TEST_F(PublicDocumentHttpTest, EveryPublicDocumentCanBeCachedAndTheDataShared) {
  for (const std::string& path : PublicDocumentPaths()) {
    auto r = client_->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_THAT(r->get_header_value("ETag"), StartsWith("\"")) << path;
    EXPECT_EQ(r->get_header_value("Cache-Control"),
              "public, max-age=0, s-maxage=10, stale-if-error=86400")
        << path;
    EXPECT_EQ(r->get_header_value("CDN-Cache-Control"),
              "public, max-age=10, stale-while-revalidate=60, "
              "stale-if-error=86400")
        << path;
    // A page without a language prefix is in the reader's language.
    const bool page = path == "/" || path == "/history";
    EXPECT_EQ(r->get_header_value("Vary"),
              page ? "Accept-Encoding, Accept-Language" : "Accept-Encoding")
        << path;
    EXPECT_EQ(r->get_header_value("Content-Language"), page ? "en" : "")
        << path;
    http_testing::ExpectCorsOnDataOnly(*r, path);
  }
  // Health and metrics are for operators, and never kept.
  for (const char* path : {"/healthz", "/readyz", "/metrics"}) {
    EXPECT_FALSE(client_->Get(path)->has_header("ETag")) << path;
  }
}

TEST_F(PublicDocumentHttpTest, AnApprovalShowsAtTheNextGetEvenToAHeldCopy) {
  auto first = client_->Get("/api/v2/summary.json");
  ASSERT_EQ(first->status, 200);
  const std::string etag = first->get_header_value("ETag");
  auto unchanged =
      client_->Get("/api/v2/summary.json", {{"If-None-Match", etag}});
  EXPECT_EQ(unchanged->status, 304);
  EXPECT_THAT(unchanged->body, IsEmpty());

  PublishUpdate("Checkout errors");
  for (const std::string& path : PublicDocumentPaths()) {
    auto after = client_->Get(path, {{"If-None-Match", etag}});
    EXPECT_EQ(after->status, 200) << path;
  }
  auto after = client_->Get("/api/v2/summary.json", {{"If-None-Match", etag}});
  EXPECT_NE(after->get_header_value("ETag"), etag);
  EXPECT_THAT(after->body, HasSubstr("Checkout errors"));
}

TEST_F(PublicDocumentHttpTest, UnknownPathsShareOneKeptNotFoundPage) {
  auto renders = [&] {
    return h_.http_metrics.public_renders.Add({{"path", "/incidents/"}})
               .Value() +
           h_.http_metrics.public_renders.Add({{"path", "/history/"}}).Value();
  };
  for (const std::string path :
       {"/incidents/INC-1", "/incidents/INC-999", "/incidents/x%00y",
        "/history/2", "/incidents/INC-1"}) {
    auto r = client_->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_THAT(r->body, HasSubstr("Not found")) << path;
    // Kept by a CDN too, like any public document, for a short while.
    EXPECT_THAT(r->get_header_value("Cache-Control"), StartsWith("public"))
        << path;
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  }
  EXPECT_EQ(renders(), 1) << "one render for every unknown path";
  // Once the incident is public, its page is there at the next request.
  PublishUpdate("Checkout errors");
  auto r = client_->Get("/incidents/INC-1");
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("Checkout errors"));
  // A 404 is never a 304, whatever the client holds.
  httplib::Headers held = {{"If-None-Match", "*"}};
  EXPECT_EQ(client_->Get("/incidents/INC-2", held)->status, 404);
}

TEST_F(PublicDocumentHttpTest, APageIsInTheReadersLanguageOrInItsPrefixes) {
  PublishUpdate("Checkout errors");
  const auto get = [&](const std::string& path, const std::string& accept) {
    httplib::Headers headers;
    if (!accept.empty()) headers.emplace("Accept-Language", accept);
    auto r = client_->Get(path, headers);
    EXPECT_TRUE(r) << path;
    return r;
  };
  auto renders = [&] {
    return h_.http_metrics.public_renders.Add({{"path", "/"}}).Value();
  };
  // Without a prefix, as the browser asks; each language kept apart.
  for (int i = 0; i < 2; ++i) {
    auto german = get("/", "de-AT,de;q=0.9,en;q=0.5");
    EXPECT_EQ(german->get_header_value("Content-Language"), "de");
    EXPECT_EQ(german->get_header_value("Vary"),
              "Accept-Encoding, Accept-Language");
    EXPECT_THAT(german->body, HasSubstr("<html lang=\"de\">"));
    EXPECT_THAT(german->body, HasSubstr("Komponenten"));
    auto english = get("/", "fr-CH, fr;q=0.9");  // no French: the default
    EXPECT_EQ(english->get_header_value("Content-Language"), "en");
    EXPECT_THAT(english->body, HasSubstr("Components"));
    EXPECT_NE(german->get_header_value("ETag"),
              english->get_header_value("ETag"));
  }
  EXPECT_EQ(renders(), 2) << "one render per language, kept";
  // Under a prefix, whatever the browser asks; it does not vary.
  auto prefixed = get("/de/incidents/INC-1", "en");
  EXPECT_EQ(prefixed->status, 200);
  EXPECT_EQ(prefixed->get_header_value("Content-Language"), "de");
  EXPECT_EQ(prefixed->get_header_value("Vary"), "Accept-Encoding");
  EXPECT_THAT(prefixed->body, HasSubstr("Meldungen"));
  EXPECT_THAT(prefixed->body, HasSubstr("href=\"/en/incidents/INC-1\""))
      << "the switch to the same page in English";
  EXPECT_EQ(get("/de", "")->status, 200);
  // An unknown page in German is German, and never echoes the path.
  auto missing = get("/de/incidents/INC-404", "");
  EXPECT_EQ(missing->status, 404);
  EXPECT_THAT(missing->body, HasSubstr("Seite nicht gefunden"));
  EXPECT_THAT(missing->body, Not(HasSubstr("INC-404")));
  // Data has no language prefix, and a language herald lacks no pages.
  EXPECT_EQ(get("/de/api/v2/summary.json", "")->status, 404);
  EXPECT_EQ(get("/fr/", "")->status, 404);
}

TEST_F(PublicDocumentHttpTest, EachDocumentIsRenderedOncePerChange) {
  auto renders = [&] {
    return h_.http_metrics.public_renders.Add({{"path", "/"}}).Value();
  };
  for (int i = 0; i < 3; ++i) ASSERT_EQ(client_->Get("/")->status, 200);
  EXPECT_EQ(renders(), 1);
  PublishUpdate("Checkout errors");
  EXPECT_THAT(client_->Get("/")->body, HasSubstr("Checkout errors"));
  EXPECT_THAT(client_->Get("/")->body, HasSubstr("Checkout errors"));
  EXPECT_EQ(renders(), 2);
}

TEST_F(PublicDocumentHttpTest, GzipGoesToClientsThatAskAndInflatesToThePage) {
  PublishUpdate("Checkout errors");
  const std::string plain = client_->Get("/")->body;
  client_->set_decompress(false);
  auto zipped = client_->Get("/", {{"Accept-Encoding", "gzip"}});
  ASSERT_EQ(zipped->status, 200);
  EXPECT_EQ(zipped->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(Gunzip(zipped->body), plain);
  auto identity = client_->Get("/", {{"Accept-Encoding", "identity"}});
  EXPECT_FALSE(identity->has_header("Content-Encoding"));
  EXPECT_EQ(identity->body, plain);
}

TEST_F(PublicDocumentHttpTest, HeadAnswersTheHeadersWithoutTheBody) {
  auto got = client_->Get("/history.atom");
  auto head = client_->Head("/history.atom");
  ASSERT_EQ(head->status, 200);
  EXPECT_THAT(head->body, IsEmpty());
  EXPECT_EQ(head->get_header_value("ETag"), got->get_header_value("ETag"));
  EXPECT_EQ(head->get_header_value("Content-Length"),
            absl::StrCat(got->body.size()));
}

}  // namespace
}  // namespace herald
