#include "server/core/aftercare/credit_policy.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/config_loader.h"
#include "server/core/org/organisation.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

CreditPolicy Tiered() {
  v1::PlanConfig business;
  business.set_id("business");
  business.set_monthly_fee_cents(49900);
  business.set_currency("EUR");
  return CreditPolicy({{{"business"}, absl::Minutes(30), 10},
                       {{"business"}, absl::Hours(2), 25},
                       {{}, absl::Hours(4), 5}},
                      {{{"starter"}, absl::Minutes(15), "one month free"}},
                      {business});
}

TEST(CreditPolicyTest, TheLargestTierThatAppliesToThePlanAndDurationWins) {
  const CreditPolicy policy = Tiered();
  EXPECT_FALSE(OffersSomething(policy.For("business", absl::Minutes(29))));
  EXPECT_EQ(policy.For("business", absl::Minutes(30)).percent(), 10);
  EXPECT_EQ(policy.For("business", absl::Hours(2)).percent(), 25);
  // The every-plan tier is smaller than business's own.
  EXPECT_EQ(policy.For("business", absl::Hours(5)).percent(), 25);
  EXPECT_EQ(policy.For("enterprise", absl::Hours(1)).percent(), 0);
  EXPECT_EQ(policy.For("enterprise", absl::Hours(4)).percent(), 5);
}

TEST(CreditPolicyTest, TheAmountIsTheShareOfAKnownMonthlyFee) {
  const v1::Credit credit = Tiered().For("business", absl::Hours(1));
  EXPECT_EQ(credit.amount_cents(), 4990);
  EXPECT_EQ(credit.currency(), "EUR");
  EXPECT_EQ(DescribeCredit(credit),
            "a credit of 10% of your monthly fee (EUR 49.90)");
  // No fee configured: the share alone.
  EXPECT_EQ(DescribeCredit(Tiered().For("other", absl::Hours(5))),
            "a credit of 5% of your monthly fee");
}

TEST(CreditPolicyTest, AVoucherRuleAppliesToItsPlans) {
  v1::Credit credit = Tiered().For("starter", absl::Minutes(20));
  EXPECT_EQ(credit.percent(), 0);
  EXPECT_EQ(credit.voucher_value(), "one month free");
  EXPECT_TRUE(OffersSomething(credit));
  EXPECT_EQ(DescribeCredit(credit), "a voucher for one month free");
  credit.set_voucher_code("ABCD-EFGH-JKMN-PQRS-TVWX");
  EXPECT_THAT(DescribeCredit(credit),
              HasSubstr("(code ABCD-EFGH-JKMN-PQRS-TVWX)"));
  EXPECT_FALSE(OffersSomething(Tiered().For("starter", absl::Minutes(10))));
}

TEST(CreditPolicyTest, VoucherCodesAreWellFormedAndDoNotRepeat) {
  SecureRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    const std::string code = NewVoucherCode(random);
    ASSERT_THAT(code, ContainsRegex("^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]"
                                    "{4}){4}$"));
    seen.insert(code);
  }
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(CreditPolicyTest, TheConfigNamesTheFieldOfABadRule) {
  auto error = [](const std::string& yaml) {
    v1::Config config = DefaultConfig();
    v1::Config extra;
    if (absl::Status s = ParseYamlInto(yaml, "test.yaml", &extra); !s.ok()) {
      return std::string(s.message());
    }
    config.mutable_aftercare()->CopyFrom(extra.aftercare());
    absl::StatusOr<std::shared_ptr<const Organisation>> org =
        Organisation::Create(config);
    return org.ok() ? std::string("ok") : std::string(org.status().message());
  };
  EXPECT_EQ(error("aftercare: {credit_tiers: [{min_duration: 30m, percent: "
                  "10}], follow_up_after: 3d}"),
            "ok");
  EXPECT_THAT(error("aftercare: {credit_tiers: [{min_duration: 30m, percent: "
                    "0}]}"),
              HasSubstr("aftercare.credit_tiers[0].percent"));
  EXPECT_EQ(error("aftercare: {credit_tiers: [{percent: 10}]}"), "ok")
      << "no min_duration: any impact";
  EXPECT_THAT(error("aftercare: {credit_tiers: [{min_duration: 0s, percent: "
                    "10}]}"),
              HasSubstr("aftercare.credit_tiers[0].min_duration"));
  EXPECT_THAT(error("aftercare: {vouchers: [{min_duration: 1h}]}"),
              HasSubstr("aftercare.vouchers[0].value"));
  EXPECT_THAT(error("aftercare: {plans: [{id: a, monthly_fee_cents: 100, "
                    "currency: euro}]}"),
              HasSubstr("aftercare.plans[0].currency"));
  EXPECT_THAT(error("aftercare: {follow_up_after: 7 days}"),
              HasSubstr("aftercare.follow_up_after: expected a duration like "
                        "\"7d\""));
}

TEST(CreditPolicyTest, FollowUpDelaysAreCountedInDays) {
  v1::Config config = DefaultConfig();
  config.mutable_aftercare()->set_follow_up_after("3d");
  absl::StatusOr<std::shared_ptr<const Organisation>> org =
      Organisation::Create(config);
  ASSERT_TRUE(org.ok()) << org.status();
  EXPECT_EQ((*org)->aftercare().follow_up_after, absl::Hours(72));
  EXPECT_EQ((*org)->aftercare().apology_reminder_after, absl::Hours(2));
}

}  // namespace
}  // namespace herald
