// Live watching over a real in-process gRPC server: events reach watchers,
// and a watcher that never reads holds up neither the server nor anyone else.
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "herald/v1/herald.grpc.pb.h"
#include "server/wire/wire_views.h"
#include "tests/testing/grpc_harness.h"

namespace herald {
namespace {

using ::testing::Contains;
using testing::FiringGroup;
using testing::GrpcHarness;
using testing::TokenFor;

struct Watcher {
  Watcher(GrpcHarness& h, const std::string& incident,
          const grpc::ChannelArguments& args = {},
          const std::string& person = "dave") {
    channel = grpc::CreateCustomChannel(
        h.address(), grpc::InsecureChannelCredentials(), args);
    stub = v1::IncidentService::NewStub(channel);
    ctx.AddMetadata("authorization", "Bearer " + TokenFor(person));
    v1::WatchRequest req;
    req.set_incident(incident);
    reader = stub->Watch(&ctx, req);
    v1::WatchEvent first;
    live = reader->Read(&first) && first.kind() == "watching";
  }
  ~Watcher() {
    ctx.TryCancel();
    reader->Finish();
  }
  // Reads until an event of `kind` arrives; false if the stream ends first.
  bool ReadUntil(const std::string& kind, v1::WatchEvent* e = nullptr) {
    v1::WatchEvent ev;
    while (reader->Read(&ev)) {
      if (ev.kind() == kind) {
        if (e != nullptr) *e = ev;
        return true;
      }
    }
    return false;
  }

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::IncidentService::Stub> stub;
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> reader;
  bool live = false;
};

TEST(WatchTest, AnEventCrossesToAnotherHeralddUnchanged) {
  // What a StoreBroadcast carries between replicas: one printable line.
  const IncidentEvent sent{.at = absl::FromUnixSeconds(1'800'000'000),
                           .incident_id = 12,
                           .kind = "update",
                           .actor = "alice",
                           .text = "rolled back\nerrors falling \xe2\x9c\x93",
                           .message_ref = "MSG-3"};
  const std::string line = ToBroadcastLine(sent);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  std::optional<IncidentEvent> got = FromBroadcastLine(line);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->at, sent.at);
  EXPECT_EQ(got->incident_id, 12);
  EXPECT_EQ(got->kind, "update");
  EXPECT_EQ(got->actor, "alice");
  EXPECT_EQ(got->text, sent.text);
  EXPECT_EQ(got->message_ref, "MSG-3");
  EXPECT_FALSE(FromBroadcastLine("not base64 !").has_value());
}

TEST(WatchTest, AWatcherSeesAlertsUpdatesDraftsAndApprovals) {
  GrpcHarness h;
  Watcher w(h, "");
  ASSERT_TRUE(w.live);
  const int64_t id =
      h.core.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  const v1::Message draft =
      h.core.workflow.PostUpdate(testing::Engineer(), id, "rolled back")->draft;
  ASSERT_TRUE(
      h.core.workflow.Approve(testing::CommsLead(), draft.id(), 0, kAsWritten)
          .ok());

  std::vector<std::string> kinds;
  v1::WatchEvent e;
  while (kinds.size() < 5 && w.reader->Read(&e)) {
    if (e.kind() != "delivered") kinds.push_back(e.kind());
  }
  EXPECT_THAT(kinds, Contains("opened"));
  EXPECT_THAT(kinds, Contains("alerts"));
  EXPECT_THAT(kinds, Contains("update"));
  EXPECT_THAT(kinds, Contains("drafted"));
  EXPECT_THAT(kinds, Contains("approved"));
}

TEST(WatchTest, AWatcherOfOneIncidentSeesOnlyThatIncident) {
  GrpcHarness h;
  const int64_t first =
      h.core.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))->incident_id;
  const int64_t second =
      h.core.intake.Ingest(FiringGroup("g2", "dashboard", {"fp2"}))
          ->incident_id;
  ASSERT_NE(first, second);
  Watcher w(h, absl::StrCat("INC-", second));
  ASSERT_TRUE(w.live);
  ASSERT_TRUE(
      h.core.workflow.PostUpdate(testing::Engineer(), first, "not yours").ok());
  ASSERT_TRUE(
      h.core.workflow.PostUpdate(testing::Engineer(), second, "yours").ok());
  v1::WatchEvent e;
  ASSERT_TRUE(w.ReadUntil("update", &e));
  EXPECT_EQ(e.incident_id(), second);
  EXPECT_EQ(e.text(), "yours");
}

TEST(WatchTest, OnlyRolesThatReadDeliveriesSeeWhomADeliveryReached) {
  GrpcHarness h;
  Watcher engineer(h, "", {}, "alice");
  Watcher admin(h, "", {}, "dave");
  ASSERT_TRUE(engineer.live && admin.live);
  h.core.events.Publish(
      {.at = h.core.clock.Now(),
       .incident_id = 1,
       .kind = "delivered",
       .actor = "herald",
       .text = "subscriber:globex by email grace@globex.example",
       .message_ref = "MSG-2"});
  v1::WatchEvent seen_by_engineer, seen_by_admin;
  ASSERT_TRUE(engineer.ReadUntil("delivered", &seen_by_engineer));
  ASSERT_TRUE(admin.ReadUntil("delivered", &seen_by_admin));
  EXPECT_THAT(seen_by_engineer.text(),
              ::testing::Not(::testing::HasSubstr("grace@globex.example")));
  EXPECT_EQ(seen_by_engineer.message_ref(), "MSG-2");
  EXPECT_EQ(seen_by_admin.text(),
            "subscriber:globex by email grace@globex.example");
}

TEST(WatchTest, AWatcherThatNeverReadsBlocksNeitherTheServerNorOthers) {
  GrpcHarness h;
  // The stuck watcher's client grants the default 64 KiB window and no more.
  grpc::ChannelArguments small_window;
  small_window.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  Watcher stuck(h, "", small_window);
  Watcher fast(h, "");
  ASSERT_TRUE(stuck.live && fast.live);

  absl::Mutex mu;
  int received = 0;
  std::thread reader([&] {
    v1::WatchEvent e;
    while (fast.reader->Read(&e)) {
      if (e.kind() != "load") continue;
      absl::MutexLock lock(&mu);
      ++received;
    }
  });

  // 6 x 500 events of 1 KiB: far beyond what the stuck watcher's window and
  // queue hold. Each batch waits for the fast watcher, never for the stuck.
  const std::string payload(1024, 'x');
  constexpr int kBatches = 6, kBatch = 500;
  for (int b = 0; b < kBatches; ++b) {
    for (int i = 0; i < kBatch; ++i) {
      h.core.events.Publish({.at = absl::UnixEpoch(),
                             .incident_id = 0,
                             .kind = "load",
                             .actor = "test",
                             .text = payload});
    }
    const int want = (b + 1) * kBatch;
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](std::pair<int*, int>* p) { return *p->first >= p->second; },
        std::make_unique<std::pair<int*, int>>(&received, want).get()));
  }
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(received, kBatches * kBatch) << "the fast watcher lost nothing";
  }
  EXPECT_GT(h.core.events.dropped(), 0)
      << "the stuck watcher's queue overflowed";

  // Once it reads again, the stuck watcher learns what it missed.
  v1::WatchEvent lagged;
  ASSERT_TRUE(stuck.ReadUntil("lagged", &lagged));
  EXPECT_THAT(lagged.text(), ::testing::HasSubstr("dropped"));

  fast.ctx.TryCancel();
  reader.join();
}

}  // namespace
}  // namespace herald
