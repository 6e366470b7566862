#include "server/base/locale_text.h"

#include <unicode/dtptngen.h>
#include <unicode/listformatter.h>
#include <unicode/locid.h>
#include <unicode/measfmt.h>
#include <unicode/measunit.h>
#include <unicode/measure.h>
#include <unicode/numfmt.h>
#include <unicode/smpdtfmt.h>
#include <unicode/timezone.h>

#include <algorithm>
#include <map>
#include <memory>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace herald {
namespace {

std::string Utf8(const icu::UnicodeString& s) {
  std::string out;
  s.toUTF8String(out);
  return out;
}

icu::UnicodeString Unicode(absl::string_view s) {
  return icu::UnicodeString::fromUTF8(
      icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
}

// ICU's locale for a tag herald accepted; the root locale for anything
// else, so that a bad stored value still gives readable text.
icu::Locale LocaleFor(absl::string_view tag) {
  UErrorCode status = U_ZERO_ERROR;
  icu::Locale locale = icu::Locale::forLanguageTag(
      icu::StringPiece(tag.data(), static_cast<int32_t>(tag.size())), status);
  if (U_FAILURE(status) || locale.isBogus()) return icu::Locale::getRoot();
  return locale;
}

bool IsKnownZone(absl::string_view name) {
  if (name.empty()) return false;
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString canonical;
  UBool is_system = false;
  icu::TimeZone::getCanonicalID(Unicode(name), canonical, is_system, status);
  return U_SUCCESS(status) && is_system;
}

std::unique_ptr<icu::TimeZone> ZoneFor(absl::string_view name) {
  return std::unique_ptr<icu::TimeZone>(
      icu::TimeZone::createTimeZone(Unicode(IsKnownZone(name) ? name : "UTC")));
}

// A zone's short name as `locale` writes it at `t`, when it is a name
// ("EST", "MEZ", "UTC") and not an offset ("GMT+9", "UTC−5").
bool HasShortName(const icu::TimeZone& zone, const icu::Locale& locale,
                  UDate t) {
  UErrorCode status = U_ZERO_ERROR;
  int32_t raw = 0, dst = 0;
  zone.getOffset(t, false, raw, dst, status);
  icu::UnicodeString name;
  zone.getDisplayName(dst != 0, icu::TimeZone::SHORT, locale, name);
  const std::string s = Utf8(name);
  if (s == "UTC" || s == "GMT") return true;
  return !(absl::StartsWith(s, "GMT") || absl::StartsWith(s, "UTC")) ||
         s.size() <= 3;
}

// Date formats are not thread-safe in ICU and costly to build: each thread
// keeps its own, one per (locale, zone, skeleton).
icu::SimpleDateFormat* CachedFormat(absl::string_view tag,
                                    absl::string_view zone_name,
                                    absl::string_view skeleton) {
  thread_local std::map<std::tuple<std::string, std::string, std::string>,
                        std::unique_ptr<icu::SimpleDateFormat>>
      cache;
  auto key = std::make_tuple(std::string(tag), std::string(zone_name),
                             std::string(skeleton));
  auto it = cache.find(key);
  if (it != cache.end()) return it->second.get();
  if (cache.size() > 256) cache.clear();  // bounded: tags and zones vary
  const icu::Locale locale = LocaleFor(tag);
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::DateTimePatternGenerator> generator(
      icu::DateTimePatternGenerator::createInstance(locale, status));
  icu::UnicodeString pattern;
  if (U_SUCCESS(status)) {
    pattern = generator->getBestPattern(Unicode(skeleton), status);
  }
  if (U_FAILURE(status)) {
    status = U_ZERO_ERROR;
    pattern = Unicode("yyyy-MM-dd HH:mm z");
  }
  auto format =
      std::make_unique<icu::SimpleDateFormat>(pattern, locale, status);
  if (U_FAILURE(status)) return nullptr;
  format->adoptTimeZone(ZoneFor(zone_name).release());
  return cache.emplace(std::move(key), std::move(format)).first->second.get();
}

// A per-thread formatter of type T for each locale tag.
template <typename T, typename Make>
T* PerThread(absl::string_view tag, Make make) {
  thread_local std::map<std::string, std::unique_ptr<T>> cache;
  auto it = cache.find(std::string(tag));
  if (it != cache.end()) return it->second.get();
  if (cache.size() > 64) cache.clear();
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<T> made = make(LocaleFor(tag), status);
  if (U_FAILURE(status)) made.reset();
  return cache.emplace(std::string(tag), std::move(made)).first->second.get();
}

std::string FormatMoment(absl::Time t, absl::string_view tag,
                         absl::string_view zone_name,
                         absl::string_view skeleton) {
  const UDate when = static_cast<UDate>(absl::ToUnixMillis(t));
  // Whether the zone has a short name in the language, at this time of
  // year, is the same for every letter: work it out once per thread.
  thread_local std::map<std::tuple<std::string, std::string, bool>, bool>
      short_names;
  const std::unique_ptr<icu::TimeZone> zone = ZoneFor(zone_name);
  UErrorCode status = U_ZERO_ERROR;
  const bool daylight = zone->inDaylightTime(when, status) && U_SUCCESS(status);
  auto key =
      std::make_tuple(std::string(tag), std::string(zone_name), daylight);
  auto known = short_names.find(key);
  if (known == short_names.end()) {
    if (short_names.size() > 1024) short_names.clear();
    known =
        short_names
            .emplace(std::move(key), HasShortName(*zone, LocaleFor(tag), when))
            .first;
  }
  const bool short_name = known->second;
  icu::SimpleDateFormat* format = CachedFormat(
      tag, zone_name, absl::StrCat(skeleton, short_name ? "z" : "zzzz"));
  if (format == nullptr) {
    return absl::FormatTime("%Y-%m-%d %H:%M UTC", t, absl::UTCTimeZone());
  }
  icu::UnicodeString out;
  format->format(when, out);
  return Utf8(out);
}

}  // namespace

absl::StatusOr<std::string> CanonicalLocaleTag(absl::string_view tag_in) {
  // POSIX writes "de_DE"; BCP 47 "de-DE". Both mean the same to a reader.
  const std::string tag = absl::StrReplaceAll(tag_in, {{"_", "-"}});
  const auto bad = [] {
    return absl::InvalidArgumentError(
        "expected a language tag such as \"en\" or \"de-AT\"");
  };
  const bool plausible =
      !tag.empty() && tag.size() <= kMaxLocaleTagBytes &&
      absl::ascii_isalpha(static_cast<unsigned char>(tag[0])) &&
      !absl::EndsWith(tag, "-") &&
      std::all_of(tag.begin(), tag.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-';
      });
  if (!plausible) return bad();
  UErrorCode status = U_ZERO_ERROR;
  const icu::Locale locale = icu::Locale::forLanguageTag(
      icu::StringPiece(tag.data(), static_cast<int32_t>(tag.size())), status);
  const std::string language = U_SUCCESS(status) ? locale.getLanguage() : "";
  // ISO 639 codes: two or three letters ("german" is well formed, but no
  // language has it).
  if (language.size() < 2 || language.size() > 3) return bad();
  // Language, script and region only: extensions ("-u-nu-arab") would
  // change how numbers and calendars read behind the templates' back.
  icu::Locale plain(language.c_str(), locale.getCountry(), nullptr, nullptr);
  if (locale.getScript()[0] != '\0') {
    plain = icu::Locale::createFromName(
        absl::StrCat(language, "_", locale.getScript(),
                     locale.getCountry()[0] != '\0' ? "_" : "",
                     locale.getCountry())
            .c_str());
  }
  std::string canonical = plain.toLanguageTag<std::string>(status);
  if (U_FAILURE(status) || canonical.empty()) return bad();
  return canonical;
}

absl::Status ValidateTimeZoneName(absl::string_view name) {
  if (name.size() > 64 || !IsKnownZone(name)) {
    return absl::InvalidArgumentError(
        "expected an IANA time zone name such as \"Europe/Berlin\"");
  }
  return absl::OkStatus();
}

std::string PrimaryLanguage(absl::string_view tag) {
  const std::vector<std::string> chain = LocaleFallbacks(tag);
  return chain.empty() ? std::string(tag) : chain.back();
}

std::string BestLanguage(absl::string_view accept_language,
                         const std::vector<std::string>& available) {
  if (accept_language.size() > 4096) accept_language = {};
  struct Range {
    std::string tag;
    double weight;
    int position;
  };
  std::vector<Range> ranges;
  for (absl::string_view part : absl::StrSplit(accept_language, ',')) {
    if (ranges.size() == 32) break;
    std::vector<absl::string_view> fields = absl::StrSplit(part, ';');
    const absl::string_view tag = absl::StripAsciiWhitespace(fields[0]);
    if (tag.empty() || tag == "*") continue;
    double weight = 1;
    for (size_t i = 1; i < fields.size(); ++i) {
      absl::string_view p = absl::StripAsciiWhitespace(fields[i]);
      if (absl::ConsumePrefix(&p, "q=") && !absl::SimpleAtod(p, &weight)) {
        weight = 0;
      }
    }
    if (!(weight > 0 && weight <= 1)) continue;  // NaN fails this too
    ranges.push_back(
        {absl::AsciiStrToLower(tag), weight, static_cast<int>(ranges.size())});
  }
  std::stable_sort(
      ranges.begin(), ranges.end(),
      [](const Range& a, const Range& b) { return a.weight > b.weight; });
  for (const Range& r : ranges) {
    // An exact match first, then one of the same language.
    for (const std::string& tag : available) {
      if (absl::AsciiStrToLower(tag) == r.tag) return tag;
    }
    const std::string primary = r.tag.substr(0, r.tag.find('-'));
    for (const std::string& tag : available) {
      if (absl::AsciiStrToLower(PrimaryLanguage(tag)) == primary) return tag;
    }
  }
  return "";
}

const std::vector<std::string>& TimeZoneNames() {
  static const std::vector<std::string>* const kNames = [] {
    auto* names = new std::vector<std::string>{"UTC"};
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::StringEnumeration> zones(
        icu::TimeZone::createTimeZoneIDEnumeration(
            UCAL_ZONE_TYPE_CANONICAL_LOCATION, nullptr, nullptr, status));
    if (U_SUCCESS(status) && zones != nullptr) {
      while (const char* id = zones->next(nullptr, status)) {
        if (U_FAILURE(status)) break;
        names->emplace_back(id);
      }
    }
    std::sort(names->begin(), names->end());
    return names;
  }();
  return *kNames;
}

std::string LanguageName(absl::string_view tag) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Locale locale = icu::Locale::forLanguageTag(
      icu::StringPiece(tag.data(), static_cast<int32_t>(tag.size())), status);
  if (U_FAILURE(status)) return std::string(tag);
  icu::UnicodeString name;
  locale.getDisplayName(locale, name);
  std::string out;
  name.toUTF8String(out);
  if (out.empty() || absl::AsciiStrToLower(out) == absl::AsciiStrToLower(tag)) {
    return std::string(tag);
  }
  // "deutsch (Österreich)" in some languages: names are capitalised in
  // a picker, whatever the language does mid-sentence.
  icu::UnicodeString first = name.tempSubString(0, 1);
  first.toUpper(locale);
  name.replace(0, 1, first);
  out.clear();
  name.toUTF8String(out);
  return out;
}

std::vector<std::string> LocaleFallbacks(absl::string_view tag) {
  absl::StatusOr<std::string> canonical = CanonicalLocaleTag(tag);
  if (!canonical.ok()) return {};
  std::vector<std::string> out = {*canonical};
  // "de-Latn-AT" -> "de-Latn" -> "de": drop a subtag at a time.
  std::string shorter = *canonical;
  for (size_t dash = shorter.rfind('-'); dash != std::string::npos;
       dash = shorter.rfind('-')) {
    shorter.resize(dash);
    out.push_back(shorter);
  }
  return out;
}

std::string FormatDateTime(absl::Time t, absl::string_view locale,
                           absl::string_view time_zone) {
  return FormatMoment(t, locale, time_zone, "yMMMMdjmm");
}

std::string FormatTimeOfDay(absl::Time t, absl::string_view locale,
                            absl::string_view time_zone) {
  return FormatMoment(t, locale, time_zone, "jmm");
}

std::string FormatDate(absl::CivilDay day, absl::string_view tag) {
  // The day's noon in UTC, written in UTC: the same day in every language.
  icu::SimpleDateFormat* format = CachedFormat(tag, "UTC", "yMMMd");
  if (format == nullptr) return absl::FormatCivilTime(day);
  const absl::Time noon =
      absl::FromCivil(absl::CivilHour(day) + 12, absl::UTCTimeZone());
  icu::UnicodeString out;
  format->format(static_cast<UDate>(absl::ToUnixMillis(noon)), out);
  return Utf8(out);
}

std::string FormatDuration(absl::Duration d, absl::string_view tag) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  const int64_t minutes = absl::ToInt64Minutes(d);
  UErrorCode status = U_ZERO_ERROR;
  std::vector<std::pair<int64_t, icu::MeasureUnit>> parts;
  if (minutes < 1) {
    parts.emplace_back(absl::ToInt64Seconds(d), icu::MeasureUnit::getSecond());
  } else {
    const int64_t days = minutes / (24 * 60), hours = (minutes / 60) % 24,
                  mins = minutes % 60;
    if (days > 0) parts.emplace_back(days, icu::MeasureUnit::getDay());
    if (hours > 0) parts.emplace_back(hours, icu::MeasureUnit::getHour());
    if (mins > 0) parts.emplace_back(mins, icu::MeasureUnit::getMinute());
  }
  icu::MeasureFormat* format = PerThread<icu::MeasureFormat>(
      tag, [](const icu::Locale& locale, UErrorCode& status) {
        return std::make_unique<icu::MeasureFormat>(locale, UMEASFMT_WIDTH_WIDE,
                                                    status);
      });
  if (format == nullptr) return absl::StrCat(minutes, " min");
  std::vector<std::string> words;
  for (const auto& [n, unit] : parts) {
    icu::UnicodeString out;
    icu::FieldPosition position;
    icu::Measure measure(icu::Formattable(static_cast<int64_t>(n)),
                         unit.clone(), status);
    format->formatMeasures(&measure, 1, out, position, status);
    words.push_back(Utf8(out));
  }
  if (U_FAILURE(status)) {
    return absl::StrCat(minutes, " min");
  }
  return FormatList(words, tag);
}

std::string FormatList(const std::vector<std::string>& items,
                       absl::string_view tag) {
  if (items.empty()) return "";
  if (items.size() == 1) return items[0];
  icu::ListFormatter* format = PerThread<icu::ListFormatter>(
      tag, [](const icu::Locale& locale, UErrorCode& status) {
        return std::unique_ptr<icu::ListFormatter>(
            icu::ListFormatter::createInstance(locale, status));
      });
  UErrorCode status = U_ZERO_ERROR;
  std::vector<icu::UnicodeString> unicode;
  unicode.reserve(items.size());
  for (const std::string& item : items) unicode.push_back(Unicode(item));
  icu::UnicodeString out;
  if (format != nullptr) {
    format->format(unicode.data(), static_cast<int32_t>(unicode.size()), out,
                   status);
  }
  if (format == nullptr || U_FAILURE(status)) {
    std::string joined;
    for (const std::string& item : items) {
      absl::StrAppend(&joined, joined.empty() ? "" : ", ", item);
    }
    return joined;
  }
  return Utf8(out);
}

std::string FormatPercent(double percent, absl::string_view tag) {
  icu::NumberFormat* format = PerThread<icu::NumberFormat>(
      tag, [](const icu::Locale& locale, UErrorCode& status) {
        std::unique_ptr<icu::NumberFormat> f(
            icu::NumberFormat::createPercentInstance(locale, status));
        if (f != nullptr) f->setMaximumFractionDigits(2);
        return f;
      });
  if (format == nullptr) return absl::StrCat(percent, "%");
  icu::UnicodeString out;
  format->format(percent / 100.0, out);
  return Utf8(out);
}

std::string FormatMoney(int64_t cents, absl::string_view currency,
                        absl::string_view tag) {
  const double amount = static_cast<double>(cents) / 100.0;
  if (currency.size() != 3) {
    return absl::StrCat(cents / 100, ".",
                        absl::Dec(cents % 100, absl::kZeroPad2));
  }
  // One formatter per thread and locale; the currency is set per call.
  icu::NumberFormat* format = PerThread<icu::NumberFormat>(
      absl::StrCat(tag, "/currency"),
      [tag = std::string(tag)](const icu::Locale&, UErrorCode& status) {
        return std::unique_ptr<icu::NumberFormat>(
            icu::NumberFormat::createCurrencyInstance(LocaleFor(tag), status));
      });
  if (format == nullptr) return absl::StrCat(currency, " ", amount);
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString code = Unicode(absl::AsciiStrToUpper(currency));
  format->setCurrency(code.getTerminatedBuffer(), status);
  // A code ICU refuses must not inherit the previous call's currency.
  if (U_FAILURE(status)) return absl::StrCat(currency, " ", amount);
  icu::UnicodeString out;
  format->format(amount, out);
  return Utf8(out);
}

}  // namespace herald
