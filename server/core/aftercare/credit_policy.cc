#include "server/core/aftercare/credit_policy.h"

#include <cmath>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace herald {
namespace {

bool Applies(const std::set<std::string>& plans, absl::Duration min_duration,
             const std::string& plan, absl::Duration duration) {
  return (plans.empty() || plans.contains(plan)) && duration >= min_duration;
}

std::string Money(int64_t cents, const std::string& currency) {
  return absl::StrFormat("%s %d.%02d", currency, cents / 100, cents % 100);
}

// A percentage as customers read it: "10%", "12.5%".
std::string FormatPercent(double percent) {
  return percent == std::floor(percent) ? absl::StrCat(percent, "%")
                                        : absl::StrFormat("%.1f%%", percent);
}

}  // namespace

CreditPolicy::CreditPolicy(std::vector<Tier> tiers,
                           std::vector<Voucher> vouchers,
                           std::vector<v1::PlanConfig> plans)
    : tiers_(std::move(tiers)), vouchers_(std::move(vouchers)) {
  for (v1::PlanConfig& p : plans) plans_[p.id()] = std::move(p);
}

v1::Credit CreditPolicy::For(const std::string& plan,
                             absl::Duration duration) const {
  v1::Credit out;
  for (const Tier& t : tiers_) {
    if (Applies(t.plans, t.min_duration, plan, duration) &&
        t.percent > out.percent()) {
      out.set_percent(t.percent);
    }
  }
  if (out.percent() > 0) {
    auto it = plans_.find(plan);
    if (it != plans_.end() && it->second.monthly_fee_cents() > 0) {
      out.set_amount_cents(
          std::llround(static_cast<double>(it->second.monthly_fee_cents()) *
                       out.percent() / 100.0));
      out.set_currency(it->second.currency());
    }
  }
  for (const Voucher& v : vouchers_) {
    if (Applies(v.plans, v.min_duration, plan, duration)) {
      out.set_voucher_value(v.value);
      break;
    }
  }
  return out;
}

bool OffersSomething(const v1::Credit& credit) {
  return credit.percent() > 0 || !credit.voucher_value().empty();
}

std::string DescribeCredit(const v1::Credit& credit) {
  std::string out;
  if (credit.percent() > 0) {
    out = absl::StrCat("a credit of ", FormatPercent(credit.percent()),
                       " of your monthly fee");
    if (credit.amount_cents() > 0) {
      absl::StrAppend(&out, " (",
                      Money(credit.amount_cents(), credit.currency()), ")");
    }
  }
  if (!credit.voucher_value().empty()) {
    absl::StrAppend(&out, out.empty() ? "" : " and ", "a voucher for ",
                    credit.voucher_value());
    if (!credit.voucher_code().empty()) {
      absl::StrAppend(&out, " (code ", credit.voucher_code(), ")");
    }
  }
  return out;
}

std::string NewVoucherCode(Random& random) {
  static constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  uint8_t bytes[13];  // 104 bits; 100 are used
  random.Fill(absl::MakeSpan(bytes));
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  size_t next = 0;
  for (int i = 0; i < 20; ++i) {
    if (bits < 5) {
      buffer = (buffer << 8) | bytes[next++];
      bits += 8;
    }
    bits -= 5;
    if (i > 0 && i % 4 == 0) out += '-';
    out += kCrockford[(buffer >> bits) & 31];
  }
  return out;
}

}  // namespace herald
