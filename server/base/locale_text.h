// Dates, durations and lists the way one language writes them, from ICU's
// locale data (CLDR), and the checks for the language tags and time-zone
// names that people give herald. Adding a language to herald needs only its
// templates: the words and formats here come from ICU for every locale.
// Every function is thread-safe; ICU's formatters are cached per thread.
#ifndef HERALD_SERVER_BASE_LOCALE_TEXT_H_
#define HERALD_SERVER_BASE_LOCALE_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace herald {

// The longest language tag herald keeps (BCP 47's practical limit).
inline constexpr size_t kMaxLocaleTagBytes = 35;

// `tag` in BCP 47's canonical case, language, script and region only
// ("de-at" -> "de-AT", "de_DE" -> "de-DE", "en-u-nu-arab" -> "en").
// InvalidArgument when it is not a language tag ("de-AT!", "e", "german",
// empty), without naming a field: callers prefix theirs.
absl::StatusOr<std::string> CanonicalLocaleTag(absl::string_view tag);

// OK when `name` is an IANA time-zone name ICU knows ("Europe/Berlin",
// "UTC"); InvalidArgument otherwise, without naming a field.
absl::Status ValidateTimeZoneName(absl::string_view name);

// The language of a tag without script or region: "de-AT" -> "de"; `tag`
// itself when it is not a language tag.
std::string PrimaryLanguage(absl::string_view tag);

// The language of `available` (tags with templates, such as Renderer::
// Languages) a reader whose browser sent `accept_language` ("de-AT,de;q=0.9,
// en;q=0.5") reads best: the highest weighted range that one of them
// matches, exactly or by its primary language ("de-AT" matches "de", "de"
// matches "de-CH"). "" when none does, or the header is empty or
// malformed: the caller's default. Reads at most the first 32 ranges.
std::string BestLanguage(absl::string_view accept_language,
                         const std::vector<std::string>& available);

// The zones a person picks from: ICU's canonical location zones
// ("America/New_York", "Europe/Berlin"; no aliases, no "Etc/GMT+5") and
// "UTC", sorted. Computed once. These are CLDR's ids, which keep some
// names IANA has since changed ("Asia/Calcutta" for "Asia/Kolkata"); both
// are valid zones, and a form shows a stored zone that is not listed as
// chosen.
const std::vector<std::string>& TimeZoneNames();

// What a language is called in its own words, for a language picker:
// "de" -> "Deutsch", "en-GB" -> "English (United Kingdom)"; `tag` itself
// when ICU does not know it.
std::string LanguageName(absl::string_view tag);

// The tags to look for when speaking `tag`, most specific first:
// "de-AT" -> {"de-AT", "de"}; "en" -> {"en"}. A tag that is not well formed
// gives none.
std::vector<std::string> LocaleFallbacks(absl::string_view tag);

// A moment as a reader in `locale` and `time_zone` writes it, the zone
// named: "November 28, 2026 at 6:43 PM EST", "29. November 2026 um 00:43
// MEZ", "November 29, 2026 at 8:43 AM Japan Standard Time" (a zone the
// language has no short name for is named in full, not as "GMT+9"). An
// unknown zone reads as UTC.
std::string FormatDateTime(absl::Time t, absl::string_view locale,
                           absl::string_view time_zone);

// A calendar day as `locale` writes it, without a time: "Nov 28, 2026",
// "28. Nov. 2026" (CLDR's abbreviated month). For the status page's day
// bars.
std::string FormatDate(absl::CivilDay day, absl::string_view locale);

// The time of day alone, the zone named: "6:43 PM EST", "00:43 MEZ". For an
// ETA or a "next update by" a few hours off.
std::string FormatTimeOfDay(absl::Time t, absl::string_view locale,
                            absl::string_view time_zone);

// A duration in words, largest units first and rounded down to the minute:
// "1 hour and 35 minutes", "2 Tage, 3 Stunden und 5 Minuten"; under a
// minute in seconds ("40 seconds"); never negative.
std::string FormatDuration(absl::Duration d, absl::string_view locale);

// `items` joined as the language joins a list: "Checkout, Dashboard and
// Public API", "Checkout und Dashboard".
std::string FormatList(const std::vector<std::string>& items,
                       absl::string_view locale);

// A share as the language writes it: 10 -> "10%" (en), "10 %" (de).
std::string FormatPercent(double percent, absl::string_view locale);

// An amount of money in an ISO 4217 currency: 4990, "EUR" -> "€49.90"
// (en), "49,90 €" (de). Without a currency, the number alone.
std::string FormatMoney(int64_t cents, absl::string_view currency,
                        absl::string_view locale);

}  // namespace herald

#endif  // HERALD_SERVER_BASE_LOCALE_TEXT_H_
