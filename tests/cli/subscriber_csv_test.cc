// `herald subscribers import`'s CSV reader: columns by name, the optional
// language, time zone and preferred name, and errors that name the line.
#include "cli/subscriber_csv.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

TEST(SubscriberCsvTest, ReadsLanguageTimeZoneAndPreferredNameInAnyOrder) {
  std::istringstream in(
      "time_zone,id,components,name,preferred_name,locale,email\n"
      "Asia/Tokyo,initech,checkout;api,Peter Gibbons,Peter,de,"
      "peter@initech.example\n"
      ",globex,checkout,Grace Hopper,,,grace@globex.example\n");
  absl::StatusOr<CsvSubscribers> got = ReadSubscriberCsv("subs.csv", in);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_THAT(got->subscribers, SizeIs(2));
  const v1::Subscriber& peter = got->subscribers[0];
  EXPECT_EQ(peter.time_zone(), "Asia/Tokyo");
  EXPECT_EQ(peter.locale(), "de");
  EXPECT_EQ(peter.preferred_name(), "Peter");
  EXPECT_EQ(peter.name(), "Peter Gibbons");
  EXPECT_THAT(peter.component_ids(), SizeIs(2));
  EXPECT_EQ(got->subscribers[1].time_zone(), "");  // the organisation's
  EXPECT_EQ(got->sources[1], "subs.csv:3");
}

TEST(SubscriberCsvTest, UnknownColumnsAreRefused) {
  std::istringstream in("id,components,timezone\nx,checkout,UTC\n");
  EXPECT_EQ(ReadSubscriberCsv("subs.csv", in).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace herald::cli
