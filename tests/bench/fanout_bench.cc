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
// Prints one line per figure and the peak RSS. Asserts only correctness:
// every delivery delivered, each exactly once.
//
// usage: fanout_bench N [--workers W] [--smtp PORT] [--enqueue-only]
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
#include "server/store/sqlite_store.h"
#include "tests/bench/bench_util.h"
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

int Main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 100000;
  int workers = 16;  // heraldd's default
  int smtp_port = 0;
  bool enqueue_only = false;
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--enqueue-only") enqueue_only = true;
    if (i + 1 >= argc) continue;
    if (flag == "--workers") workers = std::atoi(argv[i + 1]);
    if (flag == "--smtp") smtp_port = std::atoi(argv[i + 1]);
  }
  const std::string dir = std::filesystem::temp_directory_path() /
                          absl::StrCat("herald-fanout-", getpid());
  std::filesystem::create_directories(dir);
  const std::string db = dir + "/herald.db";

  // A receiver that accepts every webhook and counts them by id.
  httplib::Server sink;
  std::atomic<int64_t> received{0};
  sink.Post(R"(/hook/\d+)",
            [&](const httplib::Request&, httplib::Response& res) {
              ++received;
              res.status = 204;
            });
  sink.new_task_queue = [] { return new httplib::ThreadPool(16); };
  const int port = sink.bind_to_any_port("127.0.0.1");
  std::thread sink_thread([&] { sink.listen_after_bind(); });

  int hang_port = 0;
  const int hang_fd = HangingEndpoint(&hang_port);
  double webhook_seconds = 0;
  for (const std::string run : {"webhook", "webhook+hang", "email"}) {
    const std::string channel = run == "email" ? "email" : "webhook";
    // Recipients behind the endpoint that never answers.
    const bool hangs = run == "webhook+hang";
    const auto hanging = [&](int64_t i) { return hangs && i % 1000 == 999; };
    int64_t reachable = 0;
    for (int64_t i = 0; i < n; ++i) reachable += !hanging(i);
    if (channel == "email" && smtp_port == 0) continue;
    std::filesystem::remove(db);
    std::filesystem::remove(db + "-wal");
    std::filesystem::remove(dir + "/baseline.db");
    std::filesystem::remove(dir + "/baseline.db-wal");
    testing::CoreHarness h(*OpenSqliteStore(db), DefaultConfig(),
                           /*rerun_writes=*/false);
    bench::SeedCheckoutAudience(h, n, [&](int64_t i, v1::Subscriber& s) {
      s.set_name(absl::StrCat("Subscriber ", i));
      v1::Contact* c = s.add_contacts();
      if (channel == "webhook") {
        c->set_channel(v1::CHANNEL_KIND_WEBHOOK);
        c->set_address(
            hanging(i) ? absl::StrCat("http://127.0.0.1:", hang_port, "/hook")
                       : absl::StrCat("http://127.0.0.1:", port, "/hook/", i));
        c->add_signing_secrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
      } else {
        c->set_channel(v1::CHANNEL_KIND_EMAIL);
        c->set_address(absl::StrCat("sub", i, "@bench.example"));
      }
    });
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
        h.workflow.Approve(testing::CommsLead(), draft, 0);
    Check(pub.status(), "approve");
    const double enqueue = absl::ToDoubleSeconds(absl::Now() - start);
    if (pub->deliveries_enqueued != n) {
      std::fprintf(stderr, "queued %lld of %lld\n",
                   static_cast<long long>(pub->deliveries_enqueued),
                   static_cast<long long>(n));
      std::_Exit(1);
    }
    const double raw = RawInsertSeconds(db, dir, n);
    std::printf(
        "%s fan-out to %lld: enqueue %.2f s (%.0f/s), raw batched insert "
        "%.2f s (%.0f/s), ratio %.2fx\n",
        channel.c_str(), static_cast<long long>(n), enqueue, n / enqueue, raw,
        n / raw, raw / enqueue);
    if (enqueue_only) break;

    SystemClock clock;
    HttpChannel http(HttpChannelOptions{absl::Seconds(10)}, clock);
    SmtpChannel smtp(
        SmtpOptions{absl::StrCat("smtp://127.0.0.1:", smtp_port),
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
    received = 0;
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
    // Until every reachable recipient has it: for webhooks the sink's
    // count, for email the outbox empty.
    while (true) {
      absl::SleepFor(absl::Milliseconds(5));
      if (channel == "webhook") {
        if (received >= reachable) break;
        continue;
      }
      const OutboxStats stats = h.Read<OutboxStats>(
          [](StoreReader& r) { return r.GetOutboxStats(); });
      if (stats.pending == 0) break;
    }
    const double send = absl::ToDoubleSeconds(absl::Now() - send_start);
    done = true;
    outbox.StopSending();
    if (hangs) shutdown(hang_fd, SHUT_RDWR);  // lets the hung sends go
    for (std::thread& t : pool) t.join();
    int64_t delivered = 0;
    for (const v1::Delivery& d : h.Read<std::vector<v1::Delivery>>(
             [&](StoreReader& r) { return r.ListDeliveries(draft, 0); })) {
      delivered += d.state() == v1::DELIVERY_STATE_DELIVERED;
    }
    std::printf("%s delivery of %lld with %d workers: %.2f s (%.0f/s)%s\n",
                run.c_str(), static_cast<long long>(n), workers, send,
                reachable / send,
                channel == "webhook"
                    ? absl::StrCat(", sink received ", received.load()).c_str()
                    : "");
    if (run == "webhook") webhook_seconds = send;
    if (hangs) {
      std::printf(
          "one hanging endpoint (%lld recipients behind it) among %lld: "
          "the others reached in %.2fx the time without it\n",
          static_cast<long long>(n - reachable), static_cast<long long>(n),
          send / webhook_seconds);
    }
    if (delivered != reachable ||
        (channel == "webhook" && received != reachable)) {
      std::fprintf(stderr, "delivered %lld, received %lld of %lld\n",
                   static_cast<long long>(delivered),
                   static_cast<long long>(received.load()),
                   static_cast<long long>(reachable));
      std::_Exit(1);
    }
  }
  close(hang_fd);
  std::printf("peak RSS %.0f MiB\n", PeakRssMiB());
  sink.stop();
  sink_thread.join();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace herald

int main(int argc, char** argv) { return herald::Main(argc, argv); }
