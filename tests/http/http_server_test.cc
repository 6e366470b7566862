#include "tests/http/http_server_fixture.h"

namespace herald {
namespace http_testing {

TEST_F(HttpServerTest,
       ValidWebhookOpensAnIncidentAndRepeatIsAcceptedUnchanged) {
  const std::string body = ReadTestData("alertmanager/firing-single.json");
  auto first = PostWebhook(body);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_THAT(first->body, HasSubstr("\"opened\":true"));
  auto again = PostWebhook(body);
  EXPECT_EQ(again->status, 200);
  EXPECT_THAT(again->body, HasSubstr("\"changed\":false"));
  EXPECT_EQ(h_.queries.ListIncidents(true)->items.size(), 1u);
}

TEST_F(HttpServerTest, BasicAuthWithTheTokenAsPasswordIsAccepted) {
  httplib::Headers headers;
  client_->set_basic_auth("alertmanager", kToken);
  auto res = client_->Post("/webhooks/alertmanager",
                           ReadTestData("alertmanager/firing-single.json"),
                           "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

TEST_F(HttpServerTest, BasicAuthWithTheWrongUserOrPasswordIs401) {
  for (auto [user, password] : std::vector<std::pair<std::string, std::string>>{
           {"someone", kToken}, {"alertmanager", "guess"}}) {
    httplib::Client c("127.0.0.1", port_);
    c.set_basic_auth(user.c_str(), password.c_str());
    auto res = c.Post("/webhooks/alertmanager",
                      ReadTestData("alertmanager/firing-single.json"),
                      "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << user;
  }
}

TEST_F(HttpServerTest, MissingOrWrongCredentialIs401AndCounted) {
  const std::string body = ReadTestData("alertmanager/firing-single.json");
  EXPECT_EQ(PostWebhook(body, "application/json", "")->status, 401);
  auto wrong = PostWebhook(body, "application/json", "guess");
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(wrong->get_header_value("WWW-Authenticate"),
            "Bearer realm=\"herald\"");
  EXPECT_EQ(h_.http_metrics.WebhooksRejected("unauthorized").Value(), 2);
  EXPECT_TRUE(h_.queries.ListIncidents(true)->items.empty());
}

TEST_F(HttpServerTest, BadInputGets4xxWithJsonNamingTheProblem) {
  struct Case {
    std::string body, type;
    int status;
    std::string reason;
  };
  const std::string good = ReadTestData("alertmanager/firing-single.json");
  for (const Case& c : std::vector<Case>{
           {good, "text/plain", 415, "content_type"},
           {"{not json", "application/json", 400, "malformed_json"},
           {R"({"version":"3","groupKey":"g","status":"firing","alerts":[]})",
            "application/json", 400, "unsupported_version"},
           {R"({"version":"4","status":"firing","alerts":[]})",
            "application/json", 400, "invalid_payload"},
       }) {
    auto res = PostWebhook(c.body, c.type);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.status) << c.body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    EXPECT_THAT(res->body, HasSubstr("\"reason\":\"" + c.reason + "\""));
    EXPECT_EQ(h_.http_metrics.WebhooksRejected(c.reason).Value(), 1)
        << c.reason;
  }
}

TEST_F(HttpServerTest, OverLimitAlertsAreCutOrRefusedWith400NamingTheField) {
  const std::string good = ReadTestData("alertmanager/firing-single.json");
  // A long annotation is cut: the alert is kept.
  std::string long_summary = good;
  const std::string summary = "\"summary\":\"5xx above 5%\"},\"startsAt\"";
  long_summary.replace(long_summary.find(summary), summary.size(),
                       absl::StrCat("\"summary\":\"", std::string(20000, 's'),
                                    "\"},\"startsAt\""));
  auto kept = PostWebhook(long_summary);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->status, 200) << kept->body;
  EXPECT_EQ(h_.metrics.AlertFieldsTruncated("annotation").Value(), 1);
  // Too many labels: refused, naming the field.
  std::string labels;
  for (int i = 0; i < 70; ++i) absl::StrAppend(&labels, ",\"l", i, "\":\"v\"");
  std::string many = good;
  const std::string severity = "\"severity\":\"critical\"}";
  many.replace(many.find(severity), severity.size(),
               absl::StrCat("\"severity\":\"critical\"", labels, "}"));
  auto refused = PostWebhook(many);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  EXPECT_THAT(refused->body, HasSubstr("alerts[0].labels: 73 entries"));
  EXPECT_EQ(h_.metrics.alert_groups_refused.Value(), 1);
}

TEST_F(HttpServerTest, OversizedBodyIs413BeforeParsing) {
  auto res = PostWebhook(std::string(kLimit + 1, ' '));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_THAT(res->body, HasSubstr("too_large"));
  EXPECT_EQ(h_.http_metrics.WebhooksRejected("too_large").Value(), 1);
}

TEST_F(HttpServerTest, StoreOutageIs503SoAlertmanagerRetries) {
  failing_->FailWrites(true);
  auto res = PostWebhook(ReadTestData("alertmanager/firing-single.json"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  failing_->FailWrites(false);
  EXPECT_EQ(
      PostWebhook(ReadTestData("alertmanager/firing-single.json"))->status,
      200);
}

TEST_F(HttpServerTest, BeyondTheInFlightLimitWebhooksGet503) {
  // Two requests (the limit) hold the store; the third is shed.
  failing_->BlockWrites(true);
  const std::string body = ReadTestData("alertmanager/firing-single.json");
  std::vector<std::thread> held;
  std::vector<int> statuses(2, 0);
  for (int i = 0; i < 2; ++i) {
    held.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", port_);
      c.set_read_timeout(30, 0);
      auto r = c.Post("/webhooks/alertmanager",
                      {{"Authorization", std::string("Bearer ") + kToken}},
                      body, "application/json");
      statuses[i] = r ? r->status : -1;
    });
  }
  failing_->AwaitBlockedWriters(2);
  auto shed = PostWebhook(body);
  ASSERT_TRUE(shed);
  EXPECT_EQ(shed->status, 503);
  EXPECT_EQ(shed->get_header_value("Retry-After"), "1");
  EXPECT_EQ(h_.http_metrics.WebhooksRejected("overloaded").Value(), 1);
  failing_->BlockWrites(false);
  for (auto& t : held) t.join();
  EXPECT_EQ(statuses, (std::vector<int>{200, 200}));
}

TEST_F(HttpServerTest, HealthAndMetricsAreServed) {
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
  EXPECT_EQ(client_->Get("/readyz")->status, 200);
  auto metrics = client_->Get("/metrics");
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->body, HasSubstr("herald_incidents_opened_total"));
  EXPECT_EQ(client_->Get("/nope")->status, 404);
}

TEST_F(HttpServerTest, ReadyzFollowsReadinessWhileHealthzStaysAlive) {
  std::atomic<bool> ready{false};
  HttpServer server(HttpDeps{.intake = h_.intake,
                             .status_page = page_,
                             .registry = h_.registry,
                             .metrics = h_.http_metrics,
                             .webhook_token_sha256 = Sha256Hex(kToken),
                             .webhook_basic_username = "",
                             .max_request_bytes = kLimit,
                             .max_inflight_webhooks = 2,
                             .ready = [&ready] { return ready.load(); }});
  const int port = *server.Bind("127.0.0.1:0");
  server.Start();
  httplib::Client c("127.0.0.1", port);
  EXPECT_EQ(c.Get("/readyz")->status, 503);
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  ready = true;
  EXPECT_EQ(c.Get("/readyz")->status, 200);
}

TEST_F(HttpServerTest, UnknownPathsAndWrongMethodsGetJsonErrors) {
  auto missing = client_->Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_THAT(missing->body, HasSubstr("\"reason\":\"not_found\""));

  auto get_webhook = client_->Get("/webhooks/alertmanager");
  ASSERT_TRUE(get_webhook);
  EXPECT_EQ(get_webhook->status, 405);
  EXPECT_THAT(get_webhook->body, HasSubstr("use POST"));

  auto post_page = client_->Post("/api/v2/summary.json", "", "text/plain");
  ASSERT_TRUE(post_page);
  EXPECT_EQ(post_page->status, 405);
  EXPECT_THAT(post_page->body, HasSubstr("use GET"));
}

TEST_F(HttpServerTest, HeadAnswersWithHeadersOnly) {
  auto head = client_->Head("/api/v2/status.json");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_NE(head->get_header_value("Content-Length"), "0");
}

TEST_F(HttpServerTest, OneKeptAliveConnectionCarriesManyWebhooks) {
  // Alertmanager reuses its connection; each notification gets its own
  // answer on it, in order.
  client_->set_keep_alive(true);
  const std::string body = ReadTestData("alertmanager/firing-single.json");
  for (int i = 0; i < 5; ++i) {
    auto res = PostWebhook(body);
    ASSERT_TRUE(res) << i;
    EXPECT_EQ(res->status, 200) << i;
    EXPECT_THAT(res->body,
                HasSubstr(i == 0 ? "\"opened\":true" : "\"changed\":false"));
  }
  EXPECT_EQ(h_.queries.ListIncidents(true)->items.size(), 1u);
}

TEST_F(HttpServerTest, EveryReplyCarriesARequestIdThatTheLogLinesShare) {
  CapturedLogs logs;
  SetLogLevel(LogLevel::kDebug);
  auto res = client_->Post("/webhooks/alertmanager",
                           {{"Authorization", std::string("Bearer ") + kToken},
                            {"X-Request-Id", "am-7"}},
                           ReadTestData("alertmanager/firing-single.json"),
                           "application/json");
  auto fresh = client_->Get("/api/v2/status.json?token=not-for-logs");
  SetLogLevel(LogLevel::kInfo);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("X-Request-Id"), "am-7");
  const std::vector<std::string> lines = logs.Matching("request_id=am-7");
  ASSERT_EQ(lines.size(), 2u);  // the incident it opened, and the request
  EXPECT_THAT(lines[0], HasSubstr("msg=\"incident opened\""));
  EXPECT_THAT(lines[1], HasSubstr("path=/webhooks/alertmanager status=200"));

  ASSERT_TRUE(fresh);
  const std::string id = fresh->get_header_value("X-Request-Id");
  EXPECT_THAT(id, ::testing::MatchesRegex("[0-9a-f]{16}"));
  EXPECT_EQ(logs.Matching("request_id=" + id).size(), 1u);
  EXPECT_THAT(logs.Matching("not-for-logs"), ::testing::IsEmpty());
}

TEST_F(HttpServerTest, OversizedHeadersAreRejected) {
  auto res =
      client_->Get("/healthz", {{"X-Padding", std::string(32 * 1024, 'a')}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 431);
}

TEST(HttpServerBindTest, PortInUseAndBadAddressesAreNamed) {
  CoreHarness h;
  StatusPage page(h.deps);
  const HttpDeps deps{.intake = h.intake,
                      .status_page = page,
                      .registry = h.registry,
                      .metrics = h.http_metrics,
                      .webhook_token_sha256 = Sha256Hex(kToken)};
  HttpServer first(deps);
  const int port = *first.Bind("127.0.0.1:0");
  HttpServer second(deps);
  absl::Status in_use = second.Bind(absl::StrCat("127.0.0.1:", port)).status();
  EXPECT_EQ(in_use.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(in_use.message()), HasSubstr("in use"));
  EXPECT_EQ(second.Bind("localhost-ish:80").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(HttpServerTest, AtomFeedHasOnlyPublishedUpdatesEscapedForXml) {
  ASSERT_EQ(
      PostWebhook(ReadTestData("alertmanager/firing-single.json"))->status,
      200);
  const int64_t id = h_.queries.ListIncidents(false)->items.front().id();
  const v1::Message draft =
      h_.workflow.PostUpdate(Engineer(), id, "rolled back <b>v42</b> & more")
          ->draft;
  auto empty = client_->Get("/history.atom");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 200);
  EXPECT_EQ(empty->get_header_value("Content-Type"),
            "application/atom+xml; charset=utf-8");
  EXPECT_THAT(empty->body, Not(HasSubstr("<entry>")));

  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), draft.id(), 0, kAsWritten).ok());
  const std::string feed = client_->Get("/history.atom")->body;
  EXPECT_THAT(feed, HasSubstr("Rolled back &lt;b&gt;v42&lt;/b&gt; &amp; more"));
  EXPECT_THAT(feed, HasSubstr("<id>https://status.acme.example/#" +
                              draft.ref() + "</id>"));
}

TEST_F(HttpServerTest, StatusPageShowsOnlyApprovedText) {
  ASSERT_EQ(
      PostWebhook(ReadTestData("alertmanager/firing-single.json"))->status,
      200);
  const int64_t id = h_.queries.ListIncidents(false)->items.front().id();
  const v1::Message draft =
      h_.workflow
          .PostUpdate(Engineer(), id, "rolled back <b>v42</b>",
                      {v1::INCIDENT_STATUS_IDENTIFIED})
          ->draft;
  EXPECT_THAT(client_->Get("/")->body, Not(HasSubstr("Rolled back")));
  EXPECT_THAT(client_->Get("/api/v2/summary.json")->body,
              Not(HasSubstr("Rolled back")));

  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), draft.id(), 0, kAsWritten).ok());
  const std::string html = client_->Get("/")->body;
  EXPECT_THAT(html, HasSubstr("Rolled back &lt;b&gt;v42&lt;/b&gt;"));
  EXPECT_THAT(html, HasSubstr("Major outage"));
  v1::statuspage::Summary summary;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  client_->Get("/api/v2/summary.json")->body, &summary)
                  .ok());
  ASSERT_EQ(summary.incidents_size(), 1);
  EXPECT_EQ(summary.incidents(0).status(), "identified");
  ASSERT_EQ(summary.incidents(0).incident_updates_size(), 1);
  EXPECT_THAT(summary.incidents(0).incident_updates(0).body(),
              HasSubstr("Rolled back <b>v42</b>"));
  EXPECT_EQ(summary.status().indicator(), "critical");
  EXPECT_EQ(summary.components(0).status(), "major_outage");
  EXPECT_THAT(client_->Get("/api/v2/incidents/unresolved.json")->body,
              HasSubstr("Rolled back"));
  EXPECT_THAT(client_->Get("/api/v2/status.json")->body,
              HasSubstr("\"indicator\":\"critical\""));
}

}  // namespace http_testing
}  // namespace herald
