// The text checks every edge shares (server/base/text.h).
#include "server/base/text.h"

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "herald/v1/domain.pb.h"

namespace herald {
namespace {

using ::testing::HasSubstr;

TEST(TextTest, ScrubTextReplacesWhatBreaksAFormatAndKeepsText) {
  EXPECT_EQ(ScrubText("Grüße, 世界 😀\n\tok"), "Grüße, 世界 😀\n\tok");
  EXPECT_EQ(ScrubText("a\x1b[2Jb"), "a\xEF\xBF\xBD[2Jb");
  EXPECT_EQ(ScrubText(std::string("a\0b", 3)),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ScrubText("\xC2\x9B"
                      "x"),
            "\xEF\xBF\xBDx");                            // C1 CSI
  EXPECT_EQ(ScrubText("\xEF\xBF\xBE"), "\xEF\xBF\xBD");  // U+FFFE
  EXPECT_EQ(ScrubText("\xff\xc3\x28"), "\xEF\xBF\xBD\xEF\xBF\xBD(");
  EXPECT_EQ(ScrubText("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ScrubText("one\r\ntwo\tthree", /*keep_newlines=*/false),
            "one  two three");
}

TEST(TextTest, TruncateUtf8CutsAtACodePointAndMarksIt) {
  EXPECT_EQ(TruncateUtf8("short", 10), "short");
  EXPECT_EQ(TruncateUtf8("ääää", 3, "…"), "ä…");  // never half an ä
  EXPECT_TRUE(IsValidUtf8(TruncateUtf8("😀😀😀", 5)));
}

TEST(TextTest, ChecksNameTheField) {
  EXPECT_TRUE(CheckText("name", "Zoë O'Neil\n").ok());
  const absl::Status utf8 = CheckText("name", "\xff");
  EXPECT_EQ(utf8.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(utf8.message()), HasSubstr("name: not valid UTF-8"));
  EXPECT_THAT(std::string(CheckText("note", "a\x07").message()),
              HasSubstr("note: holds a control character"));
  EXPECT_THAT(std::string(CheckLength("title", "abcd", 3).message()),
              HasSubstr("title: at most 3 bytes (got 4)"));
}

// The wire check the SQLite store runs on every write agrees with the
// reflection walk, nested messages and map entries included.
TEST(TextTest, WrapParagraphsBreaksLongLinesBetweenWords) {
  const std::string paragraph =
      "On 29. November 2026 um 00:43 MEZ, Checkout stopped working as it "
      "should for you, and the disruption lasted one hour.";
  const std::string wrapped = WrapParagraphs(paragraph + "\n\nShort.", 40);
  for (absl::string_view line : absl::StrSplit(wrapped, '\n')) {
    EXPECT_LE(line.size(), 40u) << line;
    EXPECT_FALSE(absl::StartsWith(line, " ") || absl::EndsWith(line, " "))
        << line;
  }
  // Nothing but the breaks changed.
  EXPECT_EQ(absl::StrReplaceAll(wrapped, {{"\n", " "}}),
            paragraph + "  Short.");
}

TEST(TextTest, WrapParagraphsKeepsIndentedLinesLongWordsAndCodePoints) {
  const std::string url =
      "https://status.example.com/follow-up?t=" + std::string(60, 'x');
  EXPECT_EQ(WrapParagraphs("Unsubscribe: " + url + " now", 40),
            "Unsubscribe: " + url + "\nnow");
  const std::string indented = "  It works:          " + url;
  EXPECT_EQ(WrapParagraphs(indented, 40), indented);
  // Umlauts count as one column each.
  EXPECT_EQ(WrapParagraphs("äöü äöü", 7), "äöü äöü");
}

TEST(TextTest, TheWireCheckAgreesWithTheReflectionWalk) {
  v1::Subscriber ok;
  ok.set_id("s");
  ok.set_name("Zoë");
  ok.add_contacts()->set_address("zoe@example.com");
  v1::Alert alert;
  alert.set_fingerprint("f");
  (*alert.mutable_labels())["service"] = "checkout";
  const auto agrees = [](const google::protobuf::Message& m) {
    std::string bytes;
    m.SerializeToString(&bytes);
    EXPECT_EQ(SerializedTextIsUtf8(bytes, *m.GetDescriptor()),
              CheckUtf8Fields(m).ok())
        << m.DebugString();
    return SerializedTextIsUtf8(bytes, *m.GetDescriptor());
  };
  EXPECT_TRUE(agrees(ok));
  EXPECT_TRUE(agrees(alert));
  v1::Subscriber bad_nested = ok;
  bad_nested.mutable_contacts(0)->set_address("zo\xff");
  EXPECT_FALSE(agrees(bad_nested));
  EXPECT_EQ(
      CheckUtf8Fields(bad_nested).message(),
      "contacts[0].address: not valid UTF-8 (send text encoded as UTF-8)");
  v1::Alert bad_map = alert;
  (*bad_map.mutable_labels())["service"] = "\xc3\x28";
  EXPECT_FALSE(agrees(bad_map));
  EXPECT_FALSE(
      SerializedTextIsUtf8("\x0a\x05"
                           "ab",
                           *ok.GetDescriptor()))
      << "a length past the end is not a message";
}

}  // namespace
}  // namespace herald
