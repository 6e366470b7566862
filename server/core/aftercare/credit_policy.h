// CreditPolicy is what the organisation gives a customer with an apology
// (config `aftercare`): the largest credit tier that applies to their plan
// and how long the impact lasted, and a voucher by the first rule that
// applies. It also mints voucher codes. Immutable; thread-safe.
#ifndef HERALD_SERVER_CORE_AFTERCARE_CREDIT_POLICY_H_
#define HERALD_SERVER_CORE_AFTERCARE_CREDIT_POLICY_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "herald/v1/config.pb.h"
#include "herald/v1/domain.pb.h"
#include "server/base/random.h"

namespace herald {

class CreditPolicy {
 public:
  struct Tier {
    std::set<std::string> plans;  // empty: every plan
    absl::Duration min_duration;
    double percent = 0;
  };
  struct Voucher {
    std::set<std::string> plans;  // empty: every plan
    absl::Duration min_duration;
    std::string value;
  };

  CreditPolicy() = default;
  CreditPolicy(std::vector<Tier> tiers, std::vector<Voucher> vouchers,
               std::vector<v1::PlanConfig> plans);

  // What a customer on `plan` gets for an impact of `duration`: the credit
  // percent (and amount, when the plan's fee is known) and the voucher's
  // value. The voucher code is left for the caller to mint when the offer
  // is fixed. An empty Credit when nothing applies.
  v1::Credit For(const std::string& plan, absl::Duration duration) const;

  bool empty() const { return tiers_.empty() && vouchers_.empty(); }

 private:
  std::vector<Tier> tiers_;
  std::vector<Voucher> vouchers_;
  std::map<std::string, v1::PlanConfig> plans_;
};

// True when `credit` offers anything.
bool OffersSomething(const v1::Credit& credit);

// In words, for a letter or a listing: "a credit of 10% of your monthly fee
// (EUR 49.90)", "a voucher: one month free (code XXXX-...)", or both joined
// by "and". Empty for an empty Credit.
std::string DescribeCredit(const v1::Credit& credit);

// A new voucher code: 20 characters of Crockford base32 (100 bits from
// `random`, the OS's CSPRNG in heraldd) in groups of four, e.g.
// "7K2Q-9XMD-...". Unguessable; the store keeps them unique.
std::string NewVoucherCode(Random& random);

}  // namespace herald

#endif  // HERALD_SERVER_CORE_AFTERCARE_CREDIT_POLICY_H_
