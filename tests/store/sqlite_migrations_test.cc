// SQLite migrations from every older schema. For each version v an older
// herald shipped (0 to SchemaVersion() - 1) the test builds the database
// that herald left: the first v migrations and rows as that herald wrote
// them, in the tables and columns it had. SqliteStore then opens it,
// migrates it to this build's schema, and every row reads back through the
// Store API. A database from a newer herald is refused, untouched.
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/proto_time.h"
#include "server/store/sqlite/schema.h"
#include "server/store/sql/rows.h"
#include "server/store/sqlite/statement.h"
#include "server/store/sqlite_store.h"
#include "tests/store/store_contract.h"

namespace herald {
namespace store_testing {

// What each migration added that the rows below use.
constexpr int kGroupsJobsOverrides = 2;
constexpr int kVersionsAndAudit = 3;
constexpr int kQueryableColumns = 5;  // subscribers' email, status; deliveries'
                                      // recipient, created_at; subscriptions
constexpr int kSettings = 6;
constexpr int kAccountColumn = 7;
constexpr int kAmends = 8;

// 2026-11-23T10:00:00Z, when the older herald wrote the rows.
inline absl::Time WrittenAt() { return testing::TestEpoch(); }

// The user_version of the database at `path`; -1 when it cannot be read.
inline int UserVersion(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return -1;
  sqlite::Connection conn(db);
  sqlite::Statement pragma(db, "PRAGMA user_version");
  absl::StatusOr<bool> row = pragma.Step();
  return row.ok() && *row ? static_cast<int>(pragma.Int(0)) : -1;
}

// Builds, at `path`, the database a herald at schema `version` would have
// left with one incident on checkout and what hangs off it.
class OlderDatabase {
 public:
  OlderDatabase(const std::string& path, int version) : version_(version) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    conn_ = std::make_unique<sqlite::Connection>(db);
    const absl::Status migrated = sqlite::MigrateTo(conn_.get(), version);
    EXPECT_TRUE(migrated.ok()) << migrated;
  }

  // Runs `sql` on the database as it stands.
  void RunSql(const std::string& sql) { Exec(sql); }

  void PutRows() {
    if (version_ < 1) return;  // an empty file: herald never ran on it
    const absl::Time at = WrittenAt();
    v1::Incident incident;
    incident.set_group_key("g1");
    incident.set_title("Checkout errors");
    incident.set_status(v1::INCIDENT_STATUS_INVESTIGATING);
    incident.add_component_ids("checkout");
    *incident.mutable_opened_at() = ToProtoTime(at);
    Run("INSERT INTO incidents(id, group_key, open, body) VALUES(7, 'g1', 1, "
        "?)",
        incident);
    v1::Alert alert;
    alert.set_fingerprint("fp1");
    alert.set_incident_id(7);
    alert.set_status(v1::ALERT_STATUS_FIRING);
    Run("INSERT INTO alerts(fingerprint, incident_id, body) VALUES('fp1', 7, "
        "?)",
        alert);
    v1::Update update;
    update.set_incident_id(7);
    update.set_text("rolled back");
    Run("INSERT INTO updates(id, incident_id, body) VALUES(3, 7, ?)", update);
    v1::Message message;
    message.set_incident_id(7);
    message.set_state(v1::MESSAGE_STATE_PUBLISHED);
    message.set_title("Checkout errors");
    message.set_body("We rolled back.");
    Run(absl::StrCat("INSERT INTO messages(id, incident_id, state, body) "
                     "VALUES(11, 7, ",
                     int{v1::MESSAGE_STATE_PUBLISHED}, ", ?)"),
        message);
    v1::TimelineEvent event;
    event.set_incident_id(7);
    event.set_text("opened by alert fp1");
    Run("INSERT INTO timeline(id, incident_id, body) VALUES(1, 7, ?)", event);
    PutSubscriber();
    Exec("INSERT INTO api_tokens(sha256, person_id) VALUES('ab12', 'alice')");
    v1::ComponentState state;
    state.set_component_id("checkout");
    state.set_status(v1::COMPONENT_STATUS_MAJOR_OUTAGE);
    Run("INSERT INTO component_states(component_id, body) VALUES('checkout', "
        "?)",
        state);
    PutDelivery();
    if (version_ >= kGroupsJobsOverrides) {
      Exec(
          "INSERT INTO incident_groups(group_key, incident_id) VALUES('g1', "
          "7)");
      v1::RotaOverride o;
      o.set_rota_id("customer-comms");
      o.set_person_id("erin");
      *o.mutable_ends_at() = ToProtoTime(at + absl::Hours(8));
      Run(absl::StrCat("INSERT INTO rota_overrides(id, rota_id, ends_at, body) "
                       "VALUES(1, 'customer-comms', ",
                       sql::Micros(o.ends_at()), ", ?)"),
          o);
      v1::Job job;
      job.set_incident_id(7);
      *job.mutable_due_at() = ToProtoTime(at + absl::Minutes(30));
      Run(absl::StrCat("INSERT INTO jobs(id, done, due_at, body) VALUES(1, 0, ",
                       sql::Micros(job.due_at()), ", ?)"),
          job);
    }
    if (version_ >= kVersionsAndAudit) {
      v1::MessageVersion first;
      first.set_version(1);
      first.set_body("We rolled back.");
      Run("INSERT INTO message_versions(message_id, version, body) "
          "VALUES(11, 1, ?)",
          first);
      v1::AuditEntry entry;
      entry.set_incident_id(7);
      entry.set_message_id(11);
      entry.set_action("approved");
      entry.set_actor_id("carol");
      Run("INSERT INTO audit(id, incident_id, body) VALUES(1, 7, ?)", entry);
    }
    if (version_ >= kSettings) {
      Exec(
          "INSERT INTO settings(name, value) VALUES('link_signing_key', "
          "'k3y')");
    }
    if (version_ >= kAmends) {
      v1::Amends amends;
      amends.set_incident_id(7);
      amends.set_subscriber_id("globex");
      amends.set_customer_name("Grace Hopper");
      Run("INSERT INTO amends(id, incident_id, subscriber_id, voucher_code, "
          "body) VALUES(1, 7, 'globex', NULL, ?)",
          amends);
    }
  }

 private:
  void PutSubscriber() {
    v1::Subscriber s;
    s.set_id("globex");
    s.set_name("Grace Hopper");
    s.set_email("Grace@Globex.example");
    s.set_account("Globex");
    s.add_component_ids("checkout");
    if (version_ < kQueryableColumns) {
      Run("INSERT INTO subscribers(id, body) VALUES('globex', ?)", s);
      return;
    }
    // Written with the columns of its day, as that herald's WriteSubscriber.
    Run(absl::StrCat("INSERT INTO subscribers(id, body, email, status",
                     version_ >= kAccountColumn ? ", account" : "",
                     ") VALUES('globex', ?, 'grace@globex.example', ",
                     int{v1::SUBSCRIBER_STATUS_ACTIVE},
                     version_ >= kAccountColumn ? ", 'Globex'" : "", ")"),
        s);
    Exec(
        "INSERT INTO subscriptions(component_id, subscriber_id) "
        "VALUES('checkout', 'globex')");
  }

  void PutDelivery() {
    v1::Delivery d;
    d.set_message_id(11);
    d.set_incident_id(7);
    d.set_recipient("subscriber:globex");
    d.set_idempotency_key("msg-11-subscriber-globex");
    d.set_state(v1::DELIVERY_STATE_QUEUED);
    *d.mutable_created_at() = ToProtoTime(WrittenAt());
    *d.mutable_next_attempt_at() = ToProtoTime(WrittenAt());
    const std::string common = absl::StrCat(
        "INSERT INTO deliveries(id, message_id, incident_id, idempotency_key, "
        "state, next_attempt_at, body",
        version_ >= kQueryableColumns ? ", recipient, created_at" : "",
        ") VALUES(21, 11, 7, 'msg-11-subscriber-globex', ",
        int{v1::DELIVERY_STATE_QUEUED}, ", ", sql::Micros(d.created_at()),
        ", ?");
    Run(version_ >= kQueryableColumns
            ? absl::StrCat(common, ", 'subscriber:globex', ",
                           sql::Micros(d.created_at()), ")")
            : absl::StrCat(common, ")"),
        d);
  }

  void Exec(const std::string& sql) {
    const absl::Status s = sqlite::Exec(conn_->db, sql.c_str());
    EXPECT_TRUE(s.ok()) << s << " at version " << version_ << ": " << sql;
  }
  // `sql` with one parameter, `body`.
  void Run(const std::string& sql, const google::protobuf::Message& body) {
    sqlite::Statement stmt(conn_->db, sql.c_str());
    const absl::Status s = stmt.BindProto(1, body).Run();
    EXPECT_TRUE(s.ok()) << s << " at version " << version_ << ": " << sql;
  }

  const int version_;
  std::unique_ptr<sqlite::Connection> conn_;
};

class SqliteMigrationTest : public ::testing::TestWithParam<int> {
 protected:
  // The database an older herald at GetParam() left, with its rows; closed.
  std::string OlderDatabasePath() {
    const std::string path = FreshDbPath();
    OlderDatabase(path, GetParam()).PutRows();
    return path;
  }
};

// The delivery PutRows queued is found by its recipient, and the outbox
// ages it from when it was queued.
void ExpectTheQueuedDeliveryFoundAndAged(Store& store) {
  ASSERT_TRUE(
      store
          .Read([](StoreReader& r) -> absl::Status {
            EXPECT_THAT(*r.ListRecipientDeliveries(7, "subscriber:globex"),
                        SizeIs(1));
            EXPECT_EQ(r.GetOutboxStats()->oldest_queued_at, WrittenAt());
            return absl::OkStatus();
          })
          .ok());
}

TEST_P(SqliteMigrationTest, OpensAndMigratesToThisBuildsSchema) {
  const std::string path = OlderDatabasePath();
  ASSERT_EQ(UserVersion(path), GetParam());
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(UserVersion(path), SqliteSchemaVersion());
  // And it opens again without migrating anything.
  store->reset();
  EXPECT_TRUE(OpenSqliteStore(path).ok());
}

TEST_P(SqliteMigrationTest, EveryOlderRowReadsBackThroughTheStore) {
  if (GetParam() == 0) GTEST_SKIP() << "version 0 holds no rows";
  const std::string path = OlderDatabasePath();
  auto store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status();
  const int was = GetParam();
  const absl::Status read = (*store)->Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<v1::Incident> open = r.FindOpenIncident("g1");
    EXPECT_TRUE(open.ok()) << open.status();
    if (open.ok()) {
      EXPECT_EQ(open->id(), 7);
      EXPECT_EQ(open->title(), "Checkout errors");
    }
    EXPECT_EQ(*r.CountAlerts(7), 1) << "counted when the count table came";
    EXPECT_THAT(*r.ListAlerts(7), SizeIs(1));
    absl::StatusOr<std::vector<v1::Update>> updates = r.ListUpdates(7);
    EXPECT_THAT(*updates, SizeIs(1));
    EXPECT_EQ((*updates)[0].text(), "rolled back");
    EXPECT_EQ(r.GetMessage(11)->body(), "We rolled back.");
    EXPECT_THAT(*r.ListMessages({7, {v1::MESSAGE_STATE_PUBLISHED}}), SizeIs(1));
    EXPECT_EQ(*r.CountTimeline(7), 1);
    EXPECT_EQ(r.ListTimeline(7)->at(0).text(), "opened by alert fp1");
    // Subscribers: by id, by address, by account, and as an audience.
    EXPECT_EQ(r.GetSubscriber("globex")->name(), "Grace Hopper");
    absl::StatusOr<v1::Subscriber> by_email =
        r.FindSubscriberByEmail("grace@globex.example");
    EXPECT_TRUE(by_email.ok()) << by_email.status();
    EXPECT_THAT(*r.ListSubscribersByAccount({"Globex"}), SizeIs(1));
    EXPECT_EQ(*r.CountAudience({"checkout"}), 1);
    EXPECT_THAT(*r.ListTokens(), SizeIs(1));
    absl::StatusOr<std::vector<v1::ComponentState>> states =
        r.ListComponentStates();
    EXPECT_THAT(*states, SizeIs(1));
    EXPECT_EQ((*states)[0].status(), v1::COMPONENT_STATUS_MAJOR_OUTAGE);
    // The queued delivery is still due, to the same recipient.
    absl::StatusOr<v1::Delivery> d = r.GetDelivery(21);
    EXPECT_TRUE(d.ok()) << d.status();
    if (d.ok()) {
      EXPECT_EQ(d->recipient(), "subscriber:globex");
      EXPECT_EQ(d->state(), v1::DELIVERY_STATE_QUEUED);
      EXPECT_EQ(d->waiting_on(), v1::CHANNEL_KIND_UNSPECIFIED);
      EXPECT_EQ(FromProtoTime(d->created_at()), WrittenAt());
    }
    EXPECT_THAT(*r.ListDueDeliveries(WrittenAt(), 10), SizeIs(1));
    EXPECT_THAT(*r.ListDeliveries(11, 0), SizeIs(1));
    if (was >= kGroupsJobsOverrides) {
      EXPECT_THAT(*r.ListOverrides("customer-comms", WrittenAt()), SizeIs(1));
      EXPECT_THAT(*r.ListDueJobs(WrittenAt() + absl::Hours(1), 10), SizeIs(1));
    }
    if (was >= kVersionsAndAudit) {
      EXPECT_THAT(*r.ListMessageVersions(11), SizeIs(1));
      EXPECT_THAT(*r.ListAudit(7), SizeIs(1));
    }
    if (was >= kSettings) EXPECT_EQ(*r.GetSetting("link_signing_key"), "k3y");
    if (was >= kAmends) EXPECT_THAT(*r.ListAmends(7), SizeIs(1));
    return absl::OkStatus();
  });
  EXPECT_TRUE(read.ok()) << read;
}

TEST_P(SqliteMigrationTest, TheMigratedDatabaseTakesNewWrites) {
  const std::string path = OlderDatabasePath();
  auto store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)
                  ->Write([](StoreTxn& t) -> absl::Status {
                    v1::Subscriber fresh;
                    fresh.set_id("new");
                    fresh.add_component_ids("checkout");
                    if (auto s = t.PutSubscriber(fresh); !s.ok()) {
                      return s;
                    }
                    return t.PutSetting("after", "upgrade");
                  })
                  .ok());
  ASSERT_TRUE((*store)
                  ->Read([](StoreReader& r) -> absl::Status {
                    EXPECT_EQ(*r.GetSetting("after"), "upgrade");
                    EXPECT_TRUE(r.GetSubscriber("new").ok());
                    return absl::OkStatus();
                  })
                  .ok());
}

// Deliveries queued before schema 5 had no recipient or created_at column;
// the migration fills them from the stored records, so the queries that use
// those columns find and age them as they do newer ones.
TEST_P(SqliteMigrationTest,
       AnOlderQueuedDeliveryIsFoundByRecipientAndAgedFromItsQueuing) {
  if (GetParam() == 0) GTEST_SKIP() << "version 0 holds no rows";
  const std::string path = OlderDatabasePath();
  auto store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status();
  ExpectTheQueuedDeliveryFoundAndAged(**store);
}

// A database an earlier build took past schema 5 without filling the
// columns: the step that fills them runs once on every database.
TEST(SqliteDeliveryBackfillTest, DeliveriesAnEarlierUpgradeLeftBlankAreFilled) {
  const std::string path = FreshDbPath();
  {
    // Schema 13: the step that fills them is migration 14.
    OlderDatabase older(path, 13);
    older.PutRows();
    older.RunSql("UPDATE deliveries SET recipient = '', created_at = 0");
  }
  auto store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status();
  ExpectTheQueuedDeliveryFoundAndAged(**store);
}

INSTANTIATE_TEST_SUITE_P(EveryOlderSchema, SqliteMigrationTest,
                         ::testing::Range(0, sqlite::SchemaVersion()),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return absl::StrCat("FromVersion", info.param);
                         });

TEST(SqliteNewerSchemaTest, ADatabaseFromANewerHeraldIsRefusedUntouched) {
  const std::string path = FreshDbPath();
  ASSERT_TRUE(OpenSqliteStore(path).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::string newer =
      absl::StrCat("PRAGMA user_version = ", SqliteSchemaVersion() + 1, ";");
  ASSERT_EQ(sqlite3_exec(db, newer.c_str(), nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const absl::Status refused = OpenSqliteStore(path).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      std::string(refused.message()),
      ::testing::AllOf(::testing::HasSubstr(absl::StrCat(
                           "schema version ", SqliteSchemaVersion() + 1)),
                       ::testing::HasSubstr("upgrade herald")));
  EXPECT_EQ(UserVersion(path), SqliteSchemaVersion() + 1);
}

TEST(SqliteNewerSchemaTest, MigrateToRefusesVersionsThisBuildDoesNotKnow) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(FreshDbPath().c_str(), &db), SQLITE_OK);
  sqlite::Connection conn(db);
  EXPECT_EQ(sqlite::MigrateTo(&conn, sqlite::SchemaVersion() + 1).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sqlite::MigrateTo(&conn, -1).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(sqlite::MigrateTo(&conn, 3).ok());
  EXPECT_EQ(sqlite::MigrateTo(&conn, 2).code(),
            absl::StatusCode::kFailedPrecondition)
      << "never downgrades";
}

}  // namespace store_testing
}  // namespace herald
