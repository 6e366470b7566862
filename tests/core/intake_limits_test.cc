// Sizes and counts an alert group may bring (intake.limits): what is cut,
// digested, counted or refused, and that what is stored grows linearly.
#include "server/core/incidents/intake_limits.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/incidents/alert_intake.h"
#include "server/store/sqlite_store.h"
#include "server/wire/wire_views.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using testing::CoreHarness;
using ::testing::EndsWith;
using testing::FiringGroup;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr char kMarker[] = "…[truncated]";
constexpr size_t kMarkerBytes = sizeof(kMarker) - 1;

v1::Config WithLimits(const std::function<void(v1::IntakeLimits&)>& set) {
  v1::Config config = DefaultConfig();
  set(*config.mutable_intake()->mutable_limits());
  return config;
}

TEST(IntakeLimitsTest, LongLabelValueIsCutWithAMarkerAndCounted) {
  CoreHarness h;
  v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  g.mutable_common_annotations()->clear();  // the title comes from alertname
  (*g.mutable_alerts(0)->mutable_labels())["alertname"] =
      std::string(900 * 1024, 'x');
  absl::StatusOr<IntakeResult> r = h.intake.Ingest(g);
  ASSERT_TRUE(r.ok()) << r.status();
  const IncidentDetail got = *h.queries.GetIncident(r->incident_id);
  ASSERT_THAT(got.alerts, SizeIs(1));
  const std::string& name = got.alerts[0].labels().at("alertname");
  EXPECT_EQ(name.size(), 1024 + kMarkerBytes);
  EXPECT_THAT(name, EndsWith(kMarker));
  EXPECT_THAT(got.incident.title(), EndsWith(kMarker));
  EXPECT_LT(ToGetIncidentResponse(got).ByteSizeLong(), 64u * 1024);
  EXPECT_EQ(h.metrics.AlertFieldsTruncated("label_value").Value(), 1);
}

TEST(IntakeLimitsTest, LongAnnotationIsCutWithAMarkerAndTheAlertKept) {
  CoreHarness h;
  v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  (*g.mutable_common_annotations())["description"] = std::string(10000, 'd');
  (*g.mutable_alerts(0)->mutable_annotations())["runbook"] =
      std::string(5000, 'r');
  absl::StatusOr<IntakeResult> r = h.intake.Ingest(g);
  ASSERT_TRUE(r.ok()) << r.status();
  const IncidentDetail got = *h.queries.GetIncident(r->incident_id);
  ASSERT_THAT(got.alerts, SizeIs(1));
  EXPECT_EQ(got.alerts[0].annotations().at("runbook"),
            absl::StrCat(std::string(4096, 'r'), kMarker));
  EXPECT_EQ(got.incident.description(),
            absl::StrCat(std::string(4096, 'd'), kMarker));
  EXPECT_EQ(h.metrics.AlertFieldsTruncated("annotation").Value(), 2);
}

TEST(IntakeLimitsTest, CutsTextAtACodePointBoundary) {
  CoreHarness h(NewMemoryStore(), WithLimits([](v1::IntakeLimits& l) {
                  l.set_max_label_value_bytes(17);
                }));
  v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  // "é" is two bytes: 17 bytes would split the ninth.
  std::string accents;
  for (int i = 0; i < 20; ++i) accents += "é";
  (*g.mutable_alerts(0)->mutable_labels())["pod"] = accents;
  absl::StatusOr<IntakeResult> r = h.intake.Ingest(g);
  ASSERT_TRUE(r.ok()) << r.status();
  const AlertPage page = *h.queries.ListAlerts(r->incident_id, false);
  ASSERT_THAT(page.alerts, SizeIs(1));
  const std::string& pod = page.alerts[0].labels().at("pod");
  EXPECT_EQ(pod, absl::StrCat(accents.substr(0, 16), kMarker));
}

TEST(IntakeLimitsTest, LongGroupKeyIsReplacedByAStableDigest) {
  CoreHarness h;
  const std::string key(900 * 1024, 'k');
  absl::StatusOr<IntakeResult> first =
      h.intake.Ingest(FiringGroup(key, "checkout", {"fp1"}));
  ASSERT_TRUE(first.ok()) << first.status();
  // The same long key again finds the same incident: grouping holds.
  absl::StatusOr<IntakeResult> again =
      h.intake.Ingest(FiringGroup(key, "checkout", {"fp2"}));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->opened);
  EXPECT_EQ(again->incident_id, first->incident_id);
  const IncidentDetail got = *h.queries.GetIncident(first->incident_id);
  const std::string& stored = got.incident.group_key();
  EXPECT_LE(stored.size(), 1024u);
  EXPECT_THAT(stored, StartsWith("kkkk"));
  EXPECT_THAT(stored, MatchesRegex(".*…sha256:[0-9a-f]{64}"));
  EXPECT_EQ(got.alerts[0].group_key(), stored);
  EXPECT_EQ(h.metrics.AlertFieldsTruncated("group_key").Value(), 2);
  // Keys that differ only past the cut still get different digests.
  EXPECT_NE(BoundGroupKey(key + "a", 1024), BoundGroupKey(key + "b", 1024));
  EXPECT_EQ(BoundGroupKey(key, 1024), stored);
  EXPECT_EQ(BoundGroupKey("short", 1024), "short");
}

TEST(IntakeLimitsTest, LongLabelNameRefusesTheGroupNamingTheField) {
  CoreHarness h;
  v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1", "fp2"});
  (*g.mutable_alerts(1)->mutable_labels())[std::string(200, 'n')] = "v";
  absl::StatusOr<IntakeResult> r = h.intake.Ingest(g);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              StartsWith("alerts[1].labels: "));
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("max_label_name_bytes"));
  EXPECT_THAT(h.queries.ListIncidents(true)->items,
              SizeIs(0));  // nothing written
  EXPECT_EQ(h.metrics.alert_groups_refused.Value(), 1);
}

TEST(IntakeLimitsTest, TooManyLabelsRefusesTheGroupNamingTheField) {
  CoreHarness h;
  v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  for (int i = 0; i < 64; ++i) {
    (*g.mutable_alerts(0)->mutable_labels())[absl::StrCat("l", i)] = "v";
  }
  absl::StatusOr<IntakeResult> r = h.intake.Ingest(g);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              StartsWith("alerts[0].labels: 67 entries, at most 64"));
  EXPECT_THAT(h.queries.ListIncidents(true)->items, SizeIs(0));
}

TEST(IntakeLimitsTest, TooManyAnnotationsRefusesTheGroupNamingTheField) {
  CoreHarness h;
  v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  for (int i = 0; i < 65; ++i) {
    (*g.mutable_alerts(0)->mutable_annotations())[absl::StrCat("a", i)] = "v";
  }
  EXPECT_THAT(std::string(h.intake.Ingest(g).status().message()),
              StartsWith("alerts[0].annotations: 65 entries"));
}

TEST(IntakeLimitsTest, LongFingerprintRefusesTheGroupNamingTheField) {
  CoreHarness h;
  absl::StatusOr<IntakeResult> r = h.intake.Ingest(
      FiringGroup("g1", "checkout", {"fp1", std::string(300, 'f')}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              StartsWith("alerts[1].fingerprint: "));
}

TEST(IntakeLimitsTest, IngestAsyncRefusesLikeIngestWithoutWriting) {
  CoreHarness h;
  v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  (*g.mutable_alerts(0)->mutable_labels())[std::string(200, 'n')] = "v";
  std::optional<absl::StatusOr<IntakeResult>> got;
  h.intake.IngestAsync(g, [&](absl::StatusOr<IntakeResult> r) { got = r; });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(h.queries.ListIncidents(true)->items, SizeIs(0));
}

TEST(IntakeLimitsTest, AlertsBeyondTheIncidentsLimitAreCountedNotStored) {
  CoreHarness h(NewMemoryStore(), WithLimits([](v1::IntakeLimits& l) {
                  l.set_max_alerts_per_incident(3);
                }));
  absl::StatusOr<IntakeResult> r = h.intake.Ingest(
      FiringGroup("g1", "checkout", {"fp1", "fp2", "fp3", "fp4", "fp5"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->alerts_over_limit, 2);
  IncidentDetail got = *h.queries.GetIncident(r->incident_id);
  EXPECT_EQ(got.alert_count, 3);
  EXPECT_EQ(got.incident.alerts_over_limit(), 2);
  EXPECT_EQ(h.metrics.alerts_over_limit.Value(), 2);
  // Alerts it holds still update; new ones are still only counted, and the
  // timeline says so once.
  v1::AlertGroup later =
      testing::Resolved(FiringGroup("g1", "checkout", {"fp1", "fp6"}));
  later.set_status(v1::ALERT_STATUS_FIRING);
  ASSERT_TRUE(h.intake.Ingest(later).ok());
  got = *h.queries.GetIncident(r->incident_id);
  EXPECT_EQ(got.alert_count, 3);
  EXPECT_EQ(got.incident.alerts_over_limit(), 3);
  EXPECT_EQ(got.alerts[0].fingerprint(), "fp1");
  EXPECT_EQ(got.alerts[0].status(), v1::ALERT_STATUS_RESOLVED);
  int notes = 0;
  for (const v1::TimelineEvent& e : got.timeline) {
    notes += e.kind() == "alert_limit";
  }
  EXPECT_EQ(notes, 1);
}

TEST(IntakeLimitsTest, AFullIncidentTakesInNoMoreGroups) {
  CoreHarness h;
  const int64_t first =
      h.intake.Ingest(FiringGroup("g0", "checkout", {"fp0"}))->incident_id;
  for (int i = 1; i <= IntakeLimits::kMaxAttachedGroups; ++i) {
    absl::StatusOr<IntakeResult> r = h.intake.Ingest(
        FiringGroup(absl::StrCat("g", i), "checkout", {absl::StrCat("fp", i)}));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->attached);
    ASSERT_EQ(r->incident_id, first);
  }
  absl::StatusOr<IntakeResult> beyond =
      h.intake.Ingest(FiringGroup("one-more", "checkout", {"fp-more"}));
  ASSERT_TRUE(beyond.ok()) << beyond.status();
  EXPECT_TRUE(beyond->opened);
  EXPECT_NE(beyond->incident_id, first);
  EXPECT_EQ(h.queries.GetIncident(first)->incident.attached_group_keys_size(),
            IntakeLimits::kMaxAttachedGroups);
}

TEST(IntakeLimitsTest, DefaultsApplyAndSettingsAreValidated) {
  const IntakeLimits defaults = *IntakeLimits::FromConfig({});
  EXPECT_EQ(defaults.max_label_value_bytes, 1024u);
  EXPECT_EQ(defaults.max_group_key_bytes, 1024u);
  EXPECT_EQ(defaults.max_labels_per_alert, 64u);
  EXPECT_EQ(defaults.max_alerts_per_incident, 50000);
  v1::IntakeLimits config;
  config.set_max_annotation_bytes(100);
  EXPECT_EQ(IntakeLimits::FromConfig(config)->max_annotation_bytes, 100u);
  config.set_max_group_key_bytes(64);  // no room for the digest
  absl::StatusOr<IntakeLimits> bad = IntakeLimits::FromConfig(config);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()),
              StartsWith("intake.limits.max_group_key_bytes: "));
  v1::IntakeLimits negative;
  negative.set_max_alerts_per_incident(-1);
  EXPECT_THAT(
      std::string(IntakeLimits::FromConfig(negative).status().message()),
      StartsWith("intake.limits.max_alerts_per_incident: "));
  // The organisation refuses such a config, naming the field.
  v1::Config config_file = DefaultConfig();
  *config_file.mutable_intake()->mutable_limits() = negative;
  EXPECT_THAT(std::string(Organisation::Create(config_file).status().message()),
              HasSubstr("intake.limits.max_alerts_per_incident"));
}

std::string FreshDir() {
  static std::atomic<int> n{0};
  const auto dir = std::filesystem::path(::testing::TempDir()) /
                   absl::StrCat("herald_growth_", getpid(), "_", n++);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Bytes on disk after `n` notifications, each a new alert group with a
// 0.9 MB group key and one alert, on the same components (so each attaches
// to the first one's incident).
uintmax_t BytesStoredAfter(int n) {
  const std::string dir = FreshDir();
  {
    CoreHarness h(*OpenSqliteStore(dir + "/herald.db"));
    for (int i = 0; i < n; ++i) {
      const std::string key =
          absl::StrCat(std::string(900 * 1024, 'k'), "-", i);
      absl::StatusOr<IntakeResult> r = h.intake.Ingest(
          FiringGroup(key, "checkout", {absl::StrCat("fp", i)}));
      EXPECT_TRUE(r.ok()) << r.status();
      EXPECT_TRUE(i == 0 ? r->opened : r->attached);
    }
  }  // closing the store checkpoints its log into the database file
  uintmax_t bytes = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    bytes += f.file_size();
  }
  return bytes;
}

TEST(IntakeGrowthTest, StoredBytesGrowLinearlyAndNotWithTheGroupKeysLength) {
  const uintmax_t base = BytesStoredAfter(1);
  const uintmax_t fifty = BytesStoredAfter(51);
  const uintmax_t hundred = BytesStoredAfter(101);
  // 90 MB of group keys come to a few kilobytes per notification ...
  EXPECT_LT(hundred - base, 100u * 16 * 1024) << base << " " << hundred;
  // ... and the second fifty cost about what the first fifty did.
  EXPECT_LT(hundred - fifty, (fifty - base) * 3 / 2 + 8192)
      << base << " " << fifty << " " << hundred;
}

}  // namespace
}  // namespace herald
