// Fan-out benchmark: one approved message to N subscribers.
//   enqueue   DeliveryPlanner's set-based INSERT ... SELECT, against the
//             baseline of a raw batched SQLite insert of the same rows into
//             the same table and indexes, in a fresh database, same run.
//   delivery  the outbox's workers sending every delivery as a signed
//             webhook to a local HTTP sink, each recipient its own endpoint
//             URL; then the same with one endpoint that never answers among
//             them (every 1000th recipient's), timed until every other
//             recipient is reached, as a ratio to the first (issue 19 §4);
//             and (when --smtp is given) as email to a local SMTP sink.
// With --postgres DSN, instead: the enqueue of N, and the webhook delivery
// of D (--delivery, default the smaller of N and 20,000), each on PostgreSQL
// (a fresh database on DSN's server per run, pool --pool-size) against the
// baseline of SQLite, same run, same code; subscribers are loaded with COPY
// there, as set-up is not what is timed.
// Prints one line per figure and the peak RSS. Asserts only correctness:
// every delivery delivered, each exactly once.
//
// usage: fanout_bench N [--workers W] [--smtp PORT] [--enqueue-only]
//                       [--postgres DSN [--delivery D] [--pool-size P]]
#include <httplib.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/base/proto_time.h"
#include "server/delivery/delivery_composer.h"
#include "server/delivery/delivery_outbox.h"
#include "server/delivery/http_channel.h"
#include "server/delivery/smtp_channel.h"
#include "server/store/postgres_store.h"
#include "server/store/sqlite_store.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/scratch_postgres.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using bench::Check;
using bench::PeakRssMiB;

// The raw baseline: the same rows, one prepared INSERT each, one transaction,
// into a copy of the deliveries table with its indexes.
double RawInsertSeconds(const std::string& store_db, const std::string& dir,
                        int64_t n) {
  sqlite3* src = nullptr;
  sqlite3* db = nullptr;
  sqlite3_open(store_db.c_str(), &src);
  sqlite3_open((dir + "/baseline.db").c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr,
               nullptr, nullptr);
  sqlite3_stmt* schema = nullptr;
  sqlite3_prepare_v2(src,
                     "SELECT sql FROM sqlite_master WHERE tbl_name = "
                     "'deliveries' AND sql IS NOT NULL ORDER BY type DESC",
                     -1, &schema, nullptr);
  while (sqlite3_step(schema) == SQLITE_ROW) {
    sqlite3_exec(db,
                 reinterpret_cast<const char*>(sqlite3_column_text(schema, 0)),
                 nullptr, nullptr, nullptr);
  }
  sqlite3_finalize(schema);
  sqlite3_close(src);
  const absl::Time start = absl::Now();
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO deliveries(message_id, incident_id, "
                     "idempotency_key, state, next_attempt_at, body, "
                     "recipient, created_at) VALUES(?, ?, ?, 1, ?, x'', ?, ?)",
                     -1, &ins, nullptr);
  const int64_t now = absl::ToUnixMicros(absl::Now());
  for (int64_t i = 0; i < n; ++i) {
    const std::string id = absl::StrCat("sub", i);
    const std::string key = absl::StrCat("msg-1-subscriber-", id);
    const std::string recipient = absl::StrCat("subscriber:", id);
    sqlite3_bind_int64(ins, 1, 1);
    sqlite3_bind_int64(ins, 2, 1);
    sqlite3_bind_text(ins, 3, key.data(), key.size(), SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 4, now);
    sqlite3_bind_text(ins, 5, recipient.data(), recipient.size(),
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 6, now);
    if (sqlite3_step(ins) != SQLITE_DONE) std::exit(1);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  sqlite3_close(db);
  return seconds;
}

// A TCP port that takes connections into its backlog and never answers
// them: an endpoint that hangs until the sender's timeout. Returns the
// listening socket; `*port` is its port.
int HangingEndpoint(int* port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(fd, 1024) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("hanging endpoint");
    std::_Exit(1);
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

// Where deliveries go: an HTTP sink that accepts every webhook and counts
// them, an endpoint that never answers, and (port 0: none) an SMTP sink.
struct Sinks {
  int port = 0;
  int hang_port = 0;
  int hang_fd = -1;
  int smtp_port = 0;
  std::atomic<int64_t> received{0};
};

// Subscriber i as the benchmark's audience has it: on `channel`, its own
// webhook URL on the sink (the hanging endpoint's when `hanging`) or an
// email address.
void FillSubscriber(const Sinks& sinks, const std::string& channel,
                    bool hanging, int64_t i, v1::Subscriber& s) {
  s.set_name(absl::StrCat("Subscriber ", i));
  v1::Contact* c = s.add_contacts();
  if (channel == "webhook") {
    c->set_channel(v1::CHANNEL_KIND_WEBHOOK);
    c->set_address(
        hanging ? absl::StrCat("http://127.0.0.1:", sinks.hang_port, "/hook")
                : absl::StrCat("http://127.0.0.1:", sinks.port, "/hook/", i));
    c->add_signing_secrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  } else {
    c->set_channel(v1::CHANNEL_KIND_EMAIL);
    c->set_address(absl::StrCat("sub", i, "@bench.example"));
  }
}

struct FanOutTiming {
  int64_t message_id = 0;
  double seconds = 0;  // the approval, which enqueues the fan-out
};

// A new incident on checkout, its draft approved: the fan-out to checkout's
// whole audience, timed. Exits unless it queued exactly `n` deliveries.
FanOutTiming ApproveFanOut(testing::CoreHarness& h, int64_t n) {
  const int64_t incident =
      h.intake.Ingest(testing::FiringGroup("g1", "checkout", {"fp1"}))
          ->incident_id;
  const int64_t draft =
      h.Read<std::vector<v1::Message>>([&](StoreReader& r) {
         return r.ListMessages(
             {incident,
              {v1::MESSAGE_STATE_PENDING_APPROVAL, v1::MESSAGE_STATE_DRAFT}});
       })[0]
          .id();

  const absl::Time start = absl::Now();
  absl::StatusOr<Publication> pub =
      h.workflow.Approve(testing::CommsLead(), draft, 0, kAsWritten);
  Check(pub.status(), "approve");
  const double enqueue = absl::ToDoubleSeconds(absl::Now() - start);
  if (pub->deliveries_enqueued != n) {
    std::fprintf(stderr, "queued %lld of %lld\n",
                 static_cast<long long>(pub->deliveries_enqueued),
                 static_cast<long long>(n));
    std::_Exit(1);
  }
  return {draft, enqueue};
}

struct DeliveryTiming {
  double seconds = 0;
  int64_t delivered = 0;  // deliveries of the message that ended delivered
};

// Runs `workers` outbox workers, as heraldd's, until every reachable
// recipient has `message_id`: for webhooks until the sink has counted
// `reachable`, for email until the outbox is empty. `hangs`: some
// recipients are behind the endpoint that never answers, let go at the end.
DeliveryTiming DeliverAll(testing::CoreHarness& h, Sinks& sinks,
                          const std::string& channel, int workers,
                          int64_t reachable, bool hangs, int64_t message_id) {
  SystemClock clock;
  HttpChannel http(HttpChannelOptions{absl::Seconds(10)}, clock);
  SmtpChannel smtp(
      SmtpOptions{absl::StrCat("smtp://127.0.0.1:", sinks.smtp_port),
                  "status@bench.example", "Bench", "", "", absl::Seconds(30)},
      clock);
  DeliveryComposer composer(h.drafter, h.org, ComposerOptions{});
  DeliveryOutbox outbox(
      OutboxDeps{.store = *h.store,
                 .clock = clock,
                 .composer = composer,
                 .channels = {{v1::CHANNEL_KIND_WEBHOOK, &http},
                              {v1::CHANNEL_KIND_EMAIL, &smtp}},
                 .metrics = h.delivery_metrics,
                 .delivery = DeliverySettings{},
                 .random = [] { return 0.5; }});
  sinks.received = 0;
  const absl::Time send_start = absl::Now();
  std::atomic<bool> done{false};
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      while (!done) {
        absl::StatusOr<int> ran = outbox.RunOnce(64);
        Check(ran.status(), "outbox");
        // Idle, like heraldd's worker between passes.
        if (*ran == 0) absl::SleepFor(absl::Milliseconds(1));
      }
    });
  }
  while (true) {
    absl::SleepFor(absl::Milliseconds(5));
    if (channel == "webhook") {
      if (sinks.received >= reachable) break;
      continue;
    }
    const OutboxStats stats =
        h.Read<OutboxStats>([](StoreReader& r) { return r.GetOutboxStats(); });
    if (stats.pending == 0) break;
  }
  DeliveryTiming out;
  out.seconds = absl::ToDoubleSeconds(absl::Now() - send_start);
  done = true;
  outbox.StopSending();
  if (hangs) shutdown(sinks.hang_fd, SHUT_RDWR);  // lets the hung sends go
  for (std::thread& t : pool) t.join();
  for (const v1::Delivery& d : h.Read<std::vector<v1::Delivery>>(
           [&](StoreReader& r) { return r.ListDeliveries(message_id, 0); })) {
    out.delivered += d.state() == v1::DELIVERY_STATE_DELIVERED;
  }
  return out;
}

// The SQLite benchmark: enqueue against the raw insert, then delivery by
// webhook, by webhook with one hanging endpoint, and by email.
void RunOnSqlite(Sinks& sinks, const std::string& dir, int64_t n, int workers,
                 bool enqueue_only) {
  const std::string db = dir + "/herald.db";
  double webhook_seconds = 0;
  for (const std::string run : {"webhook", "webhook+hang", "email"}) {
    const std::string channel = run == "email" ? "email" : "webhook";
    // Recipients behind the endpoint that never answers.
    const bool hangs = run == "webhook+hang";
    const auto hanging = [&](int64_t i) { return hangs && i % 1000 == 999; };
    int64_t reachable = 0;
    for (int64_t i = 0; i < n; ++i) reachable += !hanging(i);
    if (channel == "email" && sinks.smtp_port == 0) continue;
    std::filesystem::remove(db);
    std::filesystem::remove(db + "-wal");
    std::filesystem::remove(dir + "/baseline.db");
    std::filesystem::remove(dir + "/baseline.db-wal");
    testing::CoreHarness h(*OpenSqliteStore(db), DefaultConfig(),
                           /*rerun_writes=*/false);
    bench::SeedCheckoutAudience(h, n, [&](int64_t i, v1::Subscriber& s) {
      FillSubscriber(sinks, channel, hanging(i), i, s);
    });
    const FanOutTiming fan = ApproveFanOut(h, n);
    const double enqueue = fan.seconds;
    const double raw = RawInsertSeconds(db, dir, n);
    std::printf(
        "%s fan-out to %lld: enqueue %.2f s (%.0f/s), raw batched insert "
        "%.2f s (%.0f/s), ratio %.2fx\n",
        channel.c_str(), static_cast<long long>(n), enqueue, n / enqueue, raw,
        n / raw, raw / enqueue);
    if (enqueue_only) break;

    const DeliveryTiming sent = DeliverAll(h, sinks, channel, workers,
                                           reachable, hangs, fan.message_id);
    const double send = sent.seconds;
    std::printf(
        "%s delivery of %lld with %d workers: %.2f s (%.0f/s)%s\n", run.c_str(),
        static_cast<long long>(n), workers, send, reachable / send,
        channel == "webhook"
            ? absl::StrCat(", sink received ", sinks.received.load()).c_str()
            : "");
    if (run == "webhook") webhook_seconds = send;
    if (hangs) {
      std::printf(
          "one hanging endpoint (%lld recipients behind it) among %lld: "
          "the others reached in %.2fx the time without it\n",
          static_cast<long long>(n - reachable), static_cast<long long>(n),
          send / webhook_seconds);
    }
    if (sent.delivered != reachable ||
        (channel == "webhook" && sinks.received != reachable)) {
      std::fprintf(stderr, "delivered %lld, received %lld of %lld\n",
                   static_cast<long long>(sent.delivered),
                   static_cast<long long>(sinks.received.load()),
                   static_cast<long long>(reachable));
      std::_Exit(1);
    }
  }
}

struct StoreComparison {
  std::string postgres_dsn;  // the server the scratch databases go on
  int pool_size = 8;         // heraldd's default
  int workers = 16;
  std::string sqlite_dir;
};

struct StoreRun {
  double seed_seconds = 0;
  double enqueue_seconds = 0;
  double delivery_seconds = 0;  // 0 unless asked to deliver
};

// One run on a fresh store, "sqlite" or "postgres", with `n` webhook
// subscribers: the enqueue timed and, when `deliver`, the delivery to the
// sink (exits unless each recipient got it exactly once).
StoreRun RunOnStore(const std::string& kind, const StoreComparison& o,
                    Sinks& sinks, int64_t n, bool deliver) {
  std::unique_ptr<bench::ScratchPostgresDatabase> pg;
  absl::StatusOr<std::unique_ptr<Store>> store;
  if (kind == "postgres") {
    pg = std::make_unique<bench::ScratchPostgresDatabase>(o.postgres_dsn,
                                                          "herald_fanout");
    store = OpenPostgresStore(
        PostgresStoreOptions{.dsn = pg->dsn(), .pool_size = o.pool_size});
  } else {
    const std::string db = o.sqlite_dir + "/herald.db";
    std::filesystem::remove(db);
    std::filesystem::remove(db + "-wal");
    store = OpenSqliteStore(db);
  }
  Check(store.status(), "open store");
  StoreRun out;
  {  // The harness, and the store it owns, go before the database is dropped.
    testing::CoreHarness h(*std::move(store), DefaultConfig(),
                           /*rerun_writes=*/false);
    const auto fill = [&](int64_t i, v1::Subscriber& s) {
      FillSubscriber(sinks, "webhook", false, i, s);
    };
    const absl::Time seed_start = absl::Now();
    if (pg != nullptr) {
      bench::CopyCheckoutAudience(pg->dsn(), n, fill);
      bench::RemoveDemoAudience(h);
    } else {
      bench::SeedCheckoutAudience(h, n, fill);
    }
    out.seed_seconds = absl::ToDoubleSeconds(absl::Now() - seed_start);
    const FanOutTiming fan = ApproveFanOut(h, n);
    out.enqueue_seconds = fan.seconds;
    if (deliver) {
      const DeliveryTiming sent =
          DeliverAll(h, sinks, "webhook", o.workers, n, false, fan.message_id);
      if (sent.delivered != n || sinks.received != n) {
        std::fprintf(stderr, "%s: delivered %lld, received %lld of %lld\n",
                     kind.c_str(), static_cast<long long>(sent.delivered),
                     static_cast<long long>(sinks.received.load()),
                     static_cast<long long>(n));
        std::_Exit(1);
      }
      out.delivery_seconds = sent.seconds;
    }
  }
  return out;
}

// PostgreSQL against SQLite, same run: the enqueue of `n`, the delivery of
// `delivery_n`.
void CompareStores(Sinks& sinks, const StoreComparison& o, int64_t n,
                   int64_t delivery_n, bool enqueue_only) {
  StoreRun enqueue[2];
  const char* kinds[] = {"sqlite", "postgres"};
  for (int k = 0; k < 2; ++k) {
    enqueue[k] = RunOnStore(kinds[k], o, sinks, n, /*deliver=*/false);
    std::printf(
        "%s: webhook fan-out to %lld: enqueue %.2f s (%.0f/s); subscribers "
        "loaded in %.2f s (%s)\n",
        kinds[k], static_cast<long long>(n), enqueue[k].enqueue_seconds,
        n / enqueue[k].enqueue_seconds, enqueue[k].seed_seconds,
        k == 0 ? "PutSubscriber" : "COPY");
  }
  std::printf("ratio postgres/sqlite enqueue rate: %.2fx\n",
              enqueue[0].enqueue_seconds / enqueue[1].enqueue_seconds);
  if (enqueue_only) return;
  StoreRun delivery[2];
  for (int k = 0; k < 2; ++k) {
    delivery[k] = RunOnStore(kinds[k], o, sinks, delivery_n, /*deliver=*/true);
    std::printf(
        "%s: webhook delivery of %lld with %d workers%s: %.2f s (%.0f/s), "
        "sink received %lld\n",
        kinds[k], static_cast<long long>(delivery_n), o.workers,
        k == 0 ? "" : absl::StrCat(", pool ", o.pool_size).c_str(),
        delivery[k].delivery_seconds, delivery_n / delivery[k].delivery_seconds,
        static_cast<long long>(sinks.received.load()));
  }
  std::printf("ratio postgres/sqlite delivery rate: %.2fx\n",
              delivery[0].delivery_seconds / delivery[1].delivery_seconds);
}

int Main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 100000;
  StoreComparison compare;
  int64_t delivery_n = std::min<int64_t>(n, 20000);
  Sinks sinks;
  bool enqueue_only = false;
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--enqueue-only") enqueue_only = true;
    if (i + 1 >= argc) continue;
    if (flag == "--workers") compare.workers = std::atoi(argv[i + 1]);
    if (flag == "--smtp") sinks.smtp_port = std::atoi(argv[i + 1]);
    if (flag == "--postgres") compare.postgres_dsn = argv[i + 1];
    if (flag == "--delivery") delivery_n = std::atoll(argv[i + 1]);
    if (flag == "--pool-size") compare.pool_size = std::atoi(argv[i + 1]);
  }
  const std::string dir = std::filesystem::temp_directory_path() /
                          absl::StrCat("herald-fanout-", getpid());
  std::filesystem::create_directories(dir);
  compare.sqlite_dir = dir;

  // A receiver that accepts every webhook and counts them by id.
  httplib::Server sink;
  sink.Post(R"(/hook/\d+)",
            [&](const httplib::Request&, httplib::Response& res) {
              ++sinks.received;
              res.status = 204;
            });
  sink.new_task_queue = [] { return new httplib::ThreadPool(16); };
  sinks.port = sink.bind_to_any_port("127.0.0.1");
  std::thread sink_thread([&] { sink.listen_after_bind(); });
  sinks.hang_fd = HangingEndpoint(&sinks.hang_port);

  if (compare.postgres_dsn.empty()) {
    RunOnSqlite(sinks, dir, n, compare.workers, enqueue_only);
  } else {
    CompareStores(sinks, compare, n, delivery_n, enqueue_only);
  }
  close(sinks.hang_fd);
  std::printf("peak RSS %.0f MiB\n", PeakRssMiB());
  sink.stop();
  sink_thread.join();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace herald

int main(int argc, char** argv) { return herald::Main(argc, argv); }
