#include "server/config/bootstrap.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/config_loader.h"
#include "server/store/memory_store.h"

namespace herald {
namespace {

using ::testing::HasSubstr;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

// "export HERALD_TOKEN_ALICE=hrld_..." -> the token.
std::string TokenOf(const std::string& env, const std::string& person) {
  const std::string key = "export HERALD_TOKEN_" + person + "=";
  const size_t at = env.find(key);
  if (at == std::string::npos) return "";
  const size_t from = at + key.size();
  return env.substr(from, env.find('\n', from) - from);
}

class DemoCredentialsTest : public ::testing::Test {
 protected:
  DemoCredentialsTest() {
    dir_ =
        (std::filesystem::path(::testing::TempDir()) /
         absl::StrCat(
             "herald_demo_", getpid(), "_",
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
            .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  bool Authenticates(Store& store, const std::string& token) {
    SecureRandom random;
    Authorizer a(org_, *LoadTokenHashes(store), random);
    return a.Authenticate(token).ok();
  }

  std::shared_ptr<const Organisation> org_ =
      *BuildOrganisation(DefaultConfig(), "test");
  std::string dir_;
  SecureRandom random_;
};

TEST_F(DemoCredentialsTest, FirstStartWritesWorkingTokensAndStoresOnlyHashes) {
  std::unique_ptr<Store> store = NewMemoryStore();
  absl::StatusOr<std::string> path =
      EnsureDemoCredentials(*store, *org_, dir_, random_);
  ASSERT_TRUE(path.ok()) << path.status();
  const std::string env = Slurp(*path);
  const std::string alice = TokenOf(env, "ALICE");
  ASSERT_THAT(alice, HasSubstr("hrld_"));
  EXPECT_TRUE(Authenticates(*store, alice));
  const auto hashes = LoadTokenHashes(*store);
  ASSERT_TRUE(hashes.ok());
  for (const auto& t : *hashes) EXPECT_NE(t.sha256_hex, alice);
  EXPECT_EQ(std::filesystem::status(*path).permissions() &
                std::filesystem::perms::others_read,
            std::filesystem::perms::none);
}

TEST_F(DemoCredentialsTest, LaterStartsReuseTheSameTokens) {
  std::unique_ptr<Store> store = NewMemoryStore();
  const std::string first =
      Slurp(*EnsureDemoCredentials(*store, *org_, dir_, random_));
  const std::string second =
      Slurp(*EnsureDemoCredentials(*store, *org_, dir_, random_));
  EXPECT_EQ(first, second);
}

TEST_F(DemoCredentialsTest, AResetDatabaseGetsFreshTokensThatWork) {
  std::unique_ptr<Store> old_store = NewMemoryStore();
  const std::string stale = TokenOf(
      Slurp(*EnsureDemoCredentials(*old_store, *org_, dir_, random_)), "ALICE");
  std::unique_ptr<Store> reset = NewMemoryStore();  // herald.db deleted
  const std::string fresh = TokenOf(
      Slurp(*EnsureDemoCredentials(*reset, *org_, dir_, random_)), "ALICE");
  EXPECT_NE(fresh, stale);
  EXPECT_TRUE(Authenticates(*reset, fresh));
}

TEST(LinkKeyTest, IsMadeOnceAndKeptInTheStore) {
  SecureRandom random;
  std::unique_ptr<Store> store = NewMemoryStore();
  absl::StatusOr<std::string> first = EnsureLinkKey(*store, random);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 64u);
  EXPECT_EQ(*EnsureLinkKey(*store, random), *first);
  EXPECT_NE(*EnsureLinkKey(*NewMemoryStore(), random), *first);
}

}  // namespace
}  // namespace herald
