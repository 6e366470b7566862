// The static mirror: the whole public site written as one version and
// swapped in with one rename, only when something changed; nothing personal
// in it; the after_write command run with the version's directory, retried
// with growing pauses, killed at its timeout; and series that say when the
// mirror is behind.
#include "server/statuspage/status_mirror.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prometheus/registry.h"
#include "tests/statuspage/status_page_fixture.h"

namespace herald {
namespace status_page_testing {

namespace fs = std::filesystem;

inline std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

class StatusMirrorTest : public StatusPageTest {
 protected:
  StatusMirrorTest()
      : site_(page_),
        state_(page_, nullptr, absl::Seconds(1)),
        metrics_(registry_) {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat(
               "mirror-", getpid(), "-",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  ~StatusMirrorTest() override { fs::remove_all(dir_); }

  StatusMirror Mirror(StatusMirrorOptions options = {}) {
    options.directory = dir_.string();
    if (options.links.subscribe_action == "/subscribe") {
      options.links.subscribe_action = "https://status.acme.example/subscribe";
    }
    return StatusMirror(std::move(options), site_, state_, h_.clock, metrics_);
  }

  int Pass(StatusMirror& mirror) {
    absl::StatusOr<int> n = mirror.Pass();
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }

  std::vector<fs::path> Files() {
    std::vector<fs::path> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "current")) {
      if (e.is_regular_file()) out.push_back(e.path());
    }
    return out;
  }

  double Failures(const std::string& stage) {
    return metrics_.failures.Add({{"stage", stage}}).Value();
  }

  PublicSite site_;
  PublicStateCache state_;
  prometheus::Registry registry_;
  StatusMirrorMetrics metrics_;
  fs::path dir_;
};

TEST_F(StatusMirrorTest, WritesTheWholeSiteAndPointsCurrentAtIt) {
  const int64_t id = Open("g1", "checkout");
  Publish(id, "rolled back the deploy");
  StatusMirror mirror = Mirror();
  EXPECT_EQ(Pass(mirror), 1);

  EXPECT_EQ(fs::read_symlink(dir_ / "current"), fs::path("versions/1"));
  const fs::path current = dir_ / "current";
  for (const char* file :
       {"index.html", "history/index.html", "history.atom", "404.html",
        "api/v2/summary.json", "api/v2/status.json", "api/v2/components.json",
        "api/v2/incidents.json", "api/v2/incidents/unresolved.json",
        "api/v2/scheduled-maintenances.json",
        "api/v2/scheduled-maintenances/upcoming.json",
        "api/v2/scheduled-maintenances/active.json"}) {
    EXPECT_TRUE(fs::is_regular_file(current / file)) << file;
  }
  const fs::path incident = current / "incidents" / Ref(id) / "index.html";
  ASSERT_TRUE(fs::is_regular_file(incident));
  // The very bytes heraldd serves.
  const PublicState state = *page_.Read();
  EXPECT_EQ(ReadAll(incident),
            site_.Render(state, "/incidents/" + Ref(id), {})->body);
  EXPECT_EQ(ReadAll(current / "api/v2/summary.json"),
            site_.Render(state, "/api/v2/summary.json", {})->body);
  EXPECT_THAT(ReadAll(current / "404.html"), HasSubstr("Not found"));
  // Each language under its prefix, for the page's language switch.
  const fs::path german = current / "de" / "incidents" / Ref(id) / "index.html";
  ASSERT_TRUE(fs::is_regular_file(german));
  EXPECT_EQ(ReadAll(german),
            site_.Render(state, "/de/incidents/" + Ref(id), {})->body);
  EXPECT_THAT(ReadAll(current / "de/index.html"), HasSubstr("lang=\"de\""));
  EXPECT_THAT(ReadAll(current / "en/history/index.html"),
              HasSubstr("Incident history"));
  // Public files, for the web server's user.
  struct stat st;
  ASSERT_EQ(stat((current / "index.html").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644);
}

TEST_F(StatusMirrorTest, WritesAVersionOnlyWhenSomethingChangedAndKeepsThree) {
  StatusMirror mirror = Mirror();
  EXPECT_EQ(Pass(mirror), 1);
  EXPECT_EQ(Pass(mirror), 0) << "nothing changed";
  for (int i = 0; i < 4; ++i) {
    h_.clock.Advance(absl::Minutes(10));
    const int64_t id = Open(absl::StrCat("g", i), "api");
    Publish(id, absl::StrCat("update ", i));
    ResolveAndTell(id);
    EXPECT_EQ(Pass(mirror), 1) << i;
  }
  EXPECT_EQ(fs::read_symlink(dir_ / "current"), fs::path("versions/5"));
  std::vector<std::string> versions;
  for (const auto& e : fs::directory_iterator(dir_ / "versions")) {
    versions.push_back(e.path().filename().string());
  }
  std::sort(versions.begin(), versions.end());
  EXPECT_THAT(versions, ElementsAre("3", "4", "5"));
  // What a change left as it was is the same file, not a new copy; what it
  // changed is new.
  const auto inode = [&](const std::string& file) {
    struct stat st {};
    EXPECT_EQ(stat((dir_ / file).c_str(), &st), 0) << file;
    return st.st_ino;
  };
  EXPECT_EQ(inode("versions/4/incidents/INC-1/index.html"),
            inode("versions/5/incidents/INC-1/index.html"));
  EXPECT_EQ(inode("versions/4/de/incidents/INC-1/index.html"),
            inode("versions/5/de/incidents/INC-1/index.html"));
  EXPECT_NE(inode("versions/4/index.html"), inode("versions/5/index.html"));
  EXPECT_EQ(ReadAll(dir_ / "versions/5/incidents/INC-1/index.html"),
            ReadAll(dir_ / "versions/3/incidents/INC-1/index.html"));

  // A new heraldd writes nothing new while nothing changed, and goes on
  // from the newest version on disk when something does.
  StatusMirror restarted = Mirror();
  EXPECT_EQ(Pass(restarted), 0);
  EXPECT_EQ(fs::read_symlink(dir_ / "current"), fs::path("versions/5"));
  const int64_t id = Open("after", "api");
  Publish(id, "after the restart");
  EXPECT_EQ(Pass(restarted), 1);
  EXPECT_EQ(fs::read_symlink(dir_ / "current"), fs::path("versions/6"));
}

TEST_F(StatusMirrorTest, IsReadableByAWebServerWhateverTheUmask) {
  const mode_t umask_before = umask(077);  // as heraldd's systemd unit has
  Publish(Open("g1", "checkout"), "looking");
  StatusMirror mirror = Mirror();
  const int written = Pass(mirror);
  umask(umask_before);
  ASSERT_EQ(written, 1);
  for (const auto& e : fs::recursive_directory_iterator(dir_)) {
    if (e.is_symlink()) continue;
    struct stat st;
    ASSERT_EQ(stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, e.is_directory() ? 0755 : 0644) << e.path();
  }
}

TEST_F(StatusMirrorTest, AfterARestartTheCommandRunsOnceForTheSameSite) {
  StatusMirrorOptions options{.after_write = "echo x >> runs"};
  StatusMirror first = Mirror(options);
  ASSERT_EQ(Pass(first), 1);
  StatusMirror restarted = Mirror(options);
  EXPECT_EQ(Pass(restarted), 0) << "the same site";
  EXPECT_EQ(Pass(restarted), 0);
  EXPECT_EQ(ReadAll(dir_ / "runs"), "x\nx\n")
      << "once more: the last run may not have finished";
  EXPECT_EQ(metrics_.behind_seconds.Value(), 0);
}

TEST_F(StatusMirrorTest, CarriesNoPersonalDataAndItsFormPostsToHeraldd) {
  const int64_t id = Open("g1", "checkout");
  Publish(id, "rolled back the deploy");
  ResolveAndTell(id);
  StatusMirror mirror = Mirror();
  ASSERT_EQ(Pass(mirror), 1);
  const std::string page = ReadAll(dir_ / "current/index.html");
  EXPECT_THAT(page,
              HasSubstr("action=\"https://status.acme.example/subscribe\""));
  for (const fs::path& file : Files()) {
    const std::string bytes = ReadAll(file);
    for (const char* secret :
         {"grace@globex.example", "Grace Hopper", "peter@initech.example",
          "carol@acme.example", "token", "csrf", "checkout is failing"}) {
      EXPECT_THAT(bytes, Not(HasSubstr(secret))) << file << ": " << secret;
    }
  }
}

TEST_F(StatusMirrorTest, TheFormCanBeLeftOut) {
  StatusMirror mirror = Mirror({.links = {.subscribe_action = ""}});
  ASSERT_EQ(Pass(mirror), 1);
  EXPECT_THAT(ReadAll(dir_ / "current/index.html"), Not(HasSubstr("<form")));
}

TEST_F(StatusMirrorTest, TheCommandRunsInTheMirrorWithTheNewVersion) {
  StatusMirror mirror =
      Mirror({.after_write = "test -f \"$HERALD_MIRROR_DIR/index.html\" && "
                             "echo \"$HERALD_MIRROR_DIR\" >> ran"});
  h_.clock.Advance(absl::Seconds(5));
  ASSERT_EQ(Pass(mirror), 1);
  EXPECT_EQ(ReadAll(dir_ / "ran"), (dir_ / "current").string() + "\n");
  EXPECT_EQ(Failures("command"), 0);
  EXPECT_EQ(metrics_.behind_seconds.Value(), 0);
  EXPECT_EQ(metrics_.last_success.Value(),
            absl::ToDoubleSeconds(h_.clock.Now() - absl::UnixEpoch()));
  EXPECT_EQ(Pass(mirror), 0);
  EXPECT_EQ(ReadAll(dir_ / "ran"), (dir_ / "current").string() + "\n")
      << "not again without a change";
}

TEST_F(StatusMirrorTest,
       AFailingCommandIsRetriedAfterGrowingPausesUntilItWorks) {
  StatusMirror mirror = Mirror(
      {.after_write = "echo x >> runs; test -f fixed || { echo 'bucket gone' "
                      ">&2; exit 3; }",
       .after_write_retry_cap = absl::Seconds(4)});
  ASSERT_EQ(Pass(mirror), 1);
  const auto runs = [&] { return ReadAll(dir_ / "runs").size() / 2; };
  EXPECT_EQ(runs(), 1u);
  EXPECT_THAT(ReadAll(dir_ / "after_write.log"), HasSubstr("bucket gone"));
  Pass(mirror);
  EXPECT_EQ(runs(), 1u) << "not before its pause";
  h_.clock.Advance(absl::Seconds(1));
  Pass(mirror);
  EXPECT_EQ(runs(), 2u);
  h_.clock.Advance(absl::Seconds(1));
  Pass(mirror);
  EXPECT_EQ(runs(), 2u) << "the second pause is 2 s";
  h_.clock.Advance(absl::Seconds(1));
  Pass(mirror);
  EXPECT_EQ(runs(), 3u);
  for (int i = 0; i < 3; ++i) {  // the pauses stop growing at the cap
    h_.clock.Advance(absl::Seconds(3));
    Pass(mirror);
    EXPECT_EQ(runs(), 3u + i) << i;
    h_.clock.Advance(absl::Seconds(1));
    Pass(mirror);
    EXPECT_EQ(runs(), 4u + i) << i;
  }
  EXPECT_EQ(Failures("command"), 6);
  // Still behind since the write, and never a success.
  EXPECT_EQ(metrics_.behind_seconds.Value(), 15);
  EXPECT_EQ(metrics_.last_success.Value(), 0);

  // The remote is back: the next try delivers, and the mirror is current.
  std::ofstream((dir_ / "fixed").string()) << "";
  h_.clock.Advance(absl::Seconds(4));
  Pass(mirror);
  EXPECT_EQ(runs(), 7u);
  EXPECT_EQ(metrics_.behind_seconds.Value(), 0);
  h_.clock.Advance(absl::Minutes(10));
  Pass(mirror);
  EXPECT_EQ(runs(), 7u) << "not again once it worked";
}

TEST_F(StatusMirrorTest, ANewVersionReplacesTheOneACommandFailedFor) {
  StatusMirror mirror = Mirror({.after_write = "echo x >> runs; exit 3"});
  ASSERT_EQ(Pass(mirror), 1);
  const auto runs = [&] { return ReadAll(dir_ / "runs").size() / 2; };
  // A change before the pause is over: written, and its command runs now.
  Publish(Open("g1", "checkout"), "looking");
  ASSERT_EQ(Pass(mirror), 1);
  EXPECT_EQ(runs(), 2u);
}

TEST_F(StatusMirrorTest, ACommandThatHangsIsKilledAtItsTimeout) {
  StatusMirror mirror =
      Mirror({.after_write = "sleep 30 & sleep 30; echo done >> finished",
              .after_write_timeout = absl::Milliseconds(300)});
  const absl::Time started = absl::Now();
  ASSERT_EQ(Pass(mirror), 1);
  EXPECT_LT(absl::Now() - started, absl::Seconds(10));
  EXPECT_FALSE(fs::exists(dir_ / "finished"));
  EXPECT_EQ(Failures("command"), 1);
}

TEST_F(StatusMirrorTest, AnUnwritableDirectoryIsAnErrorAndCounted) {
  fs::create_directories(dir_.parent_path());
  std::ofstream(dir_.string()) << "a file, not a directory";
  StatusMirror mirror = Mirror();
  EXPECT_FALSE(mirror.Pass().ok());
  EXPECT_EQ(Failures("write"), 1);
  h_.clock.Advance(absl::Milliseconds(500));
  EXPECT_EQ(Pass(mirror), 0) << "not again before its pause";
  EXPECT_EQ(Failures("write"), 1);
  EXPECT_EQ(metrics_.behind_seconds.Value(), 0.5)
      << "what failed to be written is behind, during the pause too";
  fs::remove(dir_);
  h_.clock.Advance(absl::Milliseconds(500));
  EXPECT_EQ(Pass(mirror), 1) << "after the pause, it tries again";
  EXPECT_EQ(metrics_.behind_seconds.Value(), 0);
}

TEST(StatusMirrorFileTest, EachPathHasOneFileInsideTheVersion) {
  EXPECT_EQ(StatusMirror::FileFor("/", true), "index.html");
  EXPECT_EQ(StatusMirror::FileFor("/history/2", true), "history/2/index.html");
  EXPECT_EQ(StatusMirror::FileFor("/de/", true), "de/index.html");
  EXPECT_EQ(StatusMirror::FileFor("/incidents/INC-12", true),
            "incidents/INC-12/index.html");
  EXPECT_EQ(StatusMirror::FileFor("/api/v2/summary.json", false),
            "api/v2/summary.json");
  for (const char* bad : {"/incidents/../../etc", "/a/./b", "relative",
                          "/incidents/INC 1", "/incidents/x?y"}) {
    EXPECT_EQ(StatusMirror::FileFor(bad, true), "") << bad;
  }
}

}  // namespace status_page_testing
}  // namespace herald
