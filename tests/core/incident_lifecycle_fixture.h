// The incident's life, on the fake clock: every transition (open, attach,
// update, publish, resolve, reopen, resolve again, maintenance) checked
// inside (lists, status, drafts, escalation, cadence) and outside (what the
// status page says), then random sequences of the same events with the
// lifecycle's invariants checked after every step.
#ifndef HERALD_TESTS_CORE_INCIDENT_LIFECYCLE_FIXTURE_H_
#define HERALD_TESTS_CORE_INCIDENT_LIFECYCLE_FIXTURE_H_

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "herald/enum_labels.h"
#include "server/base/proto_time.h"
#include "server/statuspage/status_page.h"
#include "tests/testing/harness.h"

namespace herald {
// Named, not anonymous: the fixture is one type in every file.
namespace lifecycle_testing {

namespace sp = v1::statuspage;
using testing::CommsLead;
using testing::CoreHarness;
using testing::Engineer;
using testing::FiringGroup;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::Resolved;
using ::testing::SizeIs;

// The value of `v`, by value: a range-for over a member of a temporary
// StatusOr would read it after it died.
template <typename T>
T Ok(absl::StatusOr<T> v) {
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *std::move(v) : T();
}

class IncidentLifecycleTest : public ::testing::Test {
 protected:
  IncidentLifecycleTest() : page_(h_.deps) {}

  v1::Incident Get(int64_t id) {
    return Ok(h_.queries.GetIncident(id)).incident;
  }
  bool ListedOpen(int64_t id) {
    for (const v1::Incident& i : Ok(h_.queries.ListIncidents(false)).items) {
      if (i.id() == id) return true;
    }
    return false;
  }
  // Messages of `id` awaiting approval, oldest first.
  std::vector<v1::Message> Waiting(int64_t id) {
    return Ok(h_.queries.ListMessages(id, {})).items;
  }
  // The one message of `id` awaiting approval.
  v1::Message OnlyWaiting(int64_t id, v1::MessageKind kind) {
    std::vector<v1::Message> out;
    for (v1::Message& m : Waiting(id)) {
      if (m.kind() == kind) out.push_back(std::move(m));
    }
    EXPECT_THAT(out, SizeIs(1));
    return out.empty() ? v1::Message() : out.front();
  }
  void Approve(const v1::Message& m) {
    absl::StatusOr<Publication> p =
        h_.workflow.Approve(CommsLead(), m.id(), 0, kAsWritten);
    ASSERT_TRUE(p.ok()) << p.status();
  }
  // The incident on the status page's history, or nullopt when customers do
  // not see it.
  std::optional<sp::Incident> Public(const v1::Incident& incident) {
    const auto got1 = Ok(page_.History(100));
    for (const sp::Incident& i : got1.incidents()) {
      if (i.id() == incident.ref()) return i;
    }
    return std::nullopt;
  }
  // Whether the current summary (unresolved incidents) lists it.
  bool OnSummary(const v1::Incident& incident) {
    const auto got2 = Ok(page_.Summary());
    for (const sp::Incident& i : got2.incidents()) {
      if (i.id() == incident.ref()) return true;
    }
    return false;
  }
  // How many staff notices of `kind` ("escalation", ...) went to `person`.
  int Notices(int64_t id, const std::string& subject_part,
              const std::string& person) {
    int n = 0;
    for (const v1::Delivery& d : h_.StaffDeliveries(id, true)) {
      if (d.recipient() == "person:" + person &&
          d.subject().find(subject_part) != std::string::npos) {
        ++n;
      }
    }
    return n;
  }

  // Opens an incident from an alert on checkout, publishes its first update,
  // resolves it when the alert resolves and publishes the resolution: the
  // issue's reproduction up to the alert firing again.
  int64_t OpenPublishResolve() {
    const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
    Approve(OnlyWaiting(id, v1::MESSAGE_KIND_STATUS_UPDATE));
    EXPECT_TRUE(h_.escalator.Acknowledge(CommsLead(), id).ok());
    h_.clock.Advance(absl::Minutes(20));
    EXPECT_TRUE(h_.intake.Ingest(Resolved(kGroup)).ok());
    EXPECT_TRUE(h_.workflow.Resolve(Engineer(), id, "rolled back").ok());
    Approve(OnlyWaiting(id, v1::MESSAGE_KIND_RESOLUTION));
    return id;
  }

  const v1::AlertGroup kGroup = FiringGroup("g1", "checkout", {"fp1"});
  CoreHarness h_;
  StatusPage page_;
};

}  // namespace lifecycle_testing
}  // namespace herald

#endif  // HERALD_TESTS_CORE_INCIDENT_LIFECYCLE_FIXTURE_H_
