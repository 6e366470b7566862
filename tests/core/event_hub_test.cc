#include "server/core/event_hub.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Every event `s` holds, in order, as "kind:text".
std::vector<std::string> Drain(EventHub::Subscription& s) {
  std::vector<std::string> out;
  IncidentEvent e;
  while (s.Pop(&e)) out.push_back(e.kind + ":" + e.text);
  return out;
}

void Publish(EventHub& hub, int64_t incident, const std::string& text) {
  hub.Publish({.at = absl::UnixEpoch(),
               .incident_id = incident,
               .kind = "update",
               .actor = "alice",
               .text = text});
}

TEST(EventHubTest, ARelayGetsEveryPublishedEventAndReceivedOnesAreNotSentBack) {
  // Two heraldd on one store: what one publishes reaches the other's
  // watchers, and nothing loops back.
  EventHub a, b;
  std::vector<IncidentEvent> sent_by_a, sent_by_b;
  a.SetRelay([&](const IncidentEvent& e) { sent_by_a.push_back(e); });
  b.SetRelay([&](const IncidentEvent& e) { sent_by_b.push_back(e); });
  EXPECT_TRUE(a.watched()) << "a relaying hub builds events for others";
  auto on_b = b.Subscribe(0, [] {});
  Publish(a, 1, "rolled back");
  ASSERT_EQ(sent_by_a.size(), 1u);
  const uint64_t before = b.changes();
  b.Receive(sent_by_a[0]);
  EXPECT_THAT(Drain(*on_b), ElementsAre("update:rolled back"));
  EXPECT_TRUE(sent_by_b.empty());
  EXPECT_EQ(b.changes(), before + 1) << "caches on b read again";
  // Some may have been missed: counted as a change, nobody told more.
  b.Receive(std::nullopt);
  EXPECT_EQ(b.changes(), before + 2);
  EXPECT_TRUE(Drain(*on_b).empty());
}

TEST(EventHubTest, TheChangeListenerHearsEveryChangeCountedHereOrElsewhere) {
  EventHub hub;
  std::vector<uint64_t> heard;  // changes() as the listener saw it
  hub.OnChange([&] { heard.push_back(hub.changes()); });
  hub.CountChange();
  hub.Receive(std::nullopt);  // another heraldd's, some missed
  EXPECT_THAT(heard, ElementsAre(1, 2)) << "counted before it is heard";
  // Events alone are not changes: a delivery announces, it changes no page.
  Publish(hub, 1, "delivered");
  EXPECT_EQ(heard.size(), 2u);
  hub.OnChange(nullptr);
  hub.CountChange();
  EXPECT_EQ(heard.size(), 2u) << "a removed listener is not called again";
  EXPECT_EQ(hub.changes(), 3u);
}

TEST(EventHubTest, AWatcherGetsOnlyItsIncidentsEventsAndAnAllWatcherEvery) {
  EventHub hub;
  auto one = hub.Subscribe(1, nullptr);
  auto all = hub.Subscribe(0, nullptr);
  Publish(hub, 1, "first");
  Publish(hub, 2, "second");
  EXPECT_THAT(Drain(*one), ElementsAre("update:first"));
  EXPECT_THAT(Drain(*all), ElementsAre("update:first", "update:second"));
}

TEST(EventHubTest, AFullQueueDropsItsOldestAndSaysHowManyBeforeTheRest) {
  EventHub hub(/*queue_capacity=*/2);
  auto slow = hub.Subscribe(0, nullptr);
  Publish(hub, 1, "a");
  Publish(hub, 1, "b");
  Publish(hub, 1, "c");
  const std::vector<std::string> got = Drain(*slow);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_THAT(got[0], HasSubstr("lagged:1 event(s) dropped"));
  EXPECT_EQ(got[1], "update:b");
  EXPECT_EQ(got[2], "update:c");
  EXPECT_EQ(slow->dropped(), 1);
  EXPECT_EQ(hub.dropped(), 1);
}

TEST(EventHubTest, OnlyEventsActuallyDroppedAreCounted) {
  EventHub hub(/*queue_capacity=*/1);
  auto slow = hub.Subscribe(0, nullptr);
  Publish(hub, 1, "a");
  Publish(hub, 1, "b");  // drops "a"
  Drain(*slow);
  Publish(hub, 1, "c");  // room again: nothing dropped
  Publish(hub, 1, "d");  // drops "c"
  EXPECT_EQ(hub.dropped(), 2);
  EXPECT_EQ(slow->dropped(), 2);
}

TEST(EventHubTest, AnUnsubscribedWatcherIsNeverWokenAgain) {
  EventHub hub;
  int woken = 0;
  auto s = hub.Subscribe(0, [&woken] { ++woken; });
  EXPECT_TRUE(hub.watched());
  Publish(hub, 1, "a");
  EXPECT_EQ(woken, 1);
  hub.Unsubscribe(s);
  Publish(hub, 1, "b");
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(hub.subscribers(), 0);
  EXPECT_FALSE(hub.watched());
}

TEST(EventHubTest, DeliveryEventsNameTheRecipientOnlyToWhoMayReadDeliveries) {
  IncidentEvent e{.kind = "delivered", .text = "grace@globex.example by email"};
  EXPECT_EQ(VisibleTo({"alice", {v1::ROLE_ENGINEER}}, e).text,
            "a recipient (whom, only comms and admin roles see)");
  EXPECT_EQ(VisibleTo({"bob", {v1::ROLE_COMMS}}, e).text,
            "grace@globex.example by email");
  e.kind = "update";
  EXPECT_EQ(VisibleTo({"alice", {v1::ROLE_ENGINEER}}, e).text,
            "grace@globex.example by email");
}

}  // namespace
}  // namespace herald
