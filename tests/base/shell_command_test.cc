// An operator's hook command: run through /bin/sh in its directory with
// its environment, its output kept, none of heraldd's descriptors handed
// on, and its whole process group killed when its time runs out.
#include "server/base/shell_command.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ShellCommandTest : public ::testing::Test {
 protected:
  ShellCommandTest()
      : dir_(fs::path(::testing::TempDir()) /
             absl::StrCat("shell-", getpid(), "-",
                          ::testing::UnitTest::GetInstance()
                              ->current_test_info()
                              ->name())) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~ShellCommandTest() override { fs::remove_all(dir_); }

  ShellCommand Command(std::string text) {
    return ShellCommand{.command = std::move(text),
                        .directory = dir_.string(),
                        .output_file = (dir_ / "out.log").string(),
                        .timeout = absl::Seconds(20)};
  }

  std::string Output() {
    std::ifstream in(dir_ / "out.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  fs::path dir_;
};

TEST_F(ShellCommandTest, RunsInItsDirectoryWithItsEnvironmentAndKeepsOutput) {
  ShellCommand c = Command("pwd; echo \"$HERALD_X\"; echo oops >&2");
  c.environment = {{"HERALD_X", "from the config"}};
  ASSERT_TRUE(RunShellCommand(c).ok());
  EXPECT_EQ(Output(), dir_.string() + "\nfrom the config\noops\n");
}

TEST_F(ShellCommandTest, AFailureSaysHowItEnded) {
  const absl::Status exited = RunShellCommand(Command("exit 3"));
  EXPECT_EQ(exited.code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(exited.message(), HasSubstr("exited with status 3"));
  const absl::Status killed = RunShellCommand(Command("kill -TERM $$"));
  EXPECT_THAT(killed.message(), HasSubstr("ended by signal 15"));
}

TEST_F(ShellCommandTest, InheritsNoneOfTheCallersDescriptors) {
  // Not close-on-exec, as asio's sockets are not.
  const int leaked = open("/dev/null", O_RDONLY);
  ASSERT_GE(leaked, 3);
  ASSERT_TRUE(
      RunShellCommand(Command(absl::StrCat("test -e /proc/self/fd/", leaked,
                                           " && echo inherited || echo no")))
          .ok());
  close(leaked);
  EXPECT_EQ(Output(), "no\n");
}

TEST_F(ShellCommandTest, ATimeoutKillsTheWholeProcessGroup) {
  ShellCommand c = Command("sleep 30 & echo $! > child; wait");
  c.timeout = absl::Milliseconds(300);
  const absl::Time started = absl::Now();
  const absl::Status s = RunShellCommand(c);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - started, absl::Seconds(10));
  std::ifstream in(dir_ / "child");
  std::string text;
  std::getline(in, text);
  int child = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &child));
  // Killed with the group; once its parent is gone, init reaps it.
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = kill(child, 0) != 0;
    if (!gone) usleep(10 * 1000);
  }
  EXPECT_TRUE(gone) << "the background child outlived the timeout";
}

TEST_F(ShellCommandTest, ADirectoryThatIsNotThereIsAnError) {
  ShellCommand c = Command("true");
  c.directory = (dir_ / "missing").string();
  EXPECT_FALSE(RunShellCommand(c).ok());
}

}  // namespace
}  // namespace herald
