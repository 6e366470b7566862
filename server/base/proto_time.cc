#include "server/base/proto_time.h"

#include "absl/strings/str_cat.h"

namespace herald {

std::string HumanDuration(absl::Duration d) {
  const int64_t minutes = absl::ToInt64Minutes(d);
  if (minutes < 1) return "under a minute";
  const int64_t days = minutes / (24 * 60), hours = (minutes / 60) % 24,
                mins = minutes % 60;
  auto unit = [](int64_t n, const char* name) {
    return absl::StrCat(n, " ", name, n == 1 ? "" : "s");
  };
  std::string out;
  if (days > 0) out = unit(days, "day");
  if (hours > 0)
    absl::StrAppend(&out, out.empty() ? "" : " ", unit(hours, "hour"));
  if (mins > 0)
    absl::StrAppend(&out, out.empty() ? "" : " ", unit(mins, "minute"));
  return out;
}

}  // namespace herald
