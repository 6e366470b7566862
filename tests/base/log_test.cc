// Log lines are logfmt, filtered by level, and carry the id of the request
// being served; client-sent ids are used only when safe to log.
#include "server/base/log.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// Captures what Log writes for the life of the fixture.
class LogTest : public ::testing::Test {
 protected:
  LogTest() {
    SetLogSinkForTesting(
        [this](absl::string_view line) { lines_.emplace_back(line); });
  }
  ~LogTest() override {
    SetLogSinkForTesting(nullptr);
    SetLogLevel(LogLevel::kInfo);
  }
  std::vector<std::string> lines_;
};

TEST_F(LogTest, FormatsOneLogfmtLineQuotingWhatNeedsIt) {
  EXPECT_EQ(FormatLogLine("2026-11-23T10:00:00.000Z", LogLevel::kWarn,
                          "webhook rejected",
                          {{"reason", "bad_json"},
                           {"error", "line 1: \"x\" unexpected\nhere"},
                           {"empty", ""}}),
            "ts=2026-11-23T10:00:00.000Z level=warn msg=\"webhook rejected\" "
            "reason=bad_json error=\"line 1: \\\"x\\\" unexpected\\nhere\" "
            "empty=\"\"");
}

TEST_F(LogTest, LinesBelowTheLevelAreDropped) {
  SetLogLevel(LogLevel::kWarn);
  LogInfo("quiet");
  LogWarn("loud");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], HasSubstr("level=warn msg=loud"));
  EXPECT_THAT(lines_[0], EndsWith("\n"));
}

TEST_F(LogTest, LinesInsideARequestScopeEndWithItsId) {
  LogInfo("before");
  {
    const ScopedRequestId outer("req-1");
    LogInfo("in outer", {{"k", "v"}});
    {
      const ScopedRequestId inner("req-2");
      LogInfo("in inner");
    }
    LogInfo("outer again");
  }
  LogInfo("after");
  ASSERT_EQ(lines_.size(), 5u);
  EXPECT_THAT(lines_[0], Not(HasSubstr("request_id")));
  EXPECT_THAT(lines_[1], EndsWith("k=v request_id=req-1\n"));
  EXPECT_THAT(lines_[2], EndsWith("request_id=req-2\n"));
  EXPECT_THAT(lines_[3], EndsWith("request_id=req-1\n"));
  EXPECT_THAT(lines_[4], Not(HasSubstr("request_id")));
  EXPECT_EQ(CurrentRequestId(), "");
}

TEST_F(LogTest, AUsableClientRequestIdIsKept) {
  EXPECT_EQ(AcceptRequestId("7f3a-proxy.id_01"), "7f3a-proxy.id_01");
}

TEST_F(LogTest, AnUnsafeOrMissingClientRequestIdIsReplacedWithAFreshOne) {
  for (const std::string bad :
       {std::string(), std::string("a b"), std::string("x\nlevel=error"),
        std::string("id=forged"), std::string(65, 'a')}) {
    const std::string id = AcceptRequestId(bad);
    EXPECT_THAT(id, MatchesRegex("[0-9a-f]{16}")) << "for \"" << bad << "\"";
  }
  EXPECT_NE(NewRequestId(), NewRequestId());
}

}  // namespace
}  // namespace herald
