// Writes whose transaction runs more than once, as a store that retries
// conflicting transactions (PostgreSQL) runs them: RerunningStore itself,
// and the main workflows through it, which must leave what one run of each
// write leaves.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/event_hub.h"
#include "server/delivery/channel.h"
#include "server/delivery/delivery_outbox.h"
#include "server/store/memory_store.h"
#include "tests/testing/failing_store.h"
#include "tests/testing/harness.h"
#include "tests/testing/rerunning_store.h"

namespace herald {
namespace {

using testing::CommsLead;
using testing::CoreHarness;
using ::testing::ElementsAreArray;
using testing::Engineer;
using testing::FailingStore;
using testing::FiringGroup;
using ::testing::IsSupersetOf;
using testing::RerunningStore;

// The setting `name` as `store` holds it, or "" when it holds none.
std::string SettingIn(Store& store, const std::string& name) {
  std::string out;
  EXPECT_TRUE(store
                  .Read([&](StoreReader& r) -> absl::Status {
                    out = r.GetSetting(name).value_or("");
                    return absl::OkStatus();
                  })
                  .ok());
  return out;
}

TEST(RerunningStoreTest, KeepsOnlyTheSecondRunOfAWrite) {
  RerunningStore store(NewMemoryStore());
  int runs = 0;
  ASSERT_TRUE(store
                  .Write([&](StoreTxn& txn) {
                    ++runs;
                    return txn.PutSetting(absl::StrCat("run", runs), "done");
                  })
                  .ok());
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(store.discarded_runs(), 1);
  EXPECT_EQ(SettingIn(store, "run1"), "") << "the first run was rolled back";
  EXPECT_EQ(SettingIn(store, "run2"), "done");
}

TEST(RerunningStoreTest, AnswersWhatTheSecondRunReturns) {
  RerunningStore store(NewMemoryStore());
  int runs = 0;
  absl::Status s = store.Write([&](StoreTxn&) -> absl::Status {
    return ++runs == 1 ? absl::OkStatus()
                       : absl::FailedPreconditionError("second run");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(runs, 2);
}

TEST(RerunningStoreTest, AWriteTheInnerStoreRefusesRunsNothing) {
  auto failing = std::make_unique<FailingStore>(NewMemoryStore());
  failing->FailWrites(true);
  RerunningStore store(std::move(failing));
  int runs = 0;
  absl::Status s = store.Write([&](StoreTxn&) {
    ++runs;
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(runs, 0);
}

TEST(RerunningStoreTest, WriteAsyncRunsTwiceAndAnswersOnce) {
  RerunningStore store(NewMemoryStore());
  int runs = 0;
  std::vector<absl::Status> answers;
  store.WriteAsync(
      [&](StoreTxn& txn) {
        ++runs;
        return txn.PutSetting(absl::StrCat("run", runs), "done");
      },
      [&](absl::Status s) { answers.push_back(s); });
  // The in-memory store answers before WriteAsync returns.
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].ok()) << answers[0];
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(SettingIn(store, "run1"), "");
  EXPECT_EQ(SettingIn(store, "run2"), "done");
}

TEST(WriteRerunTest, TheCoreHarnessRunsEveryWriteTwice) {
  CoreHarness h;
  auto* store = dynamic_cast<RerunningStore*>(h.store);
  ASSERT_NE(store, nullptr);
  const int64_t before = store->discarded_runs();
  ASSERT_TRUE(h.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"})).ok());
  EXPECT_EQ(store->discarded_runs(), before + 1);
}

// Sends whatever is due through the server's outbox.
void SendEverythingDue(CoreHarness& h, std::vector<std::string>& out) {
  for (int round = 0; round < 20; ++round) {
    absl::StatusOr<int> sent = h.server->outbox().RunOnce();
    if (!sent.ok()) {
      out.push_back(absl::StrCat("outbox: ", sent.status().ToString()));
      return;
    }
    if (*sent == 0) return;
  }
}

// Drives the main workflows on `h`: alerts in, an engineer's update, its
// approval and fan-out, escalation and acknowledgement, resolution with the
// apology and its amends, the follow-up (failing, then retried), and a
// maintenance window. Returns, as text, what each step answered and what
// the store, the watchers, the channels and the metrics were left with;
// nothing that comes from randomness (link keys, voucher codes).
std::vector<std::string> MainWorkflowsAsText(CoreHarness& h) {
  std::vector<std::string> out;
  const auto step = [&](absl::string_view name, const absl::Status& s) {
    out.push_back(absl::StrCat(name, ": ", absl::StatusCodeToString(s.code())));
  };
  std::shared_ptr<EventHub::Subscription> watcher =
      h.events.Subscribe(0, [] {});

  // Alerts: a new incident, the same notification again, another group.
  v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1", "fp2"});
  (*g.mutable_alerts(0)->mutable_labels())["customer"] = "Umbrella";
  (*g.mutable_alerts(1)->mutable_labels())["tenant"] = "Initech";
  absl::StatusOr<IntakeResult> opened = h.intake.Ingest(g);
  step("ingest", opened.status());
  const int64_t id = opened.ok() ? opened->incident_id : 0;
  step("ingest again", h.intake.Ingest(g).status());
  h.intake.IngestAsync(FiringGroup("g2", "checkout", {"fp3"}),
                       [&](absl::StatusOr<IntakeResult> r) {
                         step("ingest async", r.status());
                       });

  // An engineer's update, approved and sent.
  absl::StatusOr<PostedUpdate> posted =
      h.workflow.PostUpdate(Engineer(), id, "We rolled back the deploy");
  step("update", posted.status());
  if (posted.ok()) {
    step("approve update",
         h.workflow.Approve(CommsLead(), posted->draft.id(), 0, kAsWritten)
             .status());
  }
  SendEverythingDue(h, out);

  // Nobody acknowledges in time: escalated; then acknowledged.
  h.clock.Advance(absl::Minutes(16));
  absl::StatusOr<int> ran = h.jobs.RunDueJobs();
  step("jobs at 16m", ran.status());
  out.push_back(absl::StrCat("jobs run at 16m: ", ran.value_or(-1)));
  step("acknowledge", h.escalator.Acknowledge(CommsLead(), id).status());

  // Resolved after 45 minutes; the resolution and the apology approved.
  h.clock.Advance(absl::Minutes(29));
  ran = h.jobs.RunDueJobs();
  step("jobs at 45m", ran.status());
  out.push_back(absl::StrCat("jobs run at 45m: ", ran.value_or(-1)));
  absl::StatusOr<Resolution> resolved =
      h.workflow.Resolve(CommsLead(), id, "A bad deploy of the cart");
  step("resolve", resolved.status());
  if (resolved.ok()) {
    out.push_back(
        absl::StrCat("drafts on resolving: ", resolved->drafts.size()));
    for (const v1::Message& m : resolved->drafts) {
      step(absl::StrCat("approve ", m.ref()),
           h.workflow.Approve(CommsLead(), m.id(), 0, kAsWritten).status());
    }
  }
  SendEverythingDue(h, out);

  // The follow-up goes out a week later and fails; it is queued again.
  h.clock.Advance(absl::Hours(8 * 24));
  ran = h.jobs.RunDueJobs();
  step("jobs a week later", ran.status());
  out.push_back(absl::StrCat("jobs run a week later: ", ran.value_or(-1)));
  h.channel.RespondWith(
      [](const Outgoing&) { return SendResult::Rejected("550 mailbox full"); });
  SendEverythingDue(h, out);
  h.channel.RespondWith(nullptr);
  absl::StatusOr<int> retried =
      h.workflow.RetryFailedDeliveries(CommsLead(), {});
  step("retry", retried.status());
  out.push_back(absl::StrCat("retried: ", retried.value_or(-1)));
  SendEverythingDue(h, out);

  // A maintenance window, announced, started and ended.
  const absl::Time now = h.clock.Now();
  absl::StatusOr<ScheduledMaintenance> maintenance = h.maintenance.Schedule(
      CommsLead(), {.component_ids = {"checkout"},
                    .starts_at = now + absl::Hours(1),
                    .ends_at = now + absl::Hours(2),
                    .text = "The database is upgraded."});
  step("schedule maintenance", maintenance.status());
  if (maintenance.ok()) {
    step("approve announcement",
         h.workflow.Approve(CommsLead(), maintenance->draft.id(), 0, kAsWritten)
             .status());
  }
  for (int hour : {1, 2}) {
    h.clock.Advance(absl::Hours(1) + absl::Minutes(1));
    ran = h.jobs.RunDueJobs();
    step(absl::StrCat("jobs in maintenance hour ", hour), ran.status());
    out.push_back(absl::StrCat("jobs run in maintenance hour ", hour, ": ",
                               ran.value_or(-1)));
  }
  SendEverythingDue(h, out);

  // What is left.
  const std::vector<v1::Incident> incidents =
      h.Read<std::vector<v1::Incident>>([](StoreReader& r) {
        return r.ListIncidents({.include_resolved = true});
      });
  for (const v1::Incident& i : incidents) {
    out.push_back(i.ShortDebugString());
    for (const v1::TimelineEvent& e : h.Read<std::vector<v1::TimelineEvent>>(
             [&](StoreReader& r) { return r.ListTimeline(i.id()); })) {
      out.push_back(e.ShortDebugString());
    }
    std::vector<v1::Delivery> deliveries = h.Read<std::vector<v1::Delivery>>(
        [&](StoreReader& r) { return r.ListDeliveries(0, i.id()); });
    for (const v1::Message& m : h.Read<std::vector<v1::Message>>(
             [&](StoreReader& r) { return r.ListMessages({i.id()}); })) {
      out.push_back(m.ShortDebugString());
      for (v1::Delivery& d : h.Read<std::vector<v1::Delivery>>(
               [&](StoreReader& r) { return r.ListDeliveries(m.id(), 0); })) {
        deliveries.push_back(std::move(d));
      }
    }
    for (v1::Delivery& d : deliveries) {
      // A staff notice's rendered text may carry signed links.
      d.clear_body();
      d.clear_html_body();
      out.push_back(d.ShortDebugString());
    }
    for (v1::Amends& a : h.Read<std::vector<v1::Amends>>(
             [&](StoreReader& r) { return r.ListAmends(i.id()); })) {
      a.mutable_credit()->clear_voucher_code();  // random
      out.push_back(a.ShortDebugString());
    }
  }
  for (const v1::AuditEntry& e : h.Read<std::vector<v1::AuditEntry>>(
           [](StoreReader& r) { return r.ListAudit(0); })) {
    out.push_back(e.ShortDebugString());
  }
  IncidentEvent e;
  while (watcher->Pop(&e)) {
    out.push_back(absl::StrCat("event ", e.incident_id, " ", e.kind, " ",
                               e.actor, " ", e.text, " ", e.message_ref));
  }
  h.events.Unsubscribe(watcher);
  out.push_back(absl::StrCat("changes: ", h.events.changes()));
  out.push_back(absl::StrCat("sends: ", h.channel.Sends()));
  out.push_back(
      absl::StrCat("incidents opened: ", h.metrics.incidents_opened.Value()));
  out.push_back(absl::StrCat("messages published: ",
                             h.metrics.messages_published.Value()));
  out.push_back(absl::StrCat("recipients unreached: ",
                             h.delivery_metrics.recipients_unreached.Value()));
  return out;
}

TEST(WriteRerunTest, TheMainWorkflowsLeaveWhatOneRunOfEachWriteLeaves) {
  CoreHarness once(NewMemoryStore(), DefaultConfig(), /*rerun_writes=*/false);
  CoreHarness twice;
  const std::vector<std::string> expected = MainWorkflowsAsText(once);
  EXPECT_THAT(
      expected,
      IsSupersetOf({"ingest: OK", "ingest async: OK", "update: OK",
                    "approve update: OK", "acknowledge: OK", "resolve: OK",
                    "drafts on resolving: 2", "retry: OK",
                    "schedule maintenance: OK", "approve announcement: OK"}))
      << "the scenario itself went wrong";
  EXPECT_THAT(MainWorkflowsAsText(twice), ElementsAreArray(expected));
}

}  // namespace
}  // namespace herald
