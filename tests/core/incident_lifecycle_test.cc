// The incident's life, on the fake clock: every transition (open, attach,
// update, publish, resolve, reopen, resolve again, maintenance) checked
// inside (lists, status, drafts, escalation, cadence) and outside (what the
// status page says), then random sequences of the same events with the
// lifecycle's invariants checked after every step.
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
namespace {

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
    return Ok(h_.queries.GetIncident(id)).incident();
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
    absl::StatusOr<Publication> p = h_.workflow.Approve(CommsLead(), m.id(), 0);
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

TEST_F(IncidentLifecycleTest, OpeningMakesAnOpenInternalIncidentWithADraft) {
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  const v1::Incident i = Get(id);
  EXPECT_TRUE(ListedOpen(id));
  EXPECT_EQ(i.status(), v1::INCIDENT_STATUS_INVESTIGATING);
  EXPECT_FALSE(i.customer_visible());
  OnlyWaiting(id, v1::MESSAGE_KIND_STATUS_UPDATE);
  EXPECT_FALSE(Public(i).has_value());
  EXPECT_EQ(page_.Summary()->status().indicator(), "none");
}

TEST_F(IncidentLifecycleTest, AttachingAGroupOnTheSameComponentsJoinsIt) {
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  absl::StatusOr<IntakeResult> other =
      h_.intake.Ingest(FiringGroup("g2", "checkout", {"fp2"}));
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->attached);
  EXPECT_EQ(other->incident_id, id);
  EXPECT_THAT(Get(id).attached_group_keys(), ::testing::ElementsAre("g2"));
  EXPECT_THAT(h_.queries.ListIncidents(true)->items, SizeIs(1));
}

TEST_F(IncidentLifecycleTest, PublishingSetsThePublicNameAndStatusFromTheText) {
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  const v1::Message draft =
      h_.workflow
          .PostUpdate(Engineer(), id, "found the bad deploy",
                      {.status_hint = v1::INCIDENT_STATUS_IDENTIFIED})
          ->draft;
  for (const v1::Message& m : Waiting(id)) {
    if (m.id() != draft.id()) continue;
    ASSERT_TRUE(
        h_.workflow
            .Edit(CommsLead(), m.id(), 0, "Checkout payments failing", "")
            .ok());
  }
  EXPECT_FALSE(Public(Get(id)).has_value());
  Approve(OnlyWaiting(id, v1::MESSAGE_KIND_STATUS_UPDATE));
  const std::optional<sp::Incident> shown = Public(Get(id));
  ASSERT_TRUE(shown.has_value());
  EXPECT_EQ(shown->name(), "Checkout payments failing");
  EXPECT_NE(shown->name(), Get(id).title());  // the alert's summary
  EXPECT_EQ(shown->status(), "identified");
  EXPECT_EQ(page_.Summary()->status().indicator(), "critical");
}

TEST_F(IncidentLifecycleTest, ResolvingIsInternalUntilTheResolutionIsApproved) {
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  Approve(OnlyWaiting(id, v1::MESSAGE_KIND_STATUS_UPDATE));
  ASSERT_TRUE(h_.workflow.Resolve(Engineer(), id, "fixed").ok());
  EXPECT_FALSE(ListedOpen(id));
  EXPECT_EQ(Get(id).status(), v1::INCIDENT_STATUS_RESOLVED);
  // Customers were not told yet.
  std::optional<sp::Incident> shown = Public(Get(id));
  ASSERT_TRUE(shown.has_value());
  EXPECT_EQ(shown->status(), "investigating");
  EXPECT_EQ(shown->resolved_at(), "");
  EXPECT_TRUE(OnSummary(Get(id)));

  Approve(OnlyWaiting(id, v1::MESSAGE_KIND_RESOLUTION));
  shown = Public(Get(id));
  EXPECT_EQ(shown->status(), "resolved");
  EXPECT_EQ(shown->resolved_at(), FormatUtc(h_.clock.Now()));
  EXPECT_FALSE(OnSummary(Get(id)));
  EXPECT_EQ(page_.Summary()->status().indicator(), "none");
}

TEST_F(IncidentLifecycleTest, AReopenedIncidentIsOpenEverywhereInside) {
  const int64_t id = OpenPublishResolve();
  h_.clock.Advance(absl::Minutes(30));  // within intake.reopen_window
  absl::StatusOr<IntakeResult> again = h_.intake.Ingest(kGroup);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->reopened);

  const v1::Incident i = Get(id);
  EXPECT_FALSE(i.has_resolved_at());
  EXPECT_EQ(i.status(), v1::INCIDENT_STATUS_INVESTIGATING);
  EXPECT_TRUE(ListedOpen(id));
  // New groups on its components join it.
  EXPECT_EQ(
      h_.intake.Ingest(FiringGroup("g2", "checkout", {"fp2"}))->incident_id,
      id);
  // The comms lead has a draft saying the problem is back, in the inbox.
  const v1::Message back = OnlyWaiting(id, v1::MESSAGE_KIND_STATUS_UPDATE);
  EXPECT_EQ(back.incident_status(), v1::INCIDENT_STATUS_INVESTIGATING);
  EXPECT_THAT(back.title(), HasSubstr("is back"));
  EXPECT_THAT(back.body(), HasSubstr("30 minutes after we reported it"));
  bool in_inbox = false;
  for (const v1::InboxItem& item : Ok(h_.queries.Inbox())) {
    in_inbox |= item.message().id() == back.id();
  }
  EXPECT_TRUE(in_inbox);
  EXPECT_GE(Notices(id, "waiting", "carol"), 1);
  // Engineers post updates to it and the point person acknowledges it.
  EXPECT_TRUE(h_.workflow.PostUpdate(Engineer(), id, "looking again").ok());
  EXPECT_TRUE(h_.escalator.Acknowledge(CommsLead(), id).ok());
}

TEST_F(IncidentLifecycleTest, AReopenedIncidentGoesPublicOnlyWithItsApproval) {
  const int64_t id = OpenPublishResolve();
  const std::string resolved_name = Public(Get(id))->name();
  h_.clock.Advance(absl::Minutes(30));
  ASSERT_TRUE(h_.intake.Ingest(kGroup)->reopened);

  // Customers still see what they were last told.
  std::optional<sp::Incident> shown = Public(Get(id));
  EXPECT_EQ(shown->status(), "resolved");
  EXPECT_EQ(shown->name(), resolved_name);
  EXPECT_FALSE(OnSummary(Get(id)));

  const v1::Message back = OnlyWaiting(id, v1::MESSAGE_KIND_STATUS_UPDATE);
  Approve(back);
  shown = Public(Get(id));
  EXPECT_EQ(shown->status(), "investigating");
  EXPECT_EQ(shown->name(), back.title());
  EXPECT_EQ(shown->resolved_at(), "");
  EXPECT_TRUE(OnSummary(Get(id)));
  EXPECT_EQ(page_.Summary()->status().indicator(), "critical");
  const auto got3 = Ok(page_.Summary());
  for (const sp::Component& c : got3.components()) {
    if (c.id() == "checkout") EXPECT_EQ(c.status(), "major_outage");
  }
}

TEST_F(IncidentLifecycleTest, AReopenedIncidentEscalatesAgain) {
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  h_.clock.Advance(absl::Minutes(15));
  ASSERT_EQ(*h_.jobs.RunDueJobs(), 1);  // nobody acknowledged: the backup
  ASSERT_EQ(Notices(id, "", "carol") - Notices(id, "waiting", "carol"), 1);
  ASSERT_TRUE(h_.intake.Ingest(Resolved(kGroup)).ok());
  ASSERT_TRUE(h_.workflow.Resolve(Engineer(), id, "").ok());
  h_.clock.Advance(absl::Minutes(10));
  ASSERT_TRUE(h_.intake.Ingest(kGroup)->reopened);
  EXPECT_EQ(Get(id).escalation_level(), 0);
  h_.clock.Advance(absl::Minutes(15));
  h_.jobs.RunDueJobs().IgnoreError();
  EXPECT_EQ(Get(id).escalation_level(), 1);
  EXPECT_EQ(Notices(id, "", "carol") - Notices(id, "waiting", "carol"), 2);
}

TEST_F(IncidentLifecycleTest, AReopenedIncidentRunsTheUpdateCadenceAgain) {
  const int64_t id = OpenPublishResolve();
  h_.clock.Advance(absl::Minutes(40));
  ASSERT_TRUE(h_.intake.Ingest(kGroup)->reopened);
  const std::string pp = Get(id).point_person_id();
  EXPECT_EQ(Notices(id, "due an update", pp), 0);
  // Critical: a 30 minute cadence, counted from the reopening.
  bool overdue = true;
  for (const v1::InboxItem& item : Ok(h_.queries.Inbox())) {
    if (item.incident_ref() == Get(id).ref()) overdue = item.update_overdue();
  }
  EXPECT_FALSE(overdue);
  h_.clock.Advance(absl::Minutes(30));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_EQ(Notices(id, "due an update", pp), 1);
}

TEST_F(IncidentLifecycleTest, ReopenedBeforeTheResolutionWasApproved) {
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  Approve(OnlyWaiting(id, v1::MESSAGE_KIND_STATUS_UPDATE));
  ASSERT_TRUE(h_.workflow.Resolve(Engineer(), id, "").ok());
  h_.clock.Advance(absl::Minutes(5));
  ASSERT_TRUE(h_.intake.Ingest(kGroup)->reopened);
  // The resolution and apology drafts are withdrawn; customers never heard
  // of a resolution, so the new draft is a plain investigating update.
  const std::vector<v1::Message> waiting = Waiting(id);
  ASSERT_THAT(waiting, SizeIs(1));
  EXPECT_EQ(waiting[0].kind(), v1::MESSAGE_KIND_STATUS_UPDATE);
  EXPECT_THAT(waiting[0].title(), Not(HasSubstr("is back")));
  EXPECT_EQ(Public(Get(id))->status(), "investigating");
}

TEST_F(IncidentLifecycleTest, ResolvingAgainWithdrawsTheReopenedDraft) {
  const int64_t id = OpenPublishResolve();
  h_.clock.Advance(absl::Minutes(30));
  ASSERT_TRUE(h_.intake.Ingest(kGroup)->reopened);
  ASSERT_TRUE(h_.workflow.Resolve(Engineer(), id, "really fixed").ok());
  EXPECT_FALSE(ListedOpen(id));
  EXPECT_EQ(Get(id).status(), v1::INCIDENT_STATUS_RESOLVED);
  for (const v1::Message& m : Waiting(id)) {
    EXPECT_NE(m.kind(), v1::MESSAGE_KIND_STATUS_UPDATE) << m.title();
  }
  Approve(OnlyWaiting(id, v1::MESSAGE_KIND_RESOLUTION));
  EXPECT_EQ(Public(Get(id))->status(), "resolved");
  EXPECT_EQ(Get(id).reopened_count(), 1);
}

TEST_F(IncidentLifecycleTest, AfterTheReopenWindowANewIncidentOpens) {
  const int64_t id = OpenPublishResolve();
  h_.clock.Advance(absl::Hours(2));
  absl::StatusOr<IntakeResult> again = h_.intake.Ingest(kGroup);
  EXPECT_TRUE(again->opened);
  EXPECT_NE(again->incident_id, id);
  EXPECT_FALSE(ListedOpen(id));
}

TEST_F(IncidentLifecycleTest,
       MaintenanceIsPublicOnlyOnceAnnouncedAndNeverGrows) {
  const absl::Time now = h_.clock.Now();
  absl::StatusOr<ScheduledMaintenance> m =
      h_.maintenance.Schedule(Engineer(), {{"checkout"},
                                           now + absl::Hours(1),
                                           now + absl::Hours(2),
                                           "database upgrade",
                                           "Checkout database upgrade"});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(page_.Summary()->scheduled_maintenances(), IsEmpty());
  Approve(m->draft);
  ASSERT_THAT(page_.Summary()->scheduled_maintenances(), SizeIs(1));
  EXPECT_EQ(page_.Summary()->scheduled_maintenances(0).status(), "scheduled");
  EXPECT_EQ(page_.Summary()->scheduled_maintenances(0).name(),
            m->draft.title());
  // An alert on the same component is an incident of its own.
  const int64_t id = h_.intake.Ingest(kGroup)->incident_id;
  EXPECT_NE(id, m->incident.id());
  h_.clock.Advance(absl::Hours(1));
  ASSERT_TRUE(h_.jobs.RunDueJobs().ok());
  EXPECT_EQ(page_.Summary()->scheduled_maintenances(0).status(), "in_progress");
}

// --- Random sequences ------------------------------------------------------

// Drives a CoreHarness with random events from one seed, keeping a model of
// which alerts it made fire, and checks the lifecycle's invariants.
class LifecycleModel {
 public:
  explicit LifecycleModel(uint32_t seed) : rng_(seed), page_(h_.deps) {}

  // One random event; returns what it did, for the failure trace.
  std::string Step() {
    switch (Pick(11)) {
      case 0:
      case 1:
        return Fire();
      case 2:
        return ResolveAlerts();
      case 3:
        return PostUpdate();
      case 4:
      case 5:
        return ApproveOne();
      case 6:
        return RejectOrEdit();
      case 7:
        return ResolveIncident();
      case 8:
        return Acknowledge();
      case 9:
        return ScheduleMaintenance();
      default:
        return Advance();
    }
  }

  // Adds a failure for each invariant that does not hold now.
  void CheckInvariants() {
    const std::vector<v1::Incident> all =
        Ok(h_.queries.ListIncidents(true)).items;
    std::set<int64_t> open;
    for (const v1::Incident& i : Ok(h_.queries.ListIncidents(false)).items) {
      open.insert(i.id());
    }
    std::map<std::string, int> owners;  // firing fingerprint -> incidents
    std::map<int64_t, sp::Incident> shown;
    const auto got4 = Ok(page_.History(1000));
    for (const sp::Incident& i : got4.incidents()) {
      shown[std::stoll(i.id().substr(4))] = i;
    }
    const auto got5 = Ok(page_.History(1000));
    for (const sp::Incident& i : got5.scheduled_maintenances()) {
      shown[std::stoll(i.id().substr(4))] = i;
    }
    std::set<std::string> on_summary;
    const auto got6 = Ok(page_.Summary());
    for (const sp::Incident& i : got6.incidents()) {
      on_summary.insert(i.id());
      EXPECT_NE(i.status(), "resolved") << i.id() << " on the summary";
    }

    for (const v1::Incident& i : all) {
      SCOPED_TRACE(i.ref());
      // Listed as open exactly while it has no resolved_at.
      EXPECT_EQ(open.contains(i.id()), !i.has_resolved_at());
      if (!i.has_maintenance()) {
        EXPECT_EQ(i.status() == v1::INCIDENT_STATUS_RESOLVED,
                  i.has_resolved_at())
            << EnumLabel(i.status());
      }
      const v1::GetIncidentResponse full = Ok(h_.queries.GetIncident(i.id()));
      for (const v1::Alert& a : full.alerts()) {
        EXPECT_EQ(a.incident_id(), i.id());
        if (a.status() == v1::ALERT_STATUS_FIRING) ++owners[a.fingerprint()];
      }
      // What customers see is only ever approved text.
      std::vector<const v1::Message*> published;
      for (const v1::Message& m : full.messages()) {
        if (m.state() == v1::MESSAGE_STATE_PUBLISHED &&
            m.kind() != v1::MESSAGE_KIND_APOLOGY &&
            m.kind() != v1::MESSAGE_KIND_FOLLOW_UP) {
          published.push_back(&m);
        }
      }
      // Newest publication first, as Statuspage lists them: a draft
      // approved late comes after one drafted later but approved earlier.
      std::sort(published.begin(), published.end(),
                [](const v1::Message* a, const v1::Message* b) {
                  const absl::Time at = FromProtoTime(a->published_at());
                  const absl::Time bt = FromProtoTime(b->published_at());
                  return at != bt ? at > bt : a->id() > b->id();
                });
      auto it = shown.find(i.id());
      // Maintenance leaves the page once its window is over.
      if (i.has_maintenance() && i.status() == v1::INCIDENT_STATUS_COMPLETED) {
        EXPECT_TRUE(it == shown.end()) << "completed maintenance shown";
        continue;
      }
      if (published.empty()) {
        EXPECT_TRUE(it == shown.end()) << "public without approved text";
        continue;
      }
      if (it == shown.end()) {
        ADD_FAILURE() << "approved but not public";
        continue;
      }
      const sp::Incident& p = it->second;
      EXPECT_EQ(p.name(), published.front()->title());
      EXPECT_EQ(p.incident_updates_size(), published.size());
      for (int k = 0; k < p.incident_updates_size(); ++k) {
        EXPECT_EQ(p.incident_updates(k).body(), published[k]->body());
      }
      const bool says_resolved =
          p.status() == "resolved" || p.status() == "postmortem";
      // Resolved publicly only through an approved resolution.
      EXPECT_EQ(says_resolved,
                published.front()->kind() == v1::MESSAGE_KIND_RESOLUTION);
      if (!i.has_maintenance()) {
        EXPECT_EQ(on_summary.contains(i.ref()), !says_resolved);
      }
      // Open again while customers were told it is resolved: a draft for
      // the comms lead says it is back.
      if (says_resolved && !i.has_resolved_at()) {
        bool draft = false;
        for (const v1::Message& m : full.messages()) {
          draft |= m.kind() == v1::MESSAGE_KIND_STATUS_UPDATE &&
                   (m.state() == v1::MESSAGE_STATE_DRAFT ||
                    m.state() == v1::MESSAGE_STATE_PENDING_APPROVAL ||
                    m.state() == v1::MESSAGE_STATE_REJECTED);
        }
        EXPECT_TRUE(draft) << "reopened without a draft to approve";
      }
    }
    // Every alert the model made fire belongs to exactly one incident.
    for (const std::string& fp : firing_) {
      EXPECT_EQ(owners[fp], 1) << fp;
    }
  }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  static constexpr const char* kServices[] = {"checkout", "dashboard", "api"};

  // Sends group g<n>'s current alerts, with `fp` firing or resolving.
  std::string Send(int group, const std::string& service, bool firing) {
    const std::string key = absl::StrCat("g", group);
    v1::AlertGroup g =
        FiringGroup(key, service, {absl::StrCat(key, "-", service)});
    const std::string fp = g.alerts(0).fingerprint();
    if (!firing) g = Resolved(g);
    absl::StatusOr<IntakeResult> r = h_.intake.Ingest(g);
    EXPECT_TRUE(r.ok()) << r.status();
    if (firing) {
      firing_.insert(fp);
    } else {
      firing_.erase(fp);
    }
    return absl::StrCat(firing ? "fire " : "resolve alert ", fp, " -> INC-",
                        r.ok() ? r->incident_id : 0,
                        r.ok() && r->reopened ? " (reopened)" : "");
  }
  std::string Fire() { return Send(Pick(3), kServices[Pick(3)], true); }
  std::string ResolveAlerts() {
    if (firing_.empty()) return Advance();
    auto it = firing_.begin();
    std::advance(it, Pick(static_cast<int>(firing_.size())));
    const std::string fp = *it;
    const size_t dash = fp.find('-');
    return Send(std::stoi(fp.substr(1, dash - 1)), fp.substr(dash + 1), false);
  }

  // A random incident that is open and not maintenance; 0 when none.
  int64_t AnOpenIncident() {
    std::vector<int64_t> ids;
    for (const v1::Incident& i : Ok(h_.queries.ListIncidents(false)).items) {
      if (!i.has_maintenance()) ids.push_back(i.id());
    }
    return ids.empty() ? 0 : ids[Pick(static_cast<int>(ids.size()))];
  }
  std::string PostUpdate() {
    const int64_t id = AnOpenIncident();
    if (id == 0) return Advance();
    const v1::IncidentStatus hints[] = {v1::INCIDENT_STATUS_UNSPECIFIED,
                                        v1::INCIDENT_STATUS_IDENTIFIED,
                                        v1::INCIDENT_STATUS_MONITORING};
    absl::StatusOr<PostedUpdate> r = h_.workflow.PostUpdate(
        testing::Engineer(), id, absl::StrCat("note ", ++counter_),
        {.status_hint = hints[Pick(3)]});
    EXPECT_TRUE(r.ok()) << r.status();
    return absl::StrCat("update INC-", id);
  }
  std::string ResolveIncident() {
    const int64_t id = AnOpenIncident();
    if (id == 0) return Advance();
    absl::StatusOr<Resolution> r =
        h_.workflow.Resolve(testing::Engineer(), id, "");
    EXPECT_TRUE(r.ok()) << r.status();
    return absl::StrCat("resolve INC-", id);
  }
  std::string Acknowledge() {
    const int64_t id = AnOpenIncident();
    if (id == 0) return Advance();
    absl::StatusOr<v1::Incident> r = h_.escalator.Acknowledge(CommsLead(), id);
    EXPECT_TRUE(r.ok()) << r.status();
    return absl::StrCat("ack INC-", id);
  }
  // A random message awaiting approval; nullopt when none.
  std::optional<v1::Message> AWaitingMessage() {
    std::vector<v1::Message> waiting = Ok(h_.queries.ListMessages(0, {})).items;
    if (waiting.empty()) return std::nullopt;
    return waiting[Pick(static_cast<int>(waiting.size()))];
  }
  std::string ApproveOne() {
    std::optional<v1::Message> m = AWaitingMessage();
    if (!m) return Advance();
    absl::StatusOr<Publication> r =
        h_.workflow.Approve(CommsLead(), m->id(), 0);
    // An apology above the rota's authority waits for an admin.
    EXPECT_TRUE(r.ok() || absl::IsPermissionDenied(r.status())) << r.status();
    return absl::StrCat("approve ", m->ref(), " (", EnumLabel(m->kind()), ")",
                        r.ok() ? "" : " refused");
  }
  std::string RejectOrEdit() {
    std::optional<v1::Message> m = AWaitingMessage();
    if (!m) return Advance();
    if (Pick(2) == 0) {
      EXPECT_TRUE(h_.workflow.Reject(CommsLead(), m->id(), 0, "not yet").ok());
      // Rework it at once, as a point person would.
      EXPECT_TRUE(h_.workflow
                      .Edit(testing::Comms(), m->id(), 0,
                            absl::StrCat("Reworked ", ++counter_), "")
                      .ok());
      return absl::StrCat("reject and rework ", m->ref());
    }
    EXPECT_TRUE(h_.workflow
                    .Edit(testing::Comms(), m->id(), 0,
                          absl::StrCat("Edited ", ++counter_), "")
                    .ok());
    return absl::StrCat("edit ", m->ref());
  }
  std::string ScheduleMaintenance() {
    const absl::Time now = h_.clock.Now();
    const absl::Time start = now + absl::Minutes(10 + Pick(50));
    absl::StatusOr<ScheduledMaintenance> m =
        h_.maintenance.Schedule(testing::Engineer(), {{kServices[Pick(3)]},
                                                      start,
                                                      start + absl::Minutes(30),
                                                      "planned work",
                                                      ""});
    EXPECT_TRUE(m.ok() || absl::IsAlreadyExists(m.status())) << m.status();
    return m.ok() ? absl::StrCat("schedule maintenance ", m->incident.ref())
                  : "schedule maintenance (already scheduled)";
  }
  std::string Advance() {
    const absl::Duration by = absl::Minutes(1 + Pick(45));
    h_.clock.Advance(by);
    absl::StatusOr<int> ran = h_.jobs.RunDueJobs(1000);
    EXPECT_TRUE(ran.ok()) << ran.status();
    return absl::StrCat("advance ", absl::FormatDuration(by));
  }

  std::mt19937 rng_;
  CoreHarness h_;
  StatusPage page_;
  std::set<std::string> firing_;
  int counter_ = 0;
};

TEST(IncidentLifecyclePropertyTest, RandomEventSequencesKeepTheInvariants) {
  constexpr int kSeeds = 24;
  constexpr int kSteps = 80;
  for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
    LifecycleModel model(seed);
    std::vector<std::string> trace;
    for (int step = 0; step < kSteps; ++step) {
      trace.push_back(model.Step());
      SCOPED_TRACE(
          absl::StrCat("seed ", seed, ", step ", step, ": ", trace.back()));
      model.CheckInvariants();
      if (::testing::Test::HasFailure()) {
        std::string all;
        for (const std::string& t : trace) absl::StrAppend(&all, "\n  ", t);
        FAIL() << "seed " << seed << " failed after:" << all;
      }
    }
  }
}

}  // namespace
}  // namespace herald
