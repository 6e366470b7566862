// The fixture of the status page and public site tests: a core harness on
// the memory store, a StatusPage with the real templates and one that
// renders through a FakeRenderer, and shorthands that open, draft, approve
// and resolve incidents.
#ifndef HERALD_TESTS_STATUSPAGE_STATUS_PAGE_FIXTURE_H_
#define HERALD_TESTS_STATUSPAGE_STATUS_PAGE_FIXTURE_H_

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/statuspage/status_page.h"
#include "server/store/memory_store.h"
#include "tests/testing/fake_renderer.h"
#include "tests/testing/harness.h"

namespace herald {
// Named, not anonymous: core_test is a unity build.
namespace status_page_testing {

namespace sp = v1::statuspage;
using testing::Comms;
using testing::CommsLead;
using testing::CoreHarness;
using ::testing::ElementsAre;
using testing::Engineer;
using testing::FakeRenderer;
using testing::FiringGroup;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// Each component's id and public status, in the summary's order.
inline std::vector<std::pair<std::string, std::string>> ComponentStatuses(
    const sp::Summary& summary) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const sp::Component& c : summary.components()) {
    out.emplace_back(c.id(), c.status());
  }
  return out;
}

inline std::vector<std::string> UpdateBodies(const sp::Incident& incident) {
  std::vector<std::string> out;
  for (const sp::IncidentUpdate& u : incident.incident_updates()) {
    out.push_back(u.body());
  }
  return out;
}

inline std::vector<std::string> IncidentIds(
    const google::protobuf::RepeatedPtrField<sp::Incident>& incidents) {
  std::vector<std::string> out;
  for (const sp::Incident& i : incidents) out.push_back(i.id());
  return out;
}

class StatusPageTest : public ::testing::Test {
 protected:
  explicit StatusPageTest(const v1::Config& config = DefaultConfig())
      : h_(NewMemoryStore(), config),
        page_(h_.deps),
        fake_deps_{.store = *h_.store,
                   .clock = h_.clock,
                   .random = h_.deps.random,
                   .renderer = renderer_,
                   .org = h_.org,
                   .metrics = h_.metrics},
        recorded_page_(fake_deps_) {}

  // Opens an incident on `service` from a firing alert; herald drafts its
  // first message, which nobody approves.
  int64_t Open(const std::string& group, const std::string& service,
               const std::string& severity = "critical") {
    absl::StatusOr<IntakeResult> r =
        h_.intake.Ingest(FiringGroup(group, service, {group}, severity));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->incident_id : 0;
  }

  // An engineer's update, drafted and not approved.
  v1::Message Draft(int64_t incident, const std::string& text) {
    absl::StatusOr<PostedUpdate> p =
        h_.workflow.PostUpdate(Engineer(), incident, text);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? p->draft : v1::Message();
  }

  v1::Message Approve(const v1::Message& draft) {
    absl::StatusOr<Publication> p =
        h_.workflow.Approve(CommsLead(), draft.id(), 0, kAsWritten);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? p->message : v1::Message();
  }

  v1::Message Publish(int64_t incident, const std::string& text) {
    return Approve(Draft(incident, text));
  }

  // Resolves `incident` and publishes the resolution notice.
  v1::Message ResolveAndTell(int64_t incident) {
    absl::StatusOr<Resolution> r =
        h_.workflow.Resolve(Engineer(), incident, "fixed");
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->drafts.empty()) return {};
    return Approve(r->drafts[0]);
  }

  // Maintenance of `component` from `from` to `to` after now, scheduled
  // and not yet announced (its draft waits for approval).
  ScheduledMaintenance Schedule(const std::string& component,
                                absl::Duration from, absl::Duration to,
                                const std::string& text) {
    const absl::Time now = h_.clock.Now();
    absl::StatusOr<ScheduledMaintenance> m = h_.maintenance.Schedule(
        Engineer(), {{component}, now + from, now + to, text, ""});
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? *std::move(m) : ScheduledMaintenance{};
  }

  std::string Ref(int64_t incident) {
    return h_.queries.GetIncident(incident)->incident.ref();
  }

  sp::Summary Summary() {
    absl::StatusOr<sp::Summary> s = page_.Summary();
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : sp::Summary();
  }
  sp::Summary History(int limit) {
    absl::StatusOr<sp::Summary> s = page_.History(limit);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : sp::Summary();
  }

  CoreHarness h_;
  StatusPage page_;  // with the real templates
  FakeRenderer renderer_;
  CoreDeps fake_deps_;
  StatusPage recorded_page_;  // renders through renderer_
};

}  // namespace status_page_testing
}  // namespace herald

#endif  // HERALD_TESTS_STATUSPAGE_STATUS_PAGE_FIXTURE_H_
