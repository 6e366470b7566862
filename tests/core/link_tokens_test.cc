// LinkTokens: the signed tokens in the links herald emails to customers.
// Each token works for its own purpose and subject only; confirmation links
// expire; a token altered, cut short, padded, signed under another key or
// made up is refused with InvalidArgument, never read.
#include "server/core/subscribers/link_tokens.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <map>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/harness.h"

namespace herald {
// Named, not anonymous: core_test is a unity build.
namespace link_tokens_testing {

using ::testing::HasSubstr;

constexpr char kKey[] = "0123456789abcdef0123456789abcdef";

// A token signed with `key` over `signed_part` as herald signs one, so a
// test can make authentic tokens that herald itself never would.
inline std::string SignedWith(const std::string& key,
                              const std::string& signed_part) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signed_part.data()),
       signed_part.size(), mac, &len);
  return absl::StrCat(signed_part, ".",
                      absl::WebSafeBase64Escape(absl::string_view(
                          reinterpret_cast<const char*>(mac), len)));
}

inline bool Refused(const absl::Status& s) {
  return absl::IsInvalidArgument(s);
}

TEST(LinkTokensTest, ATokenNamesItsSubscriberOnlyForItsOwnPurpose) {
  LinkTokens links(kKey);
  const absl::Time now = testing::TestEpoch();
  const std::string confirm = links.Confirm("self-1", now + absl::Hours(1));
  const std::string unsubscribe = links.Unsubscribe("self-1");
  EXPECT_EQ(*links.CheckConfirm(confirm, now), "self-1");
  EXPECT_EQ(*links.CheckUnsubscribe(unsubscribe), "self-1");
  EXPECT_TRUE(
      absl::IsInvalidArgument(links.CheckUnsubscribe(confirm).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(links.CheckConfirm(unsubscribe, now).status()));
}

TEST(LinkTokensTest, AlteredForgedOrForeignTokensAreRefused) {
  LinkTokens links(kKey);
  const std::string token = links.Unsubscribe("globex");
  // Another subscriber's id with the same MAC.
  std::string other = links.Unsubscribe("initech");
  other = other.substr(0, other.rfind('.')) + token.substr(token.rfind('.'));
  EXPECT_TRUE(absl::IsInvalidArgument(links.CheckUnsubscribe(other).status()));
  std::string flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_TRUE(
      absl::IsInvalidArgument(links.CheckUnsubscribe(flipped).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      links.CheckUnsubscribe(token.substr(0, token.size() - 3)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(links.CheckUnsubscribe("").status()));
  LinkTokens other_key("another-key-another-key-another-key");
  EXPECT_TRUE(
      absl::IsInvalidArgument(other_key.CheckUnsubscribe(token).status()));
}

TEST(LinkTokensTest, ConfirmationLinksExpire) {
  LinkTokens links(kKey);
  const absl::Time now = testing::TestEpoch();
  const std::string token = links.Confirm("self-1", now + absl::Hours(48));
  EXPECT_TRUE(links.CheckConfirm(token, now + absl::Hours(48)).ok());
  const absl::Status late =
      links.CheckConfirm(token, now + absl::Hours(48) + absl::Seconds(1))
          .status();
  EXPECT_TRUE(absl::IsFailedPrecondition(late)) << late;
  EXPECT_THAT(std::string(late.message()), HasSubstr("expired"));
}

TEST(LinkTokensTest, AnAnswerTokenCarriesItsAmendsAndAnswerOnly) {
  LinkTokens links(kKey);
  const std::string broken =
      links.Answer(42, v1::FOLLOW_UP_ANSWER_STILL_BROKEN);
  absl::StatusOr<std::pair<int64_t, v1::FollowUpAnswer>> got =
      links.CheckAnswer(broken);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->first, 42);
  EXPECT_EQ(got->second, v1::FOLLOW_UP_ANSWER_STILL_BROKEN);
  EXPECT_NE(broken, links.Answer(42, v1::FOLLOW_UP_ANSWER_WORKS));
  EXPECT_TRUE(absl::IsInvalidArgument(links.CheckUnsubscribe(broken).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      links.CheckAnswer(links.Unsubscribe("42:2")).status()));
  // Another answer's MAC on this answer's text.
  const std::string works = links.Answer(42, v1::FOLLOW_UP_ANSWER_WORKS);
  const std::string spliced =
      broken.substr(0, broken.rfind('.')) + works.substr(works.rfind('.'));
  EXPECT_TRUE(absl::IsInvalidArgument(links.CheckAnswer(spliced).status()));

  const std::map<std::string, std::string> urls =
      FollowUpLinks("https://status.acme.example/", links, 42);
  ASSERT_EQ(urls.size(), 4u);
  EXPECT_EQ(urls.at("answer_still_broken_url"),
            "https://status.acme.example/follow-up?token=" + broken);
}

TEST(LinkUrlTest, JoinsThePublicUrlPathAndToken) {
  EXPECT_EQ(LinkUrl("https://status.acme.example/", "/unsubscribe", "u.x.y"),
            "https://status.acme.example/unsubscribe?token=u.x.y");
  EXPECT_EQ(LinkUrl("http://127.0.0.1:7600", "/subscribe/confirm", "c.1"),
            "http://127.0.0.1:7600/subscribe/confirm?token=c.1");
}

TEST(LinkTokensTest,
     ConfirmationLinksWorkUntilTheirExpiryOtherLinksNeverExpire) {
  LinkTokens links(kKey);
  const absl::Time now = testing::TestEpoch();
  const std::string token = links.Confirm("self-1", now + absl::Hours(48));
  EXPECT_EQ(*links.CheckConfirm(token, now - absl::Hours(1)), "self-1");
  EXPECT_TRUE(absl::IsFailedPrecondition(
      links.CheckConfirm(token, now + absl::Hours(49)).status()));
  // Unsubscribe and answer links never expire.
  EXPECT_TRUE(links.CheckUnsubscribe(links.Unsubscribe("self-1")).ok());
  EXPECT_TRUE(
      links.CheckAnswer(links.Answer(1, v1::FOLLOW_UP_ANSWER_WORKS)).ok());
}

TEST(LinkTokensTest, AMovedExpiryIsTamperingNotALongerLife) {
  LinkTokens links(kKey);
  const absl::Time now = testing::TestEpoch();
  const std::string token = links.Confirm("self-1", now + absl::Hours(1));
  // The same subject with a later expiry, the MAC of the original.
  const std::string later =
      absl::StrCat("c.", absl::WebSafeBase64Escape("self-1"), ".",
                   absl::ToUnixSeconds(now + absl::Hours(100)),
                   token.substr(token.rfind('.')));
  const absl::Status s =
      links.CheckConfirm(later, now + absl::Hours(2)).status();
  EXPECT_TRUE(Refused(s)) << s;
}

TEST(LinkTokensTest, ATokenCutShortAnywhereIsRefused) {
  LinkTokens links(kKey);
  const absl::Time now = testing::TestEpoch();
  for (const std::string& token :
       {links.Confirm("self-1", now + absl::Hours(1)),
        links.Unsubscribe("globex"),
        links.Answer(42, v1::FOLLOW_UP_ANSWER_CREDIT_MISSING)}) {
    for (size_t n = 0; n < token.size(); ++n) {
      const std::string cut = token.substr(0, n);
      EXPECT_TRUE(Refused(links.CheckConfirm(cut, now).status())) << cut;
      EXPECT_TRUE(Refused(links.CheckUnsubscribe(cut).status())) << cut;
      EXPECT_TRUE(Refused(links.CheckAnswer(cut).status())) << cut;
    }
  }
}

TEST(LinkTokensTest, EveryAlteredCharacterIsRefused) {
  LinkTokens links(kKey);
  const std::string token = links.Unsubscribe("globex");
  for (size_t i = 0; i < token.size(); ++i) {
    std::string altered = token;
    altered[i] = altered[i] == 'x' ? 'y' : 'x';
    EXPECT_TRUE(Refused(links.CheckUnsubscribe(altered).status())) << i;
  }
  EXPECT_TRUE(Refused(links.CheckUnsubscribe(token + "A").status()));
  EXPECT_TRUE(Refused(links.CheckUnsubscribe(token + ".").status()));
  EXPECT_TRUE(Refused(links.CheckUnsubscribe("x." + token).status()));
}

TEST(LinkTokensTest, ATokenOfAnotherKeyIsRefusedEvenWhenWellFormed) {
  const std::string token =
      LinkTokens("another-key-another-key-another-key").Unsubscribe("globex");
  LinkTokens links(kKey);
  EXPECT_TRUE(Refused(links.CheckUnsubscribe(token).status()));
  EXPECT_EQ(*LinkTokens("another-key-another-key-another-key")
                 .CheckUnsubscribe(token),
            "globex");
}

TEST(LinkTokensTest, HeraldsOwnTokensAreExactlyWhatASignerOfItsFormatMakes) {
  LinkTokens links(kKey);
  EXPECT_EQ(links.Unsubscribe("globex"),
            SignedWith(kKey, "u." + absl::WebSafeBase64Escape("globex")));
}

TEST(LinkTokensTest, AuthenticTokensHeraldNeverMakesAreStillRefused) {
  LinkTokens links(kKey);
  const absl::Time now = testing::TestEpoch();
  const std::string subject = absl::WebSafeBase64Escape("globex");
  for (const std::string& signed_part : {
           std::string("u.") + subject + ".extra",  // a part too many
           std::string("u"),                        // no subject
           std::string("u."),                       // an empty subject
           std::string("u.!!not-base64!!"),         // a subject not base64
           std::string("c.") + subject,             // no expiry
           std::string("c.") + subject + ".soon",   // an expiry not a number
           std::string("x.") + subject,             // an unknown purpose
       }) {
    const std::string token = SignedWith(kKey, signed_part);
    EXPECT_TRUE(Refused(links.CheckUnsubscribe(token).status())) << token;
    EXPECT_TRUE(Refused(links.CheckConfirm(token, now).status())) << token;
  }
  // Answers: amends and a known answer, or nothing.
  for (const std::string& answer : {"42:0", "42:99", "42", "x:1", "42:1:1"}) {
    const std::string token =
        SignedWith(kKey, "a." + absl::WebSafeBase64Escape(answer));
    EXPECT_TRUE(Refused(links.CheckAnswer(token).status())) << answer;
  }
}

TEST(LinkTokensTest, AnOversizedTokenIsRefused) {
  LinkTokens links(kKey);
  const std::string long_subject(600, 'a');
  const std::string token = links.Unsubscribe(long_subject);
  const absl::Status s = links.CheckUnsubscribe(token).status();
  EXPECT_TRUE(Refused(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("cut short"))
      << "the one message every refusal gives";
}

TEST(LinkTokensTest, NewKeysAreLongRandomAndDistinct) {
  SeededRandom random(7);
  const std::string a = NewLinkKey(random);
  const std::string b = NewLinkKey(random);
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
}

}  // namespace link_tokens_testing
}  // namespace herald
