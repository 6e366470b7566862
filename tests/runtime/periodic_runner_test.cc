// PeriodicRunner, driven by a waiter whose time the test moves: a pass at
// start and then one per interval, at once after a busy pass or a Wake(),
// an interval after a failed or slow one, wakes held back until a minimum
// gap after a pass is over, and a Stop() that ends the wait
// (or a busy streak) at once. One test runs it on real time, to show that
// heraldd's waiter honours Wake() and Stop() too.
#include "server/runtime/periodic_runner.h"

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald {
// Named, not anonymous: test executables may be unity builds.
namespace periodic_runner_testing {

using ::testing::ElementsAre;

// How long a test waits for something that should happen at once before it
// calls it a failure rather than hanging. Never reached when all is well.
constexpr absl::Duration kPatience = absl::Seconds(30);

// A PassWaiter on time that only moves when the test says so. A wait ends
// when the runner's condition holds or the test has moved the time past the
// wait's timeout. Thread-safe; the runner waiting on it must still exist
// when the test moves the time.
class ManualPassWaiter final : public PassWaiter {
 public:
  void Wait(absl::Mutex& mu, const absl::Condition& ready,
            absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) override {
    Waiting waiting{&ready, this, absl::ZeroDuration()};
    {
      absl::MutexLock lock(&mu_);
      waiting.until = Elapsed() + timeout;
      runner_mu_ = &mu;
      timeouts_.push_back(timeout);
      ++waits_;
    }
    mu.Await(absl::Condition(&Waiting::Over, &waiting));
  }

  // Moves the time on by `d`, ending a wait whose timeout it reaches.
  void Elapse(absl::Duration d) {
    elapsed_ns_ += absl::ToInt64Nanoseconds(d);
    absl::Mutex* runner_mu = nullptr;
    {
      absl::MutexLock lock(&mu_);
      runner_mu = runner_mu_;
    }
    // Releasing the runner's mutex makes it look at its waiting condition
    // again.
    if (runner_mu != nullptr) {
      runner_mu->Lock();
      runner_mu->Unlock();
    }
  }

  // Blocks until `n` waits have begun (the runner finished that many
  // rounds of passes); false if that does not happen within kPatience.
  bool AwaitWaits(int n) {
    absl::MutexLock lock(&mu_);
    want_ = n;
    return mu_.AwaitWithTimeout(
        absl::Condition(this, &ManualPassWaiter::EnoughWaits), kPatience);
  }

  absl::Duration Elapsed() const {
    return absl::Nanoseconds(elapsed_ns_.load());
  }
  int Waits() const {
    absl::MutexLock lock(&mu_);
    return waits_;
  }
  // The timeout of each wait so far, oldest first.
  std::vector<absl::Duration> Timeouts() const {
    absl::MutexLock lock(&mu_);
    return timeouts_;
  }

 private:
  struct Waiting {
    // Evaluated under the runner's mutex, so it takes no lock of its own.
    static bool Over(Waiting* w) {
      return w->ready->Eval() || w->waiter->Elapsed() >= w->until;
    }
    const absl::Condition* ready;
    const ManualPassWaiter* waiter;
    absl::Duration until;
  };
  bool EnoughWaits() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return waits_ >= want_;
  }

  std::atomic<int64_t> elapsed_ns_{0};
  mutable absl::Mutex mu_;
  absl::Mutex* runner_mu_ ABSL_GUARDED_BY(mu_) = nullptr;
  int waits_ ABSL_GUARDED_BY(mu_) = 0;
  int want_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<absl::Duration> timeouts_ ABSL_GUARDED_BY(mu_);
};

// A task that answers each pass from a script (then 0: idle) and counts
// its passes.
class ScriptedTask {
 public:
  explicit ScriptedTask(std::deque<absl::StatusOr<int>> answers = {})
      : answers_(std::move(answers)) {}

  absl::StatusOr<int> operator()() {
    std::function<void()> during;
    absl::StatusOr<int> answer = 0;
    {
      absl::MutexLock lock(&mu_);
      ++passes_;
      if (!answers_.empty()) {
        answer = answers_.front();
        answers_.pop_front();
      }
      during = during_;
    }
    if (during) during();
    return answer;
  }

  // Runs `fn` inside every pass from now on (outside the task's lock).
  void During(std::function<void()> fn) {
    absl::MutexLock lock(&mu_);
    during_ = std::move(fn);
  }
  int Passes() const {
    absl::MutexLock lock(&mu_);
    return passes_;
  }
  // Blocks until `n` passes have begun; false after kPatience.
  bool AwaitPasses(int n) {
    absl::MutexLock lock(&mu_);
    want_ = n;
    return mu_.AwaitWithTimeout(
        absl::Condition(this, &ScriptedTask::EnoughPasses), kPatience);
  }

 private:
  bool EnoughPasses() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return passes_ >= want_;
  }

  mutable absl::Mutex mu_;
  std::deque<absl::StatusOr<int>> answers_ ABSL_GUARDED_BY(mu_);
  std::function<void()> during_ ABSL_GUARDED_BY(mu_);
  int passes_ ABSL_GUARDED_BY(mu_) = 0;
  int want_ ABSL_GUARDED_BY(mu_) = 0;
};

// Calls runner.Stop() on another thread; true if it returned within
// kPatience. If it did not, the time moves on so that the runner can end
// and the test fails instead of hanging.
inline bool StopsPromptly(PeriodicRunner& runner, ManualPassWaiter* waiter) {
  absl::Notification stopped;
  std::thread stopper([&] {
    runner.Stop();
    stopped.Notify();
  });
  const bool prompt = stopped.WaitForNotificationWithTimeout(kPatience);
  if (!prompt && waiter != nullptr) waiter->Elapse(absl::Hours(24 * 365));
  stopper.join();
  return prompt;
}

constexpr absl::Duration kInterval = absl::Seconds(5);

class PeriodicRunnerTest : public ::testing::Test {
 protected:
  explicit PeriodicRunnerTest(std::deque<absl::StatusOr<int>> answers = {})
      : task_(std::move(answers)) {}

  // A runner of task_ on waiter_, started.
  std::unique_ptr<PeriodicRunner> Started() {
    auto runner = std::make_unique<PeriodicRunner>(
        "test", [this] { return task_(); }, kInterval, waiter_);
    runner->Start();
    return runner;
  }

  ManualPassWaiter waiter_;
  ScriptedTask task_;
};

TEST_F(PeriodicRunnerTest, RunsAtStartThenOncePerInterval) {
  auto runner = Started();
  ASSERT_TRUE(waiter_.AwaitWaits(1));
  EXPECT_EQ(task_.Passes(), 1);
  waiter_.Elapse(kInterval - absl::Milliseconds(1));
  waiter_.Elapse(absl::Milliseconds(1));
  ASSERT_TRUE(waiter_.AwaitWaits(2));
  EXPECT_EQ(task_.Passes(), 2);
  waiter_.Elapse(kInterval);
  ASSERT_TRUE(waiter_.AwaitWaits(3));
  EXPECT_EQ(task_.Passes(), 3);
  EXPECT_THAT(waiter_.Timeouts(), ElementsAre(kInterval, kInterval, kInterval));
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_));
}

TEST_F(PeriodicRunnerTest, NoPassRunsBeforeTheIntervalIsOver) {
  auto runner = Started();
  ASSERT_TRUE(waiter_.AwaitWaits(1));
  waiter_.Elapse(kInterval - absl::Milliseconds(1));
  // Stop ends the wait; had the short step ended it, a second pass would
  // have begun first.
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_));
  EXPECT_EQ(task_.Passes(), 1);
  EXPECT_EQ(waiter_.Waits(), 1);
}

TEST_F(PeriodicRunnerTest, WakeRunsAPassWithoutWaitingForTheInterval) {
  auto runner = Started();
  ASSERT_TRUE(waiter_.AwaitWaits(1));
  runner->Wake();
  ASSERT_TRUE(waiter_.AwaitWaits(2));
  EXPECT_EQ(task_.Passes(), 2);
  EXPECT_EQ(waiter_.Elapsed(), absl::ZeroDuration());
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_));
}

TEST_F(PeriodicRunnerTest, AWakeDuringAPassIsNotLost) {
  PeriodicRunner* self = nullptr;
  task_.During([&self] {
    if (self != nullptr) self->Wake();
  });
  auto runner = std::make_unique<PeriodicRunner>(
      "test", [this] { return task_(); }, kInterval, waiter_);
  self = runner.get();
  runner->Start();
  // Each pass woke the next: no time passes, yet passes go on.
  EXPECT_TRUE(task_.AwaitPasses(3));
  task_.During(nullptr);
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_));
}

class BusyPeriodicRunnerTest : public PeriodicRunnerTest {
 protected:
  BusyPeriodicRunnerTest() : PeriodicRunnerTest({3, 2, 0, 1}) {}
};

TEST_F(BusyPeriodicRunnerTest, ABusyPassIsFollowedAtOnceByAnother) {
  auto runner = Started();
  ASSERT_TRUE(waiter_.AwaitWaits(1));
  EXPECT_EQ(task_.Passes(), 3) << "3 and 2 went again at once; 0 waited";
  waiter_.Elapse(kInterval);
  ASSERT_TRUE(waiter_.AwaitWaits(2));
  EXPECT_EQ(task_.Passes(), 5) << "1 went again at once, then idle";
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_));
}

class FailingPeriodicRunnerTest : public PeriodicRunnerTest {
 protected:
  FailingPeriodicRunnerTest()
      : PeriodicRunnerTest({absl::UnavailableError("database is locked"),
                            absl::InternalError("again")}) {}
};

TEST_F(FailingPeriodicRunnerTest, AFailedPassWaitsTheIntervalAndTheNextRuns) {
  auto runner = Started();
  ASSERT_TRUE(waiter_.AwaitWaits(1));
  EXPECT_EQ(task_.Passes(), 1) << "a failure is not retried in a tight loop";
  waiter_.Elapse(kInterval);
  ASSERT_TRUE(waiter_.AwaitWaits(2));
  waiter_.Elapse(kInterval);
  ASSERT_TRUE(waiter_.AwaitWaits(3));
  EXPECT_EQ(task_.Passes(), 3) << "the runner lives on after failures";
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_));
}

TEST_F(PeriodicRunnerTest, ASlowPassIsFollowedByAFullIntervalThenTheNext) {
  absl::Notification release;
  task_.During([&] { release.WaitForNotificationWithTimeout(kPatience); });
  auto runner = Started();
  ASSERT_TRUE(task_.AwaitPasses(1));
  // Time passes while the pass is under way: it is not a wait.
  waiter_.Elapse(kInterval * 3);
  task_.During(nullptr);
  release.Notify();
  ASSERT_TRUE(waiter_.AwaitWaits(1));
  EXPECT_EQ(task_.Passes(), 1);
  waiter_.Elapse(kInterval);
  ASSERT_TRUE(waiter_.AwaitWaits(2));
  EXPECT_EQ(task_.Passes(), 2);
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_));
}

TEST_F(PeriodicRunnerTest, StopEndsTheWaitAtOnceAndNoPassFollows) {
  auto runner = Started();
  ASSERT_TRUE(waiter_.AwaitWaits(1));
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_));
  EXPECT_EQ(waiter_.Elapsed(), absl::ZeroDuration());
  EXPECT_EQ(task_.Passes(), 1);
  // Idempotent: a second Stop, and the destructor's, change nothing.
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_));
  runner.reset();
  EXPECT_EQ(task_.Passes(), 1);
}

TEST_F(PeriodicRunnerTest, ASecondStartRunsNoSecondLoop) {
  auto runner = Started();
  ASSERT_TRUE(waiter_.AwaitWaits(1));
  runner->Start();  // once was enough: no second thread, no second pass
  waiter_.Elapse(kInterval);
  ASSERT_TRUE(waiter_.AwaitWaits(2));
  EXPECT_EQ(task_.Passes(), 2);
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_));
}

TEST_F(PeriodicRunnerTest, AStartAfterStopRunsNothing) {
  PeriodicRunner runner(
      "test", [this] { return task_(); }, kInterval, waiter_);
  runner.Stop();
  runner.Start();
  runner.Stop();
  EXPECT_EQ(task_.Passes(), 0);
}

TEST_F(PeriodicRunnerTest, StopEndsAStreakOfBusyPasses) {
  // A streak the stop did not end runs on to its end, where `left` is 0.
  std::atomic<int> left{20000000};
  auto runner = std::make_unique<PeriodicRunner>(
      "busy",
      [&]() -> absl::StatusOr<int> {
        task_().IgnoreError();
        return --left > 0 ? 1 : 0;
      },
      kInterval, waiter_);
  runner->Start();
  ASSERT_TRUE(task_.AwaitPasses(3));
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_));
  const int passes = task_.Passes();
  EXPECT_GT(left.load(), 0) << "stopped mid-streak, not at its end";
  EXPECT_EQ(waiter_.Waits(), 1) << "the only wait is the one the stop ended";
  runner.reset();
  EXPECT_EQ(task_.Passes(), passes);
}

TEST_F(PeriodicRunnerTest, TheDestructorStopsAWaitingRunner) {
  auto runner = Started();
  ASSERT_TRUE(waiter_.AwaitWaits(1));
  absl::Notification destroyed;
  std::thread destroyer([&] {
    runner.reset();
    destroyed.Notify();
  });
  const bool prompt = destroyed.WaitForNotificationWithTimeout(kPatience);
  if (!prompt) waiter_.Elapse(absl::Hours(24 * 365));
  destroyer.join();
  EXPECT_TRUE(prompt);
  EXPECT_EQ(task_.Passes(), 1);
}

// With a minimum gap (the static mirror's): a wake right after a pass waits
// out the gap, one later runs a pass at once, and without wakes the passes
// still come once per interval.
class GappedPeriodicRunnerTest : public PeriodicRunnerTest {
 protected:
  static constexpr absl::Duration kGap = absl::Seconds(1);
  std::unique_ptr<PeriodicRunner> Started() {
    auto runner = std::make_unique<PeriodicRunner>(
        "gapped", [this] { return task_(); }, kInterval, waiter_, kGap);
    runner->Start();
    return runner;
  }
};

TEST_F(GappedPeriodicRunnerTest, AWakeRightAfterAPassWaitsOutTheGap) {
  absl::Mutex mu;
  std::vector<absl::Duration> began;  // when each pass began
  task_.During([&] {
    absl::MutexLock lock(&mu);
    began.push_back(waiter_.Elapsed());
  });
  auto runner = Started();
  ASSERT_TRUE(waiter_.AwaitWaits(1));  // the gap after the first pass
  runner->Wake();
  waiter_.Elapse(kGap - absl::Milliseconds(1));
  waiter_.Elapse(absl::Milliseconds(1));
  // The gap over, the kept wake ends the rest of the wait at once.
  ASSERT_TRUE(waiter_.AwaitWaits(3));
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_));
  absl::MutexLock lock(&mu);
  EXPECT_THAT(began, ElementsAre(absl::ZeroDuration(), kGap))
      << "the second pass waited out the gap, and no longer";
}

TEST_F(GappedPeriodicRunnerTest, AWakeAfterTheGapRunsAPassAtOnce) {
  auto runner = Started();
  ASSERT_TRUE(waiter_.AwaitWaits(1));
  waiter_.Elapse(kGap);
  ASSERT_TRUE(waiter_.AwaitWaits(2));  // past the gap, waiting for a wake
  runner->Wake();
  // No more time passes: the wake alone runs the pass.
  ASSERT_TRUE(waiter_.AwaitWaits(3));
  EXPECT_EQ(task_.Passes(), 2);
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_));
}

TEST_F(GappedPeriodicRunnerTest, WithoutWakesAPassComesOncePerInterval) {
  auto runner = Started();
  ASSERT_TRUE(waiter_.AwaitWaits(1));
  waiter_.Elapse(kGap);
  ASSERT_TRUE(waiter_.AwaitWaits(2));
  waiter_.Elapse(kInterval - kGap);
  ASSERT_TRUE(waiter_.AwaitWaits(3));
  EXPECT_EQ(task_.Passes(), 2);
  EXPECT_THAT(waiter_.Timeouts(), ElementsAre(kGap, kInterval - kGap, kGap));
  EXPECT_TRUE(StopsPromptly(*runner, &waiter_)) << "a stop ends the gap too";
  EXPECT_EQ(task_.Passes(), 2);
}

// heraldd's waiter: a Wake() or a Stop() ends an hour-long wait at once.
TEST(PeriodicRunnerRealTimeTest, WakeAndStopEndAnHourLongWait) {
  ScriptedTask task;
  PeriodicRunner runner(
      "real", [&] { return task(); }, absl::Hours(1));
  runner.Start();
  ASSERT_TRUE(task.AwaitPasses(1));
  runner.Wake();
  EXPECT_TRUE(task.AwaitPasses(2)) << "woken well before the hour";
  EXPECT_TRUE(StopsPromptly(runner, nullptr));
  EXPECT_EQ(task.Passes(), 2);
}

}  // namespace periodic_runner_testing
}  // namespace herald
