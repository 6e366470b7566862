// IncidentQueries' inbox and reach: what the comms console shows first. The
// inbox orders waiting messages newest incident first and gives each its
// audience (subscribers, or the affected customers for an apology) and
// when customers are due their next update; an incident's reach counts
// each published message's deliveries per channel.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/proto_time.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using testing::CommsLead;
using testing::CoreHarness;
using testing::Engineer;
using testing::FiringGroup;

class InboxTest : public ::testing::Test {
 protected:
  int64_t Open(const std::string& group, const std::string& service) {
    return h_.intake.Ingest(FiringGroup(group, service, {group + "-fp"}))
        ->incident_id;
  }
  v1::Message Update(int64_t incident, const std::string& text) {
    return h_.workflow.PostUpdate(Engineer(), incident, text)->draft;
  }
  std::vector<v1::InboxItem> Inbox() { return *h_.queries.Inbox(); }

  CoreHarness h_;
};

TEST_F(InboxTest, NewestIncidentFirstAndEachIncidentsOldestMessageFirst) {
  const int64_t first = Open("g1", "checkout");
  const int64_t second = Open("g2", "dashboard");
  const v1::Message a = Update(second, "cache cold");
  const v1::Message b = Update(first, "rolled back");
  const std::vector<v1::InboxItem> inbox = Inbox();
  ASSERT_EQ(inbox.size(), 2u);
  EXPECT_EQ(inbox[0].message().id(), a.id());
  EXPECT_EQ(inbox[0].incident_ref(), absl::StrCat("INC-", second));
  EXPECT_EQ(inbox[1].message().id(), b.id());
  EXPECT_FALSE(inbox[1].message().has_published_incident());
}

TEST_F(InboxTest, StatusMessagesReachSubscribersApologiesTheAffected) {
  v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  (*g.mutable_alerts(0)->mutable_labels())["customer"] = "Umbrella";
  const int64_t incident = h_.intake.Ingest(g)->incident_id;
  Update(incident, "rolled back");
  ASSERT_EQ(Inbox().size(), 1u);
  EXPECT_EQ(Inbox()[0].audience_size(), 2);  // checkout: globex, initech

  h_.clock.Advance(absl::Hours(1));
  auto resolved = h_.workflow.Resolve(CommsLead(), incident, "bad deploy");
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  for (const v1::InboxItem& item : Inbox()) {
    if (item.message().kind() == v1::MESSAGE_KIND_APOLOGY) {
      EXPECT_EQ(item.audience_size(), 3);  // and Umbrella, named by the alert
    }
  }
}

TEST_F(InboxTest, TheCadenceRunsFromTheLastPublishedStatusUpdate) {
  const int64_t incident = Open("g1", "checkout");  // critical: 30 minutes
  const absl::Time opened = h_.clock.Now();
  const v1::Message first = Update(incident, "looking");
  EXPECT_EQ(FromProtoTime(Inbox()[0].update_due_at()),
            opened + absl::Minutes(30));
  EXPECT_FALSE(Inbox()[0].update_overdue());

  h_.clock.Advance(absl::Minutes(10));
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), first.id(), 0, kAsWritten).ok());
  h_.clock.Advance(absl::Minutes(10));
  Update(incident, "rolled back");
  EXPECT_EQ(FromProtoTime(Inbox()[0].update_due_at()),
            opened + absl::Minutes(40));
  h_.clock.Advance(absl::Minutes(19));
  EXPECT_FALSE(Inbox()[0].update_overdue());
  h_.clock.Advance(absl::Minutes(2));
  EXPECT_TRUE(Inbox()[0].update_overdue());
}

TEST_F(InboxTest, AResolvedIncidentHasNoCadence) {
  const int64_t incident = Open("g1", "checkout");
  h_.clock.Advance(absl::Hours(2));
  ASSERT_TRUE(h_.workflow.Resolve(CommsLead(), incident, "fixed").ok());
  ASSERT_FALSE(Inbox().empty());
  for (const v1::InboxItem& item : Inbox()) {
    EXPECT_FALSE(item.has_update_due_at()) << item.message().ref();
    EXPECT_FALSE(item.update_overdue());
  }
}

TEST_F(InboxTest, ReachCountsEachPublishedMessagesDeliveriesPerChannel) {
  const int64_t incident = Open("g1", "checkout");
  const v1::Message draft = Update(incident, "rolled back");
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), draft.id(), 0, kAsWritten).ok());
  std::vector<v1::Delivery> deliveries = h_.Read<std::vector<v1::Delivery>>(
      [&](StoreReader& r) { return r.ListDeliveries(draft.id(), 0); });
  ASSERT_EQ(deliveries.size(), 2u);
  deliveries[0].set_channel(v1::CHANNEL_KIND_EMAIL);
  deliveries[0].set_state(v1::DELIVERY_STATE_DELIVERED);
  ASSERT_TRUE(h_.store
                  ->Write([&](StoreTxn& txn) {
                    return txn.UpdateDelivery(deliveries[0]);
                  })
                  .ok());

  EXPECT_EQ(h_.queries.GetIncident(incident)->reach.size(), 0);  // not asked
  const IncidentDetail got = *h_.queries.GetIncident(incident, true);
  ASSERT_EQ(got.reach.size(), 2);  // one tried on email, one not yet tried
  for (const v1::MessageReach& r : got.reach) {
    EXPECT_EQ(r.message_ref(), draft.ref());
    if (r.channel() == v1::CHANNEL_KIND_EMAIL) {
      EXPECT_EQ(r.delivered(), 1);
      EXPECT_EQ(r.pending(), 0);
    } else {
      EXPECT_EQ(r.channel(), v1::CHANNEL_KIND_UNSPECIFIED);
      EXPECT_EQ(r.pending(), 1);
    }
  }
}

}  // namespace
}  // namespace herald
