#include "server/core/incidents/label_matcher.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

LabelMatcher Parse(const std::string& text) {
  absl::StatusOr<LabelMatcher> m = LabelMatcher::Parse(text);
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

TEST(LabelMatcherTest, EqualityMatchesExactValueOnly) {
  LabelMatcher m = Parse(R"(service="checkout")");
  EXPECT_TRUE(m.Matches({{"service", "checkout"}}));
  EXPECT_FALSE(m.Matches({{"service", "checkout-v2"}}));
  EXPECT_FALSE(m.Matches({}));
}

TEST(LabelMatcherTest, NotEqualTreatsMissingLabelAsEmpty) {
  LabelMatcher m = Parse(R"(env!="staging")");
  EXPECT_TRUE(m.Matches({{"env", "prod"}}));
  EXPECT_TRUE(m.Matches({}));
  EXPECT_FALSE(m.Matches({{"env", "staging"}}));
}

TEST(LabelMatcherTest, RegexIsAnchoredAtBothEndsLikeAlertmanager) {
  LabelMatcher m = Parse(R"(service=~"api|gateway")");
  EXPECT_TRUE(m.Matches({{"service", "api"}}));
  EXPECT_TRUE(m.Matches({{"service", "gateway"}}));
  EXPECT_FALSE(m.Matches({{"service", "public-api"}}));
  EXPECT_FALSE(m.Matches({{"service", "api-v2"}}));
}

TEST(LabelMatcherTest, NegativeRegexExcludesFullMatchesOnly) {
  LabelMatcher m = Parse(R"(team!~"qa|dev")");
  EXPECT_FALSE(m.Matches({{"team", "qa"}}));
  EXPECT_TRUE(m.Matches({{"team", "qa-lead"}}));
  EXPECT_TRUE(m.Matches({}));
}

TEST(LabelMatcherTest, AcceptsUnquotedValuesAndEscapes) {
  EXPECT_TRUE(Parse("service = checkout").Matches({{"service", "checkout"}}));
  EXPECT_TRUE(Parse(R"(msg="say \"hi\"")").Matches({{"msg", "say \"hi\""}}));
}

TEST(LabelMatcherTest, RejectsMalformedMatchersNamingTheProblem) {
  EXPECT_THAT(std::string(LabelMatcher::Parse("=x").status().message()),
              HasSubstr("expected a label name"));
  EXPECT_THAT(std::string(LabelMatcher::Parse("service>x").status().message()),
              HasSubstr("expected one of =, !=, =~, !~"));
  EXPECT_THAT(std::string(LabelMatcher::Parse(R"(a=~"(")").status().message()),
              HasSubstr("invalid regex"));
  EXPECT_THAT(std::string(LabelMatcher::Parse(R"(a="open)").status().message()),
              HasSubstr("unterminated"));
  EXPECT_EQ(LabelMatcher::Parse("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ComponentRouterTest, RoutesToEveryComponentWhoseMatchersAllHold) {
  ComponentRouter router(
      {{"checkout", {Parse(R"(service="checkout")")}},
       {"eu", {Parse(R"(region="eu")"), Parse(R"(env!="staging")")}}},
      "platform");
  ComponentRouter::Routing both =
      router.Route({{"service", "checkout"}, {"region", "eu"}});
  EXPECT_THAT(both.component_ids, ElementsAre("checkout", "eu"));
  EXPECT_FALSE(both.unrouted);
}

TEST(ComponentRouterTest, UnmatchedAlertGoesToTheDefaultAndIsFlaggedUnrouted) {
  ComponentRouter router({{"checkout", {Parse(R"(service="checkout")")}}},
                         "platform");
  ComponentRouter::Routing r = router.Route({{"service", "search"}});
  EXPECT_THAT(r.component_ids, ElementsAre("platform"));
  EXPECT_TRUE(r.unrouted);
  EXPECT_FALSE(router.Route({{"service", "checkout"}}).unrouted);
}

TEST(ComponentRouterTest, PartialMatchIsNoMatch) {
  ComponentRouter router(
      {{"eu", {Parse(R"(region="eu")"), Parse(R"(env!="staging")")}}},
      "platform");
  EXPECT_TRUE(router.Route({{"region", "eu"}, {"env", "staging"}}).unrouted);
}

}  // namespace
}  // namespace herald
