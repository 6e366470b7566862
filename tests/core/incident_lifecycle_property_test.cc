#include "tests/core/incident_lifecycle_fixture.h"

namespace herald {
namespace lifecycle_testing {

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
    const PublicState state = Ok(page_.Read());
    for (const sp::Incident& i : state.all.incidents()) {
      shown[std::stoll(i.id().substr(4))] = i;
    }
    const sp::Summary current = StatusPage::Current(state);
    for (const sp::Incident& i : current.scheduled_maintenances()) {
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
      const IncidentDetail full = Ok(h_.queries.GetIncident(i.id()));
      for (const v1::Alert& a : full.alerts) {
        EXPECT_EQ(a.incident_id(), i.id());
        if (a.status() == v1::ALERT_STATUS_FIRING) ++owners[a.fingerprint()];
      }
      // What customers see is only ever approved text.
      std::vector<const v1::Message*> published;
      for (const v1::Message& m : full.messages) {
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
      // Its name is its newest update's (a resolution keeps it).
      const auto named = std::find_if(
          published.begin(), published.end(), [](const v1::Message* m) {
            return m->kind() != v1::MESSAGE_KIND_RESOLUTION;
          });
      EXPECT_EQ(
          p.name(),
          (named == published.end() ? published.front() : *named)->title());
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
        for (const v1::Message& m : full.messages) {
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
        h_.workflow.Approve(CommsLead(), m->id(), 0, kAsWritten);
    // An apology above the rota's authority waits for an admin; a
    // maintenance notice, for its announcement's approval.
    EXPECT_TRUE(
        r.ok() || absl::IsPermissionDenied(r.status()) ||
        (m->covered_by() != 0 && absl::IsFailedPrecondition(r.status())))
        << r.status();
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
    // Now and then, one in progress is done instead.
    for (const v1::Incident& i : Ok(h_.queries.ListIncidents(false)).items) {
      if (i.has_maintenance() &&
          i.status() == v1::INCIDENT_STATUS_IN_PROGRESS && Pick(2) == 0) {
        absl::StatusOr<CompletedMaintenance> done =
            h_.maintenance.Complete(testing::Engineer(), i.id());
        EXPECT_TRUE(done.ok()) << done.status();
        return absl::StrCat("complete maintenance ", i.ref());
      }
    }
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

}  // namespace lifecycle_testing
}  // namespace herald
