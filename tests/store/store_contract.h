// One contract suite, run against every Store implementation.
#ifndef HERALD_TESTS_STORE_STORE_CONTRACT_H_
#define HERALD_TESTS_STORE_STORE_CONTRACT_H_

#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/proto_time.h"
#include "server/store/memory_store.h"
#include "server/store/postgres_store.h"
#include "server/store/sqlite_store.h"
#include "tests/testing/harness.h"
#include "tests/testing/postgres_test_cluster.h"

namespace herald {
// Named, not anonymous: the fixture is one type in every file.
namespace store_testing {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

inline std::string FreshDbPath() {
  static std::atomic<int> n{0};
  const auto dir = std::filesystem::path(::testing::TempDir()) /
                   absl::StrCat("herald_store_", getpid(), "_", n++);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return (dir / "herald.db").string();
}

struct MemoryFactory {
  static std::unique_ptr<Store> Make() { return NewMemoryStore(); }
};
struct SqliteFactory {
  static std::unique_ptr<Store> Make() {
    absl::StatusOr<std::unique_ptr<Store>> s = OpenSqliteStore(FreshDbPath());
    EXPECT_TRUE(s.ok()) << s.status();
    return *std::move(s);
  }
};

// A store of its own per test, in the PostgreSQL cluster the ctest fixture
// started (tests/testing/postgres_cluster.sh): each test gets a fresh
// schema, so tests run side by side in one database.
struct PostgresFactory {
  static std::unique_ptr<Store> Make() {
    absl::StatusOr<std::string> dsn = testing::FreshPostgresSchema();
    if (!dsn.ok()) {
      ADD_FAILURE() << dsn.status();
      return nullptr;
    }
    absl::StatusOr<std::unique_ptr<Store>> s =
        OpenPostgresStore({.dsn = *dsn, .pool_size = 4});
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }
};

template <typename Factory>
class StoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(store_, nullptr) << "the store under test did not open";
  }

  template <typename T>
  T WriteValue(std::function<absl::StatusOr<T>(StoreTxn&)> fn) {
    T out{};
    absl::Status s = store_->Write([&](StoreTxn& txn) -> absl::Status {
      absl::StatusOr<T> v = fn(txn);
      if (!v.ok()) return v.status();
      out = *std::move(v);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }
  absl::Status Write(std::function<absl::Status(StoreTxn&)> fn) {
    return store_->Write(fn);
  }
  template <typename T>
  T ReadValue(std::function<absl::StatusOr<T>(StoreReader&)> fn) {
    T out{};
    absl::Status s = store_->Read([&](StoreReader& r) -> absl::Status {
      absl::StatusOr<T> v = fn(r);
      if (!v.ok()) return v.status();
      out = *std::move(v);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }
  absl::Status ReadStatus(std::function<absl::Status(StoreReader&)> fn) {
    return store_->Read(fn);
  }

  static v1::Incident Incident(const std::string& group_key) {
    v1::Incident i;
    i.set_title("t");
    i.set_group_key(group_key);
    return i;
  }
  static v1::Delivery Delivery(const std::string& key, absl::Time due) {
    v1::Delivery d;
    d.set_message_id(7);
    d.set_incident_id(1);
    d.set_idempotency_key(key);
    d.set_state(v1::DELIVERY_STATE_QUEUED);
    *d.mutable_next_attempt_at() = ToProtoTime(due);
    return d;
  }

  std::unique_ptr<Store> store_ = Factory::Make();
};

using Implementations =
    ::testing::Types<MemoryFactory, SqliteFactory, PostgresFactory>;
TYPED_TEST_SUITE(StoreContractTest, Implementations);

// A subscriber `id` of `components`, with an email and account of its own.
inline v1::Subscriber Sub(
    const std::string& id, std::vector<std::string> components,
    v1::SubscriberStatus status = v1::SUBSCRIBER_STATUS_ACTIVE) {
  v1::Subscriber s;
  s.set_id(id);
  s.set_email(id + "@Example.com");
  s.set_account("acct-" + id);
  s.set_status(status);
  for (auto& c : components) s.add_component_ids(c);
  return s;
}

}  // namespace store_testing
}  // namespace herald

#endif  // HERALD_TESTS_STORE_STORE_CONTRACT_H_
