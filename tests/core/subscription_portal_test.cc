#include "server/core/subscription_portal.h"

#include <regex>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using testing::CommsLead;
using testing::CoreHarness;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kKey[] = "0123456789abcdef0123456789abcdef";

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

class SubscriptionPortalTest : public ::testing::Test {
 protected:
  // Self-service notices (confirmations and "already subscribed") queued so
  // far, oldest first.
  std::vector<v1::Delivery> Notices() {
    return h_.Read<std::vector<v1::Delivery>>(
        [](StoreReader& r) { return r.ListDeliveries(0, 0); });
  }
  v1::Subscriber ByEmail(const std::string& email) {
    return h_.Read<v1::Subscriber>(
        [&](StoreReader& r) { return r.FindSubscriberByEmail(email); });
  }
  // The token of the first link to `path` in `text`.
  static std::string LinkToken(const std::string& text,
                               const std::string& path) {
    std::smatch m;
    const std::regex re(path + "\\?token=([A-Za-z0-9_.-]+)");
    if (!std::regex_search(text, m, re)) return "";
    return m[1];
  }
  int64_t Audience(const std::string& component) {
    return h_.Read<int64_t>(
        [&](StoreReader& r) { return r.CountAudience({component}); });
  }

  CoreHarness h_;
};

TEST_F(SubscriptionPortalTest,
       SubscribingQueuesAConfirmationAndOnlyConfirmingMakesThemAnAudience) {
  const int64_t before = Audience("checkout");
  ASSERT_TRUE(
      h_.portal.Subscribe({" Dana@Example.COM ", "Dana", {"checkout"}}).ok());
  const v1::Subscriber pending = ByEmail("dana@example.com");
  EXPECT_EQ(pending.status(), v1::SUBSCRIBER_STATUS_PENDING);
  EXPECT_EQ(pending.name(), "Dana");
  EXPECT_THAT(pending.component_ids(), ElementsAre("checkout"));
  EXPECT_EQ(Audience("checkout"), before);

  const std::vector<v1::Delivery> notices = Notices();
  ASSERT_THAT(notices, SizeIs(1));
  EXPECT_EQ(notices[0].recipient(), "subscriber:" + pending.id());
  const Outgoing email = h_.Compose(notices[0]);
  EXPECT_EQ(email.address, "dana@example.com");
  EXPECT_THAT(email.subject, HasSubstr("Confirm"));
  EXPECT_THAT(email.text, HasSubstr("Hello Dana"));
  EXPECT_THAT(email.text, HasSubstr("Checkout"));
  EXPECT_THAT(email.text, HasSubstr("2026-11-25 10:00 UTC"));  // 48 h
  const std::string token = LinkToken(email.text, "/subscribe/confirm");
  ASSERT_FALSE(token.empty()) << email.text;

  EXPECT_TRUE(h_.portal.CheckConfirmLink(token).ok());
  EXPECT_EQ(ByEmail("dana@example.com").status(),
            v1::SUBSCRIBER_STATUS_PENDING);  // checking changes nothing
  absl::StatusOr<v1::Subscriber> confirmed = h_.portal.Confirm(token);
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  EXPECT_EQ(confirmed->status(), v1::SUBSCRIBER_STATUS_ACTIVE);
  EXPECT_EQ(Audience("checkout"), before + 1);
  // Confirming twice is harmless.
  EXPECT_TRUE(h_.portal.Confirm(token).ok());
  EXPECT_EQ(Audience("checkout"), before + 1);
}

TEST_F(SubscriptionPortalTest, NoComponentTickedMeansEveryComponent) {
  ASSERT_TRUE(h_.portal.Subscribe({"eve@example.com", "", {}}).ok());
  EXPECT_THAT(ByEmail("eve@example.com").component_ids(),
              SizeIs(h_.org->config().components_size()));
}

TEST_F(SubscriptionPortalTest, AnExpiredConfirmationLinkIsRefused) {
  ASSERT_TRUE(h_.portal.Subscribe({"dana@example.com", "", {"api"}}).ok());
  const std::string token =
      LinkToken(h_.Compose(Notices()[0]).text, "/subscribe/confirm");
  h_.clock.Advance(absl::Hours(49));
  const absl::Status s = h_.portal.Confirm(token).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_EQ(ByEmail("dana@example.com").status(),
            v1::SUBSCRIBER_STATUS_PENDING);
}

TEST_F(SubscriptionPortalTest, RepeatedRequestsSendOneEmailPerResendInterval) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(h_.portal.Subscribe({"dana@example.com", "", {"api"}}).ok());
  }
  EXPECT_THAT(Notices(), SizeIs(1));
  h_.clock.Advance(absl::Minutes(10));
  ASSERT_TRUE(h_.portal.Subscribe({"dana@example.com", "", {"api"}}).ok());
  EXPECT_THAT(Notices(), SizeIs(2));
}

TEST_F(SubscriptionPortalTest,
       AnActiveAddressIsToldItIsSubscribedAndNothingChanges) {
  // globex is a demo subscriber, added by an operator.
  const v1::Subscriber before = h_.Read<v1::Subscriber>(
      [](StoreReader& r) { return r.GetSubscriber("globex"); });
  ASSERT_FALSE(before.email().empty());
  ASSERT_TRUE(
      h_.portal.Subscribe({before.email(), "Mallory", {"dashboard"}}).ok());
  const v1::Subscriber after = h_.Read<v1::Subscriber>(
      [](StoreReader& r) { return r.GetSubscriber("globex"); });
  EXPECT_EQ(after.name(), before.name());
  EXPECT_EQ(after.status(), before.status());
  EXPECT_EQ(std::vector<std::string>(after.component_ids().begin(),
                                     after.component_ids().end()),
            std::vector<std::string>(before.component_ids().begin(),
                                     before.component_ids().end()));
  ASSERT_THAT(Notices(), SizeIs(1));
  const Outgoing email = h_.Compose(Notices()[0]);
  EXPECT_THAT(email.subject, HasSubstr("already"));
  EXPECT_THAT(email.text, HasSubstr("/unsubscribe?token="));
  EXPECT_THAT(email.text, Not(HasSubstr("/subscribe/confirm")));
}

TEST_F(SubscriptionPortalTest,
       UnsubscribingStopsDeliveriesAndOnlyTheirOwnConfirmationBringsThemBack) {
  const int64_t before = Audience("checkout");
  LinkTokens& links = h_.links;
  absl::StatusOr<v1::Subscriber> gone =
      h_.portal.Unsubscribe(links.Unsubscribe("globex"));
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ(gone->status(), v1::SUBSCRIBER_STATUS_UNSUBSCRIBED);
  EXPECT_EQ(Audience("checkout"), before - 1);
  EXPECT_TRUE(h_.portal.Unsubscribe(links.Unsubscribe("globex")).ok());
  // An operator cannot put them back.
  v1::Subscriber again = *gone;
  EXPECT_TRUE(absl::IsFailedPrecondition(
      h_.subscribers.Add(CommsLead(), again).status()));

  // They can: by asking and confirming.
  ASSERT_TRUE(h_.portal.Subscribe({gone->email(), "", {"checkout"}}).ok());
  EXPECT_EQ(Audience("checkout"), before - 1);
  const std::string token =
      LinkToken(h_.Compose(Notices().back()).text, "/subscribe/confirm");
  ASSERT_TRUE(h_.portal.Confirm(token).ok());
  EXPECT_EQ(Audience("checkout"), before);
}

TEST_F(SubscriptionPortalTest, AConfirmationSentBeforeUnsubscribingIsVoid) {
  ASSERT_TRUE(h_.portal.Subscribe({"dana@example.com", "", {"api"}}).ok());
  const v1::Subscriber dana = ByEmail("dana@example.com");
  const std::string token =
      LinkToken(h_.Compose(Notices()[0]).text, "/subscribe/confirm");
  ASSERT_TRUE(h_.portal.Unsubscribe(h_.links.Unsubscribe(dana.id())).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(h_.portal.Confirm(token).status()));
}

TEST_F(SubscriptionPortalTest, ALinkForASubscriberWhoIsGoneSaysSoWithoutIds) {
  const absl::Status s =
      h_.portal.Unsubscribe(h_.links.Unsubscribe("self-0123abcd")).status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("no longer exists"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("self-0123abcd")));
}

TEST_F(SubscriptionPortalTest, BadFormInputNamesTheField) {
  const auto error = [&](SubscribeRequest r) {
    return std::string(h_.portal.Subscribe(r).message());
  };
  EXPECT_THAT(error({"", "", {}}), HasSubstr("email: enter"));
  EXPECT_THAT(error({"not-an-address", "", {}}),
              HasSubstr("email: \"not-an-address\" is not an email address"));
  EXPECT_THAT(error({"a@b.example", "", {"nope"}}),
              HasSubstr("component: no component \"nope\""));
  EXPECT_THAT(error({"a@b.example", std::string(201, 'x'), {}}),
              HasSubstr("name: at most 200"));
  EXPECT_THAT(Notices(), IsEmpty());
}

TEST_F(SubscriptionPortalTest, TheFormIsRateLimitedAcrossAddresses) {
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(
        h_.portal.Subscribe({absl::StrCat("p", i, "@example.com"), "", {}})
            .ok());
  }
  const absl::Status s = h_.portal.Subscribe({"late@example.com", "", {}});
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  h_.clock.Advance(absl::Minutes(1));
  EXPECT_TRUE(h_.portal.Subscribe({"late@example.com", "", {}}).ok());
}

TEST_F(SubscriptionPortalTest, TurnedOffSelfServiceRefusesTheForm) {
  v1::Config config = DefaultConfig();
  config.mutable_self_service()->set_disabled(true);
  CoreHarness h(NewMemoryStore(), config);
  EXPECT_FALSE(h.portal.enabled());
  EXPECT_TRUE(absl::IsFailedPrecondition(
      h.portal.Subscribe({"dana@example.com", "", {}})));
}

TEST_F(SubscriptionPortalTest,
       PublishedUpdatesCarryAnUnsubscribeLinkThatWorks) {
  ASSERT_TRUE(
      h_.intake.Ingest(testing::FiringGroup("g1", "checkout", {"fp1"})).ok());
  const int64_t incident = h_.queries.ListIncidents(false)->front().id();
  const v1::Message draft =
      h_.workflow
          .PostUpdate(testing::Engineer(), incident, "rolled back",
                      {v1::INCIDENT_STATUS_IDENTIFIED})
          ->draft;
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), draft.id(), 0).ok());
  const std::vector<v1::Delivery> deliveries =
      h_.Read<std::vector<v1::Delivery>>([&](StoreReader& r) {
        return r.ListDeliveries(draft.id(), incident);
      });
  ASSERT_THAT(deliveries, Not(IsEmpty()));
  const Outgoing email = h_.Compose(deliveries[0]);
  ASSERT_THAT(email.unsubscribe_url,
              HasSubstr("https://status.acme.example/unsubscribe?token="));
  EXPECT_THAT(email.text, HasSubstr(email.unsubscribe_url));
  EXPECT_THAT(email.html, HasSubstr("Unsubscribe</a>"));
  const std::string token = LinkToken(email.unsubscribe_url, "/unsubscribe");
  absl::StatusOr<v1::Subscriber> gone = h_.portal.Unsubscribe(token);
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ("subscriber:" + gone->id(), deliveries[0].recipient());
}

}  // namespace
}  // namespace herald
