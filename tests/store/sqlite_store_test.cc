#include "tests/store/store_contract.h"

namespace herald {
namespace store_testing {

TEST(SqliteStoreTest, UnreadableRowsAreLeftOutReportedAndSetAside) {
  const std::string path = FreshDbPath();
  std::vector<std::string> reported;
  auto store = *OpenSqliteStore(
      path, SqliteStoreOptions{.on_unreadable_row = [&](absl::string_view r) {
        reported.emplace_back(r);
      }});
  ASSERT_TRUE(store
                  ->Write([](StoreTxn& t) -> absl::Status {
                    for (const char* id : {"a", "b", "c"}) {
                      if (auto s = t.PutSubscriber(Sub(id, {"checkout"}));
                          !s.ok()) {
                        return s;
                      }
                    }
                    for (const char* key : {"k1", "k2"}) {
                      v1::Delivery d;
                      d.set_idempotency_key(key);
                      d.set_recipient("subscriber:b");
                      d.set_state(v1::DELIVERY_STATE_QUEUED);
                      d.set_subject("Hello");
                      if (auto s = t.InsertDelivery(d); !s.ok()) {
                        return s.status();
                      }
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  // A name of one invalid byte, as an older herald stored it: field 2
  // (name), length 1, 0xff.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE subscribers SET body = X'0A01621201FF' "
                         "WHERE id = 'b';"
                         "UPDATE deliveries SET body = X'3A01FF' "
                         "WHERE idempotency_key = 'k1';",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  ASSERT_TRUE(store
                  ->Read([](StoreReader& r) -> absl::Status {
                    auto subs = r.ListSubscribers({});
                    EXPECT_TRUE(subs.ok()) << subs.status();
                    std::vector<std::string> ids;
                    for (const auto& s : *subs) ids.push_back(s.id());
                    EXPECT_THAT(ids, ElementsAre("a", "c"));
                    EXPECT_EQ(r.GetSubscriber("b").status().code(),
                              absl::StatusCode::kDataLoss);
                    auto due = r.ListDueDeliveries(absl::Now(), 10);
                    EXPECT_TRUE(due.ok()) << due.status();
                    EXPECT_THAT(*due, SizeIs(2));
                    EXPECT_THAT((*due)[0].unreadable(),
                                ::testing::HasSubstr("cannot be read"));
                    EXPECT_EQ((*due)[0].idempotency_key(), "k1");
                    EXPECT_EQ((*due)[0].recipient(), "subscriber:b");
                    EXPECT_EQ((*due)[1].unreadable(), "");
                    EXPECT_EQ((*due)[1].subject(), "Hello");
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_THAT(reported, ::testing::Contains("Subscriber"));
  EXPECT_THAT(reported, ::testing::Contains("Delivery"));
}

TEST(SqliteStoreTest, CommittedStateSurvivesReopen) {
  const std::string path = FreshDbPath();
  {
    auto store = *OpenSqliteStore(path);
    ASSERT_TRUE(store
                    ->Write([](StoreTxn& t) {
                      v1::Incident i;
                      i.set_group_key("g");
                      return t.InsertIncident(i).status();
                    })
                    .ok());
  }
  auto reopened = *OpenSqliteStore(path);
  ASSERT_TRUE(reopened
                  ->Read([](StoreReader& r) -> absl::Status {
                    EXPECT_TRUE(r.FindOpenIncident("g").ok());
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST(SqliteStoreTest, TheAuditLogRefusesChangesEvenInRawSql) {
  const std::string path = FreshDbPath();
  {
    auto store = *OpenSqliteStore(path);
    ASSERT_TRUE(store
                    ->Write([](StoreTxn& t) {
                      v1::AuditEntry e;
                      e.set_incident_id(1);
                      return t.AppendAudit(e).status();
                    })
                    .ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE audit SET incident_id = 2", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_THAT(std::string(sqlite3_errmsg(db)),
              ::testing::HasSubstr("append-only"));
  sqlite3_close(db);
}

TEST(SqliteStoreTest, UpgradeFromSchema4MakesStoredSubscribersAnAudience) {
  const std::string path = FreshDbPath();
  {
    auto store = *OpenSqliteStore(path);
    ASSERT_TRUE(store
                    ->Write([](StoreTxn& t) {
                      return t.PutSubscriber(Sub("a", {"checkout"}));
                    })
                    .ok());
  }
  // Back to schema 4: what migrations 5 to 16 added is gone; the stored
  // row stays.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE expiring;"
                         "DROP INDEX deliveries_by_recipient;"
                         "DROP INDEX deliveries_waiting;"
                         "ALTER TABLE deliveries DROP COLUMN waiting_on;"
                         "DROP INDEX deliveries_by_message_page;"
                         "DROP TRIGGER alerts_counted_on_insert;"
                         "DROP TRIGGER alerts_counted_on_delete;"
                         "DROP TRIGGER alerts_counted_on_move;"
                         "DROP TABLE incident_alert_counts;"
                         "DROP INDEX alerts_by_incident_page;"
                         "DROP TABLE amends;"
                         "DROP INDEX subscribers_by_account;"
                         "ALTER TABLE subscribers DROP COLUMN account;"
                         "DROP TABLE settings;"
                         "DROP TABLE subscriptions;"
                         "DROP INDEX subscribers_by_email;"
                         "DROP INDEX deliveries_by_state;"
                         "ALTER TABLE subscribers DROP COLUMN email;"
                         "ALTER TABLE subscribers DROP COLUMN status;"
                         "ALTER TABLE deliveries DROP COLUMN recipient;"
                         "ALTER TABLE deliveries DROP COLUMN created_at;"
                         "PRAGMA user_version = 4;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto upgraded = *OpenSqliteStore(path);
  ASSERT_TRUE(upgraded
                  ->Read([](StoreReader& r) -> absl::Status {
                    EXPECT_EQ(*r.CountAudience({"checkout"}), 1);
                    EXPECT_EQ(r.FindSubscriberByEmail("a@example.com")->id(),
                              "a");
                    auto by_account = r.ListSubscribersByAccount({"acct-a"});
                    EXPECT_EQ(by_account->size(), 1u);
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST(SqliteStoreTest, EachGroupCommitIsReportedWithItsDuration) {
  std::atomic<int> commits{0};
  std::atomic<bool> negative{false};
  auto store = *OpenSqliteStore(
      FreshDbPath(), SqliteStoreOptions{.on_commit = [&](absl::Duration d) {
        ++commits;
        if (d < absl::ZeroDuration()) negative = true;
      }});
  ASSERT_TRUE(
      store->Write([](StoreTxn& t) { return t.PutSetting("a", "1"); }).ok());
  ASSERT_TRUE(
      store->Write([](StoreTxn& t) { return t.PutSetting("b", "2"); }).ok());
  EXPECT_EQ(commits.load(), 2);
  EXPECT_FALSE(negative.load());
}

TEST(SqliteStoreTest, ABackupTakenBetweenWritesOpensAsTheSameStore) {
  auto store = *OpenSqliteStore(FreshDbPath());
  ASSERT_TRUE(store
                  ->Write([](StoreTxn& t) -> absl::Status {
                    if (auto s = t.PutSetting("key", "before"); !s.ok()) {
                      return s;
                    }
                    return t.PutSubscriber(Sub("a", {"checkout"}));
                  })
                  .ok());
  const std::string copy = FreshDbPath();
  ASSERT_TRUE(store->BackupTo(copy).ok());
  // What happens after the backup is not in it.
  ASSERT_TRUE(
      store->Write([](StoreTxn& t) { return t.PutSetting("key", "after"); })
          .ok());
  auto restored = *OpenSqliteStore(copy);
  ASSERT_TRUE(restored
                  ->Read([](StoreReader& r) -> absl::Status {
                    EXPECT_EQ(*r.GetSetting("key"), "before");
                    EXPECT_EQ(*r.CountAudience({"checkout"}), 1);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(NewMemoryStore()->BackupTo(FreshDbPath()).code(),
            absl::StatusCode::kUnimplemented);
}

// The permission bits of `path`; -1 when it does not exist.
int ModeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777)
                                        : -1;
}

TEST(SqliteStoreTest, TheDatabaseItsJournalsAndBackupsAreOwnerOnly) {
  const mode_t umask_was = ::umask(022);  // the usual: files 0644
  const std::string path = FreshDbPath();
  {
    auto store = *OpenSqliteStore(path);
    ASSERT_TRUE(
        store->Write([](StoreTxn& t) { return t.PutSetting("k", "v"); }).ok());
    EXPECT_EQ(ModeOf(path), 0600);
    EXPECT_EQ(ModeOf(path + "-wal"), 0600);
    EXPECT_EQ(ModeOf(path + "-shm"), 0600);
    const std::string copy = FreshDbPath();
    ASSERT_TRUE(store->BackupTo(copy).ok());
    EXPECT_EQ(ModeOf(copy), 0600);
  }
  ::umask(umask_was);
}

TEST(SqliteStoreTest, OpeningTightensADatabaseAnOlderHeraldLeftReadable) {
  const std::string path = FreshDbPath();
  {
    auto store = *OpenSqliteStore(path);
    ASSERT_TRUE(
        store->Write([](StoreTxn& t) { return t.PutSetting("k", "v"); }).ok());
    for (const std::string& f : {path, path + "-wal", path + "-shm"}) {
      ASSERT_EQ(::chmod(f.c_str(), 0644), 0) << f;
    }
  }
  auto reopened = *OpenSqliteStore(path);
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_EQ(ModeOf(path + "-wal"), 0600);
  EXPECT_EQ(ModeOf(path + "-shm"), 0600);
}

TEST(SqliteStoreTest, RefusesADatabaseFromANewerSchema) {
  const std::string path = FreshDbPath();
  ASSERT_TRUE(OpenSqliteStore(path).ok());
  // Simulate a newer herald having migrated the file.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(OpenSqliteStore(path).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SqliteStoreTest, UnopenablePathIsUnavailable) {
  EXPECT_EQ(OpenSqliteStore("/nonexistent/dir/herald.db").status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace store_testing
}  // namespace herald
