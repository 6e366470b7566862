#include "server/config/config_loader.h"

#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::Status Parse(const std::string& yaml) {
  v1::Config c;
  return ParseYamlInto(yaml, "herald.yaml", &c);
}

TEST(ConfigLoaderTest, EmbeddedDefaultBuildsAValidOrganisation) {
  absl::StatusOr<std::shared_ptr<const Organisation>> org =
      BuildOrganisation(DefaultConfig(), "default");
  ASSERT_TRUE(org.ok()) << org.status();
  EXPECT_NE((*org)->FindComponent("checkout"), nullptr);
  EXPECT_FALSE((*org)->rotas().All(absl::Now()).empty());
  EXPECT_GT((*org)->config().subscribers_size(), 0);
}

TEST(ConfigLoaderTest, MapsNestedFieldsEnumsAndMaps) {
  v1::Config c;
  ASSERT_TRUE(ParseYamlInto(R"(
people:
  - {id: a, name: A, roles: [comms_lead, engineer]}
intake:
  severity_impact: {critical: critical, warning: minor}
server: {max_request_bytes: 2048}
)",
                            "x.yaml", &c)
                  .ok());
  ASSERT_EQ(c.people(0).roles_size(), 2);
  EXPECT_EQ(c.people(0).roles(0), v1::ROLE_COMMS_LEAD);
  EXPECT_EQ(c.intake().severity_impact().at("warning"), v1::IMPACT_MINOR);
  EXPECT_EQ(c.server().max_request_bytes(), 2048);
}

TEST(ConfigLoaderTest, UnknownFieldNamesFileLineAndField) {
  absl::Status s = Parse("server:\n  grpc_listne: x\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              StartsWith("herald.yaml:2:3: server.grpc_listne: unknown field"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("grpc_listen"));
}

TEST(ConfigLoaderTest, BadEnumSaysWhatWasExpected) {
  absl::Status s = Parse("people:\n  - id: a\n    roles: [boss]\n");
  EXPECT_THAT(std::string(s.message()), HasSubstr("people[0].roles[0]"));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("engineer, comms, comms_lead, admin"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("\"boss\""));
}

TEST(ConfigLoaderTest, WrongShapeIsNamed) {
  EXPECT_THAT(std::string(Parse("components: checkout\n").message()),
              HasSubstr("components: expected a list"));
  EXPECT_THAT(
      std::string(Parse("server: {max_request_bytes: lots}\n").message()),
      HasSubstr("server.max_request_bytes: expected an integer"));
}

TEST(ConfigLoaderTest, InvalidYamlGivesPosition) {
  EXPECT_THAT(std::string(Parse("server: [\n").message()),
              HasSubstr("herald.yaml:"));
}

TEST(ConfigLoaderTest, BrokenReferencesNameTheField) {
  v1::Config c = DefaultConfig();
  c.mutable_rotas(0)->set_members(1, "nobody");
  absl::Status s = BuildOrganisation(c, "herald.yaml").status();
  EXPECT_THAT(
      std::string(s.message()),
      HasSubstr("herald.yaml: rotas[0].members[1]: unknown person \"nobody\""));

  c = DefaultConfig();
  c.mutable_components(0)->set_matchers(0, "service=~\"(\"");
  EXPECT_THAT(
      std::string(BuildOrganisation(c, "herald.yaml").status().message()),
      HasSubstr("components[0].matchers[0]"));

  c = DefaultConfig();
  c.mutable_intake()->set_default_component("nope");
  EXPECT_THAT(std::string(BuildOrganisation(c, "h").status().message()),
              HasSubstr("intake.default_component"));
}

TEST(ConfigLoaderTest, SelfServiceDefaultsAndBadDurationsAreNamed) {
  v1::Config c = DefaultConfig();
  absl::StatusOr<std::shared_ptr<const Organisation>> org =
      BuildOrganisation(c, "h");
  ASSERT_TRUE(org.ok()) << org.status();
  EXPECT_TRUE((*org)->self_service().enabled);
  EXPECT_EQ((*org)->self_service().confirmation_ttl, absl::Hours(48));
  EXPECT_EQ((*org)->self_service().resend_interval, absl::Minutes(10));
  EXPECT_EQ((*org)->self_service().max_requests_per_minute, 60);

  c.mutable_self_service()->set_confirmation_ttl("two days");
  EXPECT_THAT(std::string(BuildOrganisation(c, "h").status().message()),
              HasSubstr("self_service.confirmation_ttl: expected a duration"));
  c = DefaultConfig();
  c.mutable_self_service()->set_max_requests_per_minute(-1);
  EXPECT_THAT(std::string(BuildOrganisation(c, "h").status().message()),
              HasSubstr("self_service.max_requests_per_minute"));
}

TEST(ConfigLoaderTest, DeliveryDefaultsToTheStandardWebhooksSchedule) {
  absl::StatusOr<std::shared_ptr<const Organisation>> org =
      BuildOrganisation(DefaultConfig(), "h");
  ASSERT_TRUE(org.ok()) << org.status();
  const DeliverySettings& d = (*org)->delivery();
  EXPECT_EQ(d.For(v1::CHANNEL_KIND_WEBHOOK).retry_schedule.waits(),
            RetrySchedule::StandardWebhooks().waits());
  EXPECT_EQ(d.For(v1::CHANNEL_KIND_WEBHOOK).max_in_flight, 2);
  EXPECT_EQ(d.For(v1::CHANNEL_KIND_EMAIL).max_in_flight, 12);  // of 16
  EXPECT_EQ(d.For(v1::CHANNEL_KIND_SMS).max_in_flight, 12);
  EXPECT_EQ(d.fallback_after, absl::Minutes(10));
  EXPECT_EQ(d.channel_probe_base, absl::Seconds(5));
  EXPECT_EQ(d.channel_probe_cap, absl::Minutes(5));
  EXPECT_TRUE(d.deprecations.empty());
}

TEST(ConfigLoaderTest, DeliveryScheduleIsSetPerChannel) {
  v1::Config c = DefaultConfig();
  ASSERT_TRUE(ParseYamlInto(R"(
delivery:
  workers: 8
  retry_schedule: [1s, 1m, 1h]
  fallback_after: 2m
  channel_probe_base: 1s
  channel_probe_cap: 30s
  channels:
    sms: {retry_schedule: [30s, 5m], max_in_flight: 3}
)",
                            "herald.yaml", &c)
                  .ok());
  absl::StatusOr<std::shared_ptr<const Organisation>> org =
      BuildOrganisation(c, "h");
  ASSERT_TRUE(org.ok()) << org.status();
  const DeliverySettings& d = (*org)->delivery();
  EXPECT_EQ(d.For(v1::CHANNEL_KIND_EMAIL).retry_schedule.waits(),
            (std::vector<absl::Duration>{absl::Seconds(1), absl::Minutes(1),
                                         absl::Hours(1)}));
  EXPECT_EQ(d.For(v1::CHANNEL_KIND_EMAIL).max_in_flight, 6);  // of 8
  EXPECT_EQ(d.For(v1::CHANNEL_KIND_SMS).retry_schedule.waits(),
            (std::vector<absl::Duration>{absl::Seconds(30), absl::Minutes(5)}));
  EXPECT_EQ(d.For(v1::CHANNEL_KIND_SMS).max_in_flight, 3);
  EXPECT_EQ(d.fallback_after, absl::Minutes(2));
  EXPECT_EQ(d.channel_probe_base, absl::Seconds(1));
  EXPECT_EQ(d.channel_probe_cap, absl::Seconds(30));
}

// The exponential backoff fields of earlier releases still work: they
// become the schedule they meant, with a warning that says what to write.
TEST(ConfigLoaderTest, DeprecatedBackoffBecomesTheScheduleItMeant) {
  v1::Config c = DefaultConfig();
  c.mutable_delivery()->set_max_attempts_per_contact(5);
  c.mutable_delivery()->set_retry_base("200ms");
  c.mutable_delivery()->set_retry_cap("1s");
  absl::StatusOr<std::shared_ptr<const Organisation>> org =
      BuildOrganisation(c, "h");
  ASSERT_TRUE(org.ok()) << org.status();
  const DeliverySettings& d = (*org)->delivery();
  EXPECT_EQ(d.For(v1::CHANNEL_KIND_WEBHOOK).retry_schedule.waits(),
            (std::vector<absl::Duration>{
                absl::Milliseconds(200), absl::Milliseconds(400),
                absl::Milliseconds(800), absl::Seconds(1)}));
  ASSERT_EQ(d.deprecations.size(), 1u);
  EXPECT_THAT(d.deprecations[0],
              HasSubstr("retry_schedule: [200ms, 400ms, 800ms, 1s]"));

  c.mutable_delivery()->add_retry_schedule("5s");
  EXPECT_THAT(std::string(BuildOrganisation(c, "h").status().message()),
              HasSubstr("delivery.max_attempts_per_contact: replaced by "
                        "delivery.retry_schedule"));
}

TEST(ConfigLoaderTest, BadDeliverySettingsNameTheField) {
  const auto error = [](const std::string& yaml) {
    v1::Config c = DefaultConfig();
    absl::Status parsed = ParseYamlInto(yaml, "herald.yaml", &c);
    if (!parsed.ok()) return std::string(parsed.message());
    return std::string(BuildOrganisation(c, "h").status().message());
  };
  EXPECT_THAT(error("delivery: {retry_schedule: [5s, soon]}"),
              HasSubstr("delivery.retry_schedule[1]: expected a duration"));
  EXPECT_THAT(error("delivery: {retry_schedule: [5s, 0s]}"),
              HasSubstr("delivery.retry_schedule[1]"));
  EXPECT_THAT(error("delivery: {channels: {fax: {max_in_flight: 1}}}"),
              HasSubstr("delivery.channels[fax]: expected a channel"));
  EXPECT_THAT(error("delivery: {channels: {sms: {max_in_flight: -1}}}"),
              HasSubstr("delivery.channels[sms].max_in_flight"));
  EXPECT_THAT(error("delivery: {channels: {email: {retry_schedule: [1h, x]}}}"),
              HasSubstr("delivery.channels[email].retry_schedule[1]"));
  EXPECT_THAT(error("delivery: {fallback_after: never}"),
              HasSubstr("delivery.fallback_after"));
  EXPECT_THAT(
      error("delivery: {channel_probe_base: 1m, channel_probe_cap: 10s}"),
      HasSubstr("delivery.channel_probe_cap: must not be below"));
  EXPECT_THAT(error("delivery: {retry_schedule: [inf]}"),
              HasSubstr("delivery.retry_schedule[0]"));
  EXPECT_THAT(error("delivery: {retry_schedule: [99999999d]}"),
              HasSubstr("delivery.retry_schedule[0]: at most 365d"));
  EXPECT_THAT(error("delivery: {channels: {sms: {max_in_flight: 257}}}"),
              HasSubstr("delivery.channels[sms].max_in_flight"));
  std::string many = "delivery: {retry_schedule: [";
  for (int i = 0; i < 51; ++i) many += "1s, ";
  many += "1s]}";
  EXPECT_THAT(error(many), HasSubstr("delivery.retry_schedule: at most 50"));
}

// A send must end well before its claim's lease does (delivery_outbox.cc):
// every send timeout is at most five minutes.
TEST(ConfigLoaderTest, EverySendTimeoutIsAtMostFiveMinutes) {
  const auto error = [](const std::string& yaml) {
    v1::Config c = DefaultConfig();
    EXPECT_TRUE(ParseYamlInto(yaml, "herald.yaml", &c).ok());
    return std::string(BuildOrganisation(c, "h").status().message());
  };
  EXPECT_THAT(error("delivery: {http_timeout_seconds: 301}"),
              HasSubstr("delivery.http_timeout_seconds: expected seconds, at "
                        "most 300"));
  EXPECT_THAT(error("smtp: {timeout_seconds: 301}"),
              HasSubstr("smtp.timeout_seconds: expected seconds, at most 300"));
  EXPECT_EQ(error("delivery: {http_timeout_seconds: 300}\n"
                  "smtp: {timeout_seconds: 300}"),
            "");
}

TEST(ConfigLoaderTest, LoadConfigFileAppliesServerDefaults) {
  const auto path =
      std::filesystem::path(::testing::TempDir()) / "herald_min.yaml";
  std::ofstream(path) << "components:\n  - {id: web, name: Web}\n"
                         "intake: {default_component: web}\n";
  absl::StatusOr<v1::Config> c = LoadConfigFile(path.string());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server().grpc_listen(), "127.0.0.1:7601");
  EXPECT_EQ(c->server().max_request_bytes(), 1 << 20);
  EXPECT_EQ(c->server().max_connections(), 1024);
  EXPECT_EQ(c->server().max_event_streams_per_session(), 8);
  EXPECT_EQ(c->server().max_event_streams_per_person(), 16);
  EXPECT_EQ(c->server().public_max_age_seconds(), 10);
  EXPECT_EQ(LoadConfigFile("/nonexistent.yaml").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ConfigLoaderTest, PerClientLimitsOutOfRangeAreRefusedByName) {
  for (const auto& [field, value] : std::vector<std::pair<std::string, int>>{
           {"max_connections", -1},
           {"max_connections", 2000000},
           {"max_event_streams_per_session", -5},
           {"max_event_streams_per_person", 100000},
           {"public_max_age_seconds", -1},
           {"public_max_age_seconds", 86400}}) {
    v1::Config c = DefaultConfig();
    const auto* f = c.server().GetDescriptor()->FindFieldByName(field);
    ASSERT_NE(f, nullptr) << field;
    c.mutable_server()->GetReflection()->SetInt32(c.mutable_server(), f, value);
    absl::Status s = BuildOrganisation(c, "herald.yaml").status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(
        std::string(s.message()),
        HasSubstr("herald.yaml: server." + field + ": expected a count"))
        << field;
  }
}

TEST(ConfigLoaderTest, AStoreAndAClaimLeaseAreCheckedByField) {
  const auto error = [](auto edit) {
    v1::Config c = DefaultConfig();
    edit(c);
    absl::Status s = BuildOrganisation(c, "herald.yaml").status();
    return s.ok() ? std::string("ok") : std::string(s.message());
  };
  EXPECT_EQ(error([](v1::Config& c) {
              c.mutable_store()->mutable_postgres()->set_dsn("host=db");
              c.mutable_delivery()->set_claim_lease("2m");
            }),
            "ok");
  EXPECT_THAT(
      error([](v1::Config& c) { c.mutable_store()->mutable_postgres(); }),
      HasSubstr("herald.yaml: store.postgres.dsn: required"));
  EXPECT_THAT(error([](v1::Config& c) {
                c.mutable_store()->mutable_postgres()->set_dsn("host=db");
                c.mutable_store()->mutable_postgres()->set_pool_size(500);
              }),
              HasSubstr("store.postgres.pool_size: expected a count from 1 "
                        "to 100"));
  // Half a lease must outlast the longest send (SMTP's 30 s by default).
  EXPECT_THAT(error([](v1::Config& c) {
                c.mutable_delivery()->set_claim_lease("60s");
              }),
              HasSubstr("delivery.claim_lease: at least twice the longest "
                        "send timeout (smtp.timeout_seconds 30"));
  EXPECT_EQ(error([](v1::Config& c) {
              c.mutable_smtp()->set_timeout_seconds(5);
              c.mutable_delivery()->set_http_timeout_seconds(5);
              c.mutable_delivery()->set_claim_lease("20s");
            }),
            "ok");
  EXPECT_THAT(error([](v1::Config& c) {
                c.mutable_delivery()->set_claim_lease("soon");
              }),
              HasSubstr("delivery.claim_lease"));
}

TEST(ConfigLoaderTest, AStatusMirrorIsCheckedByField) {
  const auto error = [](auto edit) {
    v1::Config c = DefaultConfig();
    c.mutable_status_mirror()->set_directory("/var/cache/herald-mirror");
    edit(*c.mutable_status_mirror());
    absl::Status s = BuildOrganisation(c, "herald.yaml").status();
    return s.ok() ? std::string("ok") : std::string(s.message());
  };
  EXPECT_EQ(error([](v1::StatusMirrorConfig&) {}), "ok");
  EXPECT_THAT(error([](auto& m) { m.set_directory("mirror"); }),
              HasSubstr("status_mirror.directory: expected an absolute path"));
  EXPECT_THAT(error([](auto& m) { m.set_after_write_timeout("soon"); }),
              HasSubstr("status_mirror.after_write_timeout"));
  EXPECT_THAT(error([](auto& m) { m.set_after_write_timeout("2h"); }),
              HasSubstr("status_mirror.after_write_timeout"));
  EXPECT_THAT(error([](auto& m) {
                m.clear_directory();
                m.set_after_write("rsync");
              }),
              HasSubstr("status_mirror.after_write: needs"));
}

}  // namespace
}  // namespace herald
