#include "webhooks/alertmanager_parser.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/harness.h"

namespace herald::webhooks {
namespace {

using herald::testing::ReadTestData;
using ::testing::HasSubstr;

constexpr char kJson[] = "application/json";

v1::AlertGroup Parsed(const std::string& body,
                      const std::string& type = kJson) {
  ParsedWebhook p = ParseAlertmanagerWebhook(type, body);
  if (auto* r = std::get_if<WebhookRejection>(&p)) {
    ADD_FAILURE() << "rejected: " << r->message;
    return {};
  }
  return std::get<v1::AlertGroup>(p);
}

WebhookRejection Rejected(const std::string& body,
                          const std::string& type = kJson) {
  ParsedWebhook p = ParseAlertmanagerWebhook(type, body);
  if (auto* r = std::get_if<WebhookRejection>(&p)) return *r;
  ADD_FAILURE() << "accepted: " << body;
  return {};
}

TEST(AlertmanagerParserTest, ParsesTheCapturedSingleAlertSample) {
  v1::AlertGroup g = Parsed(ReadTestData("alertmanager/firing-single.json"));
  EXPECT_EQ(g.group_key(),
            R"({}:{alertname="HighErrorRate", service="checkout"})");
  EXPECT_EQ(g.status(), v1::ALERT_STATUS_FIRING);
  ASSERT_EQ(g.alerts_size(), 1);
  const v1::Alert& a = g.alerts(0);
  EXPECT_EQ(a.fingerprint(), "7d2d332feada5c59");
  EXPECT_EQ(a.labels().at("service"), "checkout");
  EXPECT_EQ(a.annotations().at("summary"), "5xx above 5%");
  EXPECT_EQ(a.starts_at().seconds(), 1795410475);
  EXPECT_FALSE(a.has_ends_at()) << "Go's zero time means unset";
}

TEST(AlertmanagerParserTest, ParsesTruncatedSamplesAndKeepsTheCount) {
  v1::AlertGroup firing =
      Parsed(ReadTestData("alertmanager/firing-truncated.json"));
  EXPECT_EQ(firing.truncated_alerts(), 1);
  EXPECT_EQ(firing.alerts_size(), 2);
  v1::AlertGroup resolved =
      Parsed(ReadTestData("alertmanager/resolved-truncated.json"));
  EXPECT_EQ(resolved.status(), v1::ALERT_STATUS_RESOLVED);
  EXPECT_TRUE(resolved.alerts(0).has_ends_at());
}

TEST(AlertmanagerParserTest, AcceptsContentTypeWithCharset) {
  Parsed(ReadTestData("alertmanager/firing-single.json"),
         "application/json; charset=utf-8");
}

TEST(AlertmanagerParserTest, WrongContentTypeIs415) {
  WebhookRejection r =
      Rejected(ReadTestData("alertmanager/firing-single.json"), "text/plain");
  EXPECT_EQ(r.http_status(), 415);
  EXPECT_EQ(r.label(), "content_type");
  EXPECT_THAT(r.message, HasSubstr("application/json"));
}

TEST(AlertmanagerParserTest, MalformedJsonIs400) {
  WebhookRejection r = Rejected("{\"version\": \"4\", ");
  EXPECT_EQ(r.http_status(), 400);
  EXPECT_EQ(r.label(), "malformed_json");
}

TEST(AlertmanagerParserTest, WrongVersionIs400NamingTheVersion) {
  std::string body = ReadTestData("alertmanager/firing-single.json");
  body.replace(body.find("\"version\":\"4\""), 13, "\"version\":\"3\"");
  WebhookRejection r = Rejected(body);
  EXPECT_EQ(r.http_status(), 400);
  EXPECT_EQ(r.label(), "unsupported_version");
  EXPECT_THAT(r.message, HasSubstr("\"3\""));
}

TEST(AlertmanagerParserTest, MissingFieldsAreNamed) {
  EXPECT_THAT(
      Rejected(R"({"groupKey":"g","status":"firing","alerts":[]})").message,
      HasSubstr("\"version\""));
  EXPECT_THAT(
      Rejected(R"({"version":"4","status":"firing","alerts":[]})").message,
      HasSubstr("\"groupKey\""));
  EXPECT_THAT(
      Rejected(
          R"({"version":"4","groupKey":"g","status":"firing","alerts":[]})")
          .message,
      HasSubstr("\"alerts\""));
  EXPECT_THAT(
      Rejected(
          R"({"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":"2026-01-01T00:00:00Z"}]})")
          .message,
      HasSubstr("alerts[0].fingerprint"));
}

TEST(AlertmanagerParserTest, BadValuesAreNamed) {
  EXPECT_THAT(
      Rejected(
          R"({"version":"4","groupKey":"g","status":"burning","alerts":[{"status":"firing","fingerprint":"f","labels":{"a":"b"},"startsAt":"2026-01-01T00:00:00Z"}]})")
          .message,
      HasSubstr("\"status\""));
  EXPECT_THAT(
      Rejected(
          R"({"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","fingerprint":"f","labels":{"a":"b"},"startsAt":"yesterday"}]})")
          .message,
      HasSubstr("alerts[0].startsAt"));
  const WebhookRejection wrong_type = Rejected(R"({"version":4})");
  EXPECT_EQ(wrong_type.label(), "invalid_payload");
  EXPECT_THAT(wrong_type.message, HasSubstr("\"version\": expected a string"));
  EXPECT_THAT(
      Rejected(
          R"({"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","fingerprint":"f","labels":{"a":7},"startsAt":"2026-01-01T00:00:00Z"}]})")
          .message,
      HasSubstr("alerts[0].labels.a"));
  EXPECT_THAT(Rejected(R"({"version":"4","truncatedAlerts":"many"})").message,
              HasSubstr("truncatedAlerts"));
}

TEST(AlertmanagerParserTest, NullFieldsCountAsAbsent) {
  std::string body = ReadTestData("alertmanager/firing-single.json");
  body.insert(1, R"("receiver":null,"commonLabels":null,)");
  Parsed(body);
  EXPECT_THAT(
      Rejected(R"({"version":null,"groupKey":"g","status":"firing"})").message,
      HasSubstr("missing field \"version\""));
}

TEST(AlertmanagerParserTest, NonObjectAndEmptyBodiesAreRejectedNotCrashed) {
  for (const char* body :
       {"", "null", "[]", "\"x\"", "{}", "{{{{", "\xff\xfe"}) {
    WebhookRejection r = Rejected(body);
    EXPECT_EQ(r.http_status(), 400) << body;
  }
}

// Text that is not UTF-8, raw or through a lone surrogate escape, never
// becomes an alert: the payload is refused with 400 (nothing could store
// it), wherever in the payload it stands.
TEST(AlertmanagerParserTest, TextThatIsNotUtf8IsRefusedWherever) {
  const std::string prefix =
      R"({"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","fingerprint":"f","startsAt":"2026-01-01T00:00:00Z",)";
  for (const std::string& alert :
       {std::string(R"("labels":{"alertname":"a)") + "\xff" + R"("}})",
        std::string(R"("labels":{"a)") + "\xc3\x28" + R"(":"b"}})",
        std::string(
            R"("labels":{"a":"b"},"annotations":{"summary":"\udc00"}})"),
        std::string(
            R"("labels":{"a":"b"},"annotations":{"summary":"\ud800x"}})")}) {
    const WebhookRejection r = Rejected(prefix + alert + "]}");
    EXPECT_EQ(r.http_status(), 400) << alert;
  }
  // A proper pair is text.
  const v1::AlertGroup ok = Parsed(
      prefix +
      R"("labels":{"a":"b"},"annotations":{"summary":"\ud83d\ude00 \u00e9"}}]})");
  ASSERT_EQ(ok.alerts_size(), 1);
  EXPECT_EQ(ok.alerts(0).annotations().at("summary"),
            "\xF0\x9F\x98\x80 \xC3\xA9");
}

// A rejection quotes what was sent; it is bounded and shown as text, so a
// hostile payload cannot flood the reply or the log.
TEST(AlertmanagerParserTest, RejectionsQuoteWhatWasSentBoundedAndAsText) {
  const std::string huge(100000, 'v');
  const WebhookRejection r =
      Rejected(R"({"version":")" + huge + R"(\u001b[2J"})");
  EXPECT_EQ(r.label(), "unsupported_version");
  EXPECT_LE(r.message.size(), 600u);
  EXPECT_THAT(r.message, HasSubstr("[truncated]"));
  const WebhookRejection escape = Rejected(R"({"version":"\u001b[2J"})");
  EXPECT_EQ(escape.message.find('\x1b'), std::string::npos) << escape.message;
}

TEST(AlertmanagerParserTest, UnknownFieldsAreIgnored) {
  std::string body = ReadTestData("alertmanager/firing-single.json");
  body.insert(1, R"("futureField":{"x":1},)");
  Parsed(body);
}

}  // namespace
}  // namespace herald::webhooks
