// Console sessions live in the store, so that every heraldd on a shared
// store knows every session: signing in on one and acting on another works,
// and signing out on one signs out everywhere.
#include "server/http/console_sessions.h"

#include <memory>
#include <optional>

#include "gtest/gtest.h"
#include "server/base/clock.h"
#include "server/base/random.h"
#include "server/store/memory_store.h"

namespace herald {
namespace {

class ConsoleSessionsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> store_ = NewMemoryStore();
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  SeededRandom random_{7};
  // Two heraldd on one store.
  ConsoleSessions a_{*store_, clock_, random_, absl::Hours(8)};
  ConsoleSessions b_{*store_, clock_, random_, absl::Hours(8)};
};

TEST_F(ConsoleSessionsTest, ASessionStartedOnOneHeralddWorksOnAnother) {
  absl::StatusOr<ConsoleSessions::Created> created =
      a_.Start({"carol", {v1::ROLE_COMMS_LEAD}});
  ASSERT_TRUE(created.ok()) << created.status();
  std::optional<ConsoleSessions::Session> on_b = b_.Find(created->secret);
  ASSERT_TRUE(on_b.has_value());
  EXPECT_EQ(on_b->caller.person_id, "carol");
  EXPECT_EQ(on_b->caller.roles, std::set<v1::Role>{v1::ROLE_COMMS_LEAD});
  EXPECT_TRUE(
      b_.CsrfTokenMatches(created->secret, created->session.csrf_token));
  EXPECT_FALSE(b_.CsrfTokenMatches(created->secret, "forged"));
  EXPECT_EQ(b_.Lookup()(created->secret)->person_id, "carol");
}

TEST_F(ConsoleSessionsTest, SigningOutOnOneHeralddSignsOutEverywhere) {
  absl::StatusOr<ConsoleSessions::Created> created =
      a_.Start({"carol", {v1::ROLE_COMMS_LEAD}});
  ASSERT_TRUE(created.ok());
  b_.End(created->secret);
  EXPECT_FALSE(a_.Find(created->secret).has_value());
  EXPECT_FALSE(
      a_.CsrfTokenMatches(created->secret, created->session.csrf_token));
}

TEST_F(ConsoleSessionsTest, ASessionEndsWhenItsTimeIsUpAndUnknownOnesAreNone) {
  absl::StatusOr<ConsoleSessions::Created> created =
      a_.Start({"carol", {v1::ROLE_COMMS_LEAD}});
  ASSERT_TRUE(created.ok());
  clock_.Advance(absl::Hours(8) - absl::Seconds(1));
  EXPECT_TRUE(b_.Find(created->secret).has_value());
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(b_.Find(created->secret).has_value());
  EXPECT_FALSE(b_.Find("").has_value());
  EXPECT_FALSE(b_.Find("0123456789abcdef").has_value());
}

}  // namespace
}  // namespace herald
