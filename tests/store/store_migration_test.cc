// Moving a SQLite deployment to PostgreSQL: everything arrives, reads back
// the same through the store, new rows get new ids, and a target that
// already holds data is refused.
#include "server/store/store_migration.h"

#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/proto_time.h"
#include "server/store/postgres_store.h"
#include "server/store/sqlite_store.h"
#include "tests/store/store_contract.h"
#include "tests/testing/postgres_test_cluster.h"

namespace herald {
namespace {

using ::testing::HasSubstr;

class StoreMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> dsn = testing::FreshPostgresSchema();
    ASSERT_TRUE(dsn.ok()) << dsn.status();
    target_.dsn = *dsn;
    sqlite_path_ = store_testing::FreshDbPath();
    absl::StatusOr<std::unique_ptr<Store>> sqlite =
        OpenSqliteStore(sqlite_path_);
    ASSERT_TRUE(sqlite.ok()) << sqlite.status();
    // A little of everything, with the awkward cases: a binary setting,
    // a NULL voucher code, a resolved and an open incident.
    absl::Status s = (*sqlite)->Write([&](StoreTxn& txn) -> absl::Status {
      for (const char* group : {"checkout", "search"}) {
        v1::Incident i;
        i.set_title(group);
        i.set_group_key(group);
        absl::StatusOr<int64_t> id = txn.InsertIncident(i);
        if (!id.ok()) return id.status();
        for (int a = 0; a < 3; ++a) {
          v1::Alert alert;
          alert.set_fingerprint(absl::StrCat(group, a));
          alert.set_incident_id(*id);
          if (auto st = txn.PutAlert(alert); !st.ok()) return st;
        }
      }
      if (auto st = txn.PutSetting("link_key", std::string("\0\xff k", 4));
          !st.ok()) {
        return st;
      }
      if (auto st = txn.PutSubscriber(store_testing::Sub("s1", {"api"}));
          !st.ok()) {
        return st;
      }
      v1::Amends amends;
      amends.set_incident_id(1);
      amends.set_subscriber_id("s1");
      if (auto id = txn.InsertAmends(amends); !id.ok()) return id.status();
      return txn.PutExpiring("console_session", "h", "v",
                             absl::FromUnixSeconds(4'000'000'000));
    });
    ASSERT_TRUE(s.ok()) << s;
  }

  PostgresStoreOptions target_;
  std::string sqlite_path_;
};

TEST_F(StoreMigrationTest, EveryTableArrivesCountedAndReadsBackTheSame) {
  absl::StatusOr<std::vector<CopiedTable>> copied =
      CopySqliteToPostgres(sqlite_path_, target_);
  ASSERT_TRUE(copied.ok()) << copied.status();
  auto rows_of = [&](const std::string& table) {
    for (const CopiedTable& t : *copied) {
      if (t.table == table) return t.rows;
    }
    return int64_t{-1};
  };
  EXPECT_EQ(rows_of("incidents"), 2);
  EXPECT_EQ(rows_of("alerts"), 6);
  EXPECT_EQ(rows_of("subscriptions"), 1);
  EXPECT_EQ(rows_of("amends"), 1);
  EXPECT_EQ(rows_of("expiring"), 1);

  absl::StatusOr<std::unique_ptr<Store>> pg = OpenPostgresStore(target_);
  ASSERT_TRUE(pg.ok()) << pg.status();
  absl::Status s = (*pg)->Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<v1::Incident> open = r.FindOpenIncident("search");
    EXPECT_TRUE(open.ok()) << open.status();
    // Rebuilt by the target's trigger as the alerts arrived.
    EXPECT_EQ(r.CountAlerts(open->id()).value_or(-1), 3);
    EXPECT_EQ(r.GetSetting("link_key").value_or(""),
              std::string("\0\xff k", 4));
    EXPECT_EQ(r.FindAmends(1, "s1").value_or(v1::Amends()).subscriber_id(),
              "s1");
    EXPECT_EQ(r.GetExpiring("console_session", "h", absl::Now()).value_or(""),
              "v");
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  // A new incident gets an id after the copied ones.
  int64_t next = 0;
  s = (*pg)->Write([&](StoreTxn& txn) -> absl::Status {
    v1::Incident i;
    i.set_group_key("new");
    absl::StatusOr<int64_t> id = txn.InsertIncident(i);
    if (!id.ok()) return id.status();
    next = *id;
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(next, 3);
}

TEST_F(StoreMigrationTest, ASettingAnOlderHeraldStoredAsTextArrives) {
  // Before settings were bound as blobs, SQLite held them as text.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(sqlite_path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO settings(name, value) "
                         "VALUES('older_key', 'stored as text')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ASSERT_TRUE(CopySqliteToPostgres(sqlite_path_, target_).ok());
  absl::StatusOr<std::unique_ptr<Store>> pg = OpenPostgresStore(target_);
  ASSERT_TRUE(pg.ok()) << pg.status();
  std::string value;
  ASSERT_TRUE((*pg)
                  ->Read([&](StoreReader& r) -> absl::Status {
                    absl::StatusOr<std::string> v = r.GetSetting("older_key");
                    if (!v.ok()) return v.status();
                    value = *v;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(value, "stored as text");
}

TEST_F(StoreMigrationTest, ATargetThatHoldsDataIsRefusedAndLeftAlone) {
  ASSERT_TRUE(CopySqliteToPostgres(sqlite_path_, target_).ok());
  absl::StatusOr<std::vector<CopiedTable>> again =
      CopySqliteToPostgres(sqlite_path_, target_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("already holds data"));
  EXPECT_THAT(again.status().message(), HasSubstr("settings has 1 rows"));
}

TEST_F(StoreMigrationTest, AMissingSourceIsNamed) {
  absl::StatusOr<std::vector<CopiedTable>> copied =
      CopySqliteToPostgres("/nonexistent/herald.db", target_);
  ASSERT_FALSE(copied.ok());
  EXPECT_THAT(copied.status().message(), HasSubstr("--from"));
}

}  // namespace
}  // namespace herald
