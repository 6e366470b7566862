#include "server/base/locale_text.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// 2026-11-28 23:43 UTC: the 29th in Berlin and Tokyo, the 28th in New York.
absl::Time Moment() {
  return absl::FromCivil(absl::CivilMinute(2026, 11, 28, 23, 43),
                         absl::UTCTimeZone());
}

TEST(LocaleTextTest, DateTimeIsInTheReadersZoneAndLanguageWithTheZoneNamed) {
  EXPECT_EQ(FormatDateTime(Moment(), "de", "Europe/Berlin"),
            "29. November 2026 um 00:43 MEZ");
  EXPECT_EQ(FormatDateTime(Moment(), "en", "America/New_York"),
            "November 28, 2026 at 6:43\u202fPM EST");
  EXPECT_EQ(FormatDateTime(Moment(), "en-GB", "Europe/Berlin"),
            "29 November 2026 at 00:43 CET");
}

TEST(LocaleTextTest, ZoneWithoutAShortNameInTheLanguageIsNamedInFull) {
  // Not "GMT+9": an offset is not a name a reader recognises.
  EXPECT_EQ(FormatDateTime(Moment(), "en", "Asia/Tokyo"),
            "November 29, 2026 at 8:43\u202fAM Japan Standard Time");
  EXPECT_EQ(FormatDateTime(Moment(), "de", "Asia/Tokyo"),
            "29. November 2026 um 08:43 Japanische Normalzeit");
}

TEST(LocaleTextTest, SummerTimeIsNamedAsSuch) {
  const absl::Time july = absl::FromCivil(absl::CivilMinute(2026, 7, 1, 12, 0),
                                          absl::UTCTimeZone());
  EXPECT_EQ(FormatDateTime(july, "de", "Europe/Berlin"),
            "1. Juli 2026 um 14:00 MESZ");
}

TEST(LocaleTextTest, UnknownZoneReadsAsUtc) {
  EXPECT_THAT(FormatDateTime(Moment(), "en", "Mars/Olympus"),
              HasSubstr("11:43\u202fPM UTC"));
}

// ICU keeps "6:43 PM" together with a narrow no-break space (U+202F), so
// that no line breaks between the time and its AM or PM.
TEST(LocaleTextTest, TimeOfDayNamesTheZone) {
  EXPECT_EQ(FormatTimeOfDay(Moment(), "de", "Europe/Berlin"), "00:43 MEZ");
  EXPECT_EQ(FormatTimeOfDay(Moment(), "en", "UTC"), "11:43\u202fPM UTC");
}

TEST(LocaleTextTest, DurationsReadNaturallyInEachLanguage) {
  const absl::Duration d = absl::Hours(1) + absl::Minutes(35);
  EXPECT_EQ(FormatDuration(d, "en"), "1 hour and 35 minutes");
  EXPECT_EQ(FormatDuration(d, "de"), "1 Stunde und 35 Minuten");
  EXPECT_EQ(FormatDuration(absl::Hours(2), "de"), "2 Stunden");
  EXPECT_EQ(FormatDuration(absl::Hours(49) + absl::Minutes(1), "en"),
            "2 days, 1 hour, and 1 minute");
  EXPECT_EQ(FormatDuration(absl::Seconds(40), "de"), "40 Sekunden");
  EXPECT_EQ(FormatDuration(-absl::Minutes(5), "en"), "0 seconds");
}

TEST(LocaleTextTest, ListsJoinAsTheLanguageDoes) {
  EXPECT_EQ(FormatList({"Checkout"}, "de"), "Checkout");
  EXPECT_EQ(FormatList({"Checkout", "Dashboard"}, "de"),
            "Checkout und Dashboard");
  EXPECT_EQ(FormatList({"A", "B", "C"}, "en-GB"), "A, B and C");
  EXPECT_EQ(FormatList({}, "en"), "");
}

TEST(LocaleTextTest, MoneyAndSharesFollowTheLanguage) {
  EXPECT_EQ(FormatMoney(4990, "EUR", "en"), "€49.90");
  EXPECT_EQ(FormatMoney(4990, "EUR", "de"), "49,90\u00a0€");
  EXPECT_EQ(FormatPercent(10, "en"), "10%");
  EXPECT_EQ(FormatPercent(12.5, "de"), "12,5\u00a0%");
}

TEST(LocaleTextTest, LanguageTagsAreCheckedAndPutInCanonicalCase) {
  EXPECT_EQ(*CanonicalLocaleTag("de-at"), "de-AT");
  EXPECT_EQ(*CanonicalLocaleTag("EN"), "en");
  EXPECT_EQ(*CanonicalLocaleTag("de_DE"), "de-DE");  // as POSIX writes it
  EXPECT_EQ(*CanonicalLocaleTag("sr-Latn-RS"), "sr-Latn-RS");
  EXPECT_EQ(*CanonicalLocaleTag("en-u-nu-arab"), "en");  // no extensions
  for (const char* bad :
       {"", "e", "german", "de-", "-de", "de AT", "1234", "english!",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}) {
    EXPECT_EQ(CanonicalLocaleTag(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(LocaleTextTest, TimeZonesMustBeIanaNames) {
  EXPECT_TRUE(ValidateTimeZoneName("Europe/Berlin").ok());
  EXPECT_TRUE(ValidateTimeZoneName("UTC").ok());
  for (const char* bad : {"", "Europe/Berln", "CEST+2", "../etc/passwd"}) {
    EXPECT_EQ(ValidateTimeZoneName(bad).code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(LocaleTextTest, FallbacksGoFromSpecificToGeneral) {
  EXPECT_THAT(LocaleFallbacks("de-Latn-AT"),
              ElementsAre("de-Latn-AT", "de-Latn", "de"));
  EXPECT_THAT(LocaleFallbacks("en"), ElementsAre("en"));
  EXPECT_THAT(LocaleFallbacks("not a tag"), ElementsAre());
}

TEST(LocaleTextTest, TheBrowsersBestLanguageIsPickedByWeightAndLanguage) {
  const std::vector<std::string> have = {"de", "en", "pt-BR"};
  EXPECT_EQ(BestLanguage("de-AT,de;q=0.9,en;q=0.5", have), "de");
  EXPECT_EQ(BestLanguage("fr, en;q=0.4, de;q=0.6", have), "de");
  EXPECT_EQ(BestLanguage("PT-br", have), "pt-BR");
  EXPECT_EQ(BestLanguage("pt", have), "pt-BR");  // the same language
  EXPECT_EQ(BestLanguage("en-GB;q=0.8, de;q=0", have), "en");
  for (const char* none : {"", "ja", "*", "de;q=x", ";;;,,,", "de;q=2"}) {
    EXPECT_EQ(BestLanguage(none, have), "") << none;
  }
  // A hostile header: huge, or thousands of ranges, is read in bounds.
  EXPECT_EQ(BestLanguage(std::string(100000, 'x'), have), "");
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "xx,";
  EXPECT_EQ(BestLanguage(many + "de", have), "");
}

TEST(LocaleTextTest, PickersOfferCanonicalZonesAndLanguagesInTheirOwnWords) {
  const std::vector<std::string>& zones = TimeZoneNames();
  EXPECT_GT(zones.size(), 300u);
  EXPECT_TRUE(std::is_sorted(zones.begin(), zones.end()));
  for (const char* z :
       {"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"}) {
    EXPECT_TRUE(std::binary_search(zones.begin(), zones.end(), z)) << z;
  }
  // No aliases and no offsets: each is a place someone lives.
  EXPECT_FALSE(std::binary_search(zones.begin(), zones.end(), "US/Eastern"));
  EXPECT_FALSE(std::binary_search(zones.begin(), zones.end(), "Etc/GMT+5"));
  for (const std::string& z : zones)
    EXPECT_TRUE(ValidateTimeZoneName(z).ok()) << z;

  EXPECT_EQ(LanguageName("de"), "Deutsch");
  EXPECT_EQ(LanguageName("en"), "English");
  EXPECT_EQ(LanguageName("fr"), "Français");
  EXPECT_EQ(LanguageName("qq"), "qq");
  EXPECT_EQ(PrimaryLanguage("de-AT"), "de");
  EXPECT_EQ(PrimaryLanguage("nonsense!"), "nonsense!");
}

}  // namespace
}  // namespace herald
