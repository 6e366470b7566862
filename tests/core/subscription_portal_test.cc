#include "server/core/subscribers/subscription_portal.h"

#include <regex>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/subscribers/contacts.h"
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
  // Nothing the anonymous requester typed but the address.
  EXPECT_THAT(email.text, Not(HasSubstr("Dana")));
  EXPECT_THAT(email.html, Not(HasSubstr("Dana")));
  EXPECT_THAT(email.text, HasSubstr("Checkout"));
  EXPECT_THAT(testing::OneLine(email.text),
              HasSubstr("November 25, 2026 at 10:00\u202fAM UTC"));  // 48 h
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

TEST_F(SubscriptionPortalTest, LanguageAndTimeZoneAreCheckedWithTheFieldNamed) {
  v1::Subscriber s;
  s.set_id("wayne");
  s.set_email("bruce@wayne.example");
  s.add_component_ids("checkout");
  s.set_locale("de-AT");
  s.set_time_zone("Europe/Vienna");
  s.set_preferred_name("Bruce");
  ASSERT_TRUE(h_.subscribers.Add(CommsLead(), s).ok());
  for (const auto& [field, value] :
       {std::pair<const char*, const char*>{"locale", "de-AT!"},
        {"locale", "klingon-language"},
        {"time_zone", "Europe/Wien"},
        {"time_zone", "+02:00"}}) {
    v1::Subscriber bad = s;
    if (std::string(field) == "locale") {
      bad.set_locale(value);
    } else {
      bad.set_time_zone(value);
    }
    absl::Status st = h_.subscribers.Add(CommsLead(), bad).status();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << value;
    EXPECT_THAT(std::string(st.message()), HasSubstr(field)) << value;
  }
  v1::Subscriber long_name = s;
  long_name.set_preferred_name(std::string(500, 'x'));
  EXPECT_THAT(
      std::string(
          h_.subscribers.Add(CommsLead(), long_name).status().message()),
      HasSubstr("preferred_name"));
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
  const LinkTokens& links = h_.links;
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
  EXPECT_THAT(error({"a@b.example", std::string(61, 'x'), {}}),
              HasSubstr("name: at most 60"));
  EXPECT_THAT(error({std::string("a\0b@example.com", 15), "", {}}),
              HasSubstr("email: "));
  EXPECT_THAT(Notices(), IsEmpty());
}

TEST_F(SubscriptionPortalTest, OneNoisyClientDoesNotLockOutAnother) {
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(
        h_.portal
            .Subscribe(
                {absl::StrCat("p", i, "@example.com"), "", {}, "203.0.113.7"})
            .ok());
  }
  const absl::Status s =
      h_.portal.Subscribe({"late@example.com", "", {}, "203.0.113.7"});
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  // Malformed requests count too.
  EXPECT_TRUE(absl::IsResourceExhausted(
      h_.portal.Subscribe({"", "", {}, "203.0.113.7"})));
  // Someone else is served all the same.
  EXPECT_TRUE(
      h_.portal.Subscribe({"other@example.com", "", {}, "198.51.100.2"}).ok());
  h_.clock.Advance(absl::Minutes(1));
  EXPECT_TRUE(
      h_.portal.Subscribe({"late@example.com", "", {}, "203.0.113.7"}).ok());
}

TEST_F(SubscriptionPortalTest, AnIpv6ClientIsLimitedByItsSlash64) {
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(h_.portal
                    .Subscribe({absl::StrCat("p", i, "@example.com"),
                                "",
                                {},
                                absl::StrCat("2001:db8:1:2::", i + 1)})
                    .ok());
  }
  EXPECT_TRUE(absl::IsResourceExhausted(h_.portal.Subscribe(
      {"late@example.com", "", {}, "2001:db8:1:2:ffff::9"})));
  EXPECT_TRUE(
      h_.portal.Subscribe({"late@example.com", "", {}, "2001:db8:1:3::1"})
          .ok());
}

TEST_F(SubscriptionPortalTest, OneAddressCannotBeMailBombedFromManyClients) {
  // A new client every request, each past the resend interval: the address
  // still gets at most three notices a day.
  for (int i = 0; i < 144; ++i) {
    ASSERT_TRUE(h_.portal
                    .Subscribe({"victim@example.com",
                                "",
                                {},
                                absl::StrCat("192.0.2.", i % 250)})
                    .ok());
    h_.clock.Advance(absl::Minutes(10));
  }
  EXPECT_THAT(Notices(), SizeIs(3));
  // Within the resend interval nobody gets a second one, however many ask.
  ASSERT_TRUE(
      h_.portal.Subscribe({"dana@example.com", "", {}, "192.0.2.1"}).ok());
  ASSERT_TRUE(
      h_.portal.Subscribe({"dana@example.com", "", {}, "192.0.2.2"}).ok());
  EXPECT_THAT(Notices(), SizeIs(4));
}

TEST_F(SubscriptionPortalTest, TheClientTableStaysBoundedUnderManySources) {
  SubscriptionPortal portal(h_.deps, h_.drafter, h_.links, {},
                            {.max_tracked_clients = 100});
  for (int i = 0; i < 1000; ++i) {
    // Malformed requests from ever new sources: counted, never stored.
    EXPECT_TRUE(absl::IsInvalidArgument(portal.Subscribe(
        {"", "", {}, absl::StrCat("10.0.", i / 256, ".", i % 256)})));
    EXPECT_LE(portal.tracked_clients(), 100u);
  }
  EXPECT_EQ(portal.tracked_clients(), 100u);
  // Once their minute is over they are forgotten.
  h_.clock.Advance(absl::Minutes(1));
  EXPECT_TRUE(
      absl::IsInvalidArgument(portal.Subscribe({"", "", {}, "10.9.9.9"})));
  EXPECT_EQ(portal.tracked_clients(), 1u);
}

TEST_F(SubscriptionPortalTest, TheNameMustBeAPlausibleName) {
  const auto name_error = [&](const std::string& name) {
    return h_.portal.Subscribe({"n@example.com", name, {}});
  };
  for (const std::string ok :
       {"Dana", "José Ñúñez", "O'Brien-Smith", "J.R.R. Tolkien",
        "Zoe\u0308 d\u2019Arc", "  Dana   Scully  ", "Анна Каренина",
        "王小明"}) {
    EXPECT_TRUE(name_error(ok).ok()) << ok;
  }
  EXPECT_EQ(ByEmail("n@example.com").name(), "王小明");
  for (const std::string bad :
       {"Visit evil.example now", "https://evil.example", "Call 555 0100",
        "Dana\nBcc: x@example.com", "Dana\r", "...", "<b>Dana</b>", "Win $$$",
        "Dana\tScully"}) {
    const absl::Status s = name_error(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << bad;
    EXPECT_THAT(std::string(s.message()), ::testing::StartsWith("name: "))
        << bad;
  }
  EXPECT_THAT(std::string(name_error(std::string(61, 'a')).message()),
              HasSubstr("name: at most 60 characters"));
  EXPECT_TRUE(name_error(std::string(60, 'a')).ok());
  EXPECT_THAT(std::string(name_error("see www.evil.example").message()),
              HasSubstr("not a web address"));
}

TEST_F(SubscriptionPortalTest, NoticesCarryNoNameFromTheForm) {
  // A new address, and one that already subscribes (globex, whose stored
  // name is not shown either).
  const v1::Subscriber globex = h_.Read<v1::Subscriber>(
      [](StoreReader& r) { return r.GetSubscriber("globex"); });
  ASSERT_TRUE(
      h_.portal.Subscribe({"dana@example.com", "Mallory Phisher", {}}).ok());
  ASSERT_TRUE(
      h_.portal.Subscribe({globex.email(), "Mallory Phisher", {}}).ok());
  const std::vector<v1::Delivery> notices = Notices();
  ASSERT_THAT(notices, SizeIs(2));
  for (const v1::Delivery& d : notices) {
    const Outgoing email = h_.Compose(d);
    for (const std::string* part : {&email.subject, &email.text, &email.html}) {
      EXPECT_THAT(*part, Not(HasSubstr("Mallory")));
      EXPECT_THAT(*part, Not(HasSubstr("Phisher")));
      if (!globex.name().empty()) {
        EXPECT_THAT(*part, Not(HasSubstr(globex.name())));
      }
    }
    EXPECT_THAT(email.text, ::testing::StartsWith("Hello,\n"));
  }
}

TEST_F(SubscriptionPortalTest, UnconfirmedSubscribersArePurgedAfterTheTtl) {
  ASSERT_TRUE(h_.portal.Subscribe({"dana@example.com", "Dana", {"api"}}).ok());
  ASSERT_TRUE(h_.portal.Subscribe({"eve@example.com", "", {"api"}}).ok());
  const std::string eve_token =
      LinkToken(h_.Compose(Notices()[1]).text, "/subscribe/confirm");
  ASSERT_TRUE(h_.portal.Confirm(eve_token).ok());

  h_.clock.Advance(absl::Hours(48));  // the link still works this second
  EXPECT_EQ(*h_.portal.PurgeUnconfirmed(), 0);
  EXPECT_EQ(ByEmail("dana@example.com").status(),
            v1::SUBSCRIBER_STATUS_PENDING);
  h_.clock.Advance(absl::Seconds(1));
  EXPECT_EQ(*h_.portal.PurgeUnconfirmed(), 1);
  const absl::Status gone = h_.store->Read([](StoreReader& r) {
    return r.FindSubscriberByEmail("dana@example.com").status();
  });
  EXPECT_TRUE(absl::IsNotFound(gone)) << gone;
  EXPECT_EQ(ByEmail("eve@example.com").status(), v1::SUBSCRIBER_STATUS_ACTIVE);
  EXPECT_EQ(*h_.portal.PurgeUnconfirmed(), 0);  // idempotent
  // Purged, they can ask again and get a fresh link.
  ASSERT_TRUE(h_.portal.Subscribe({"dana@example.com", "", {"api"}}).ok());
  EXPECT_EQ(ByEmail("dana@example.com").status(),
            v1::SUBSCRIBER_STATUS_PENDING);
}

TEST_F(SubscriptionPortalTest,
       APurgeKeepsTheRecordOfSomeoneWhoWasSubscribedBefore) {
  // eve confirmed, globex was added by an operator; both unsubscribed, then
  // someone asked for their addresses again and never confirmed.
  ASSERT_TRUE(h_.portal.Subscribe({"eve@example.com", "", {"api"}}).ok());
  ASSERT_TRUE(h_.portal
                  .Confirm(LinkToken(h_.Compose(Notices()[0]).text,
                                     "/subscribe/confirm"))
                  .ok());
  const std::string eve = ByEmail("eve@example.com").id();
  const v1::Subscriber globex = h_.Read<v1::Subscriber>(
      [](StoreReader& r) { return r.GetSubscriber("globex"); });
  for (const std::string& id : {eve, globex.id()}) {
    ASSERT_TRUE(h_.portal.Unsubscribe(h_.links.Unsubscribe(id)).ok());
  }
  for (const std::string& email :
       {std::string("eve@example.com"), globex.email()}) {
    ASSERT_TRUE(h_.portal.Subscribe({email, "", {}}).ok());
    ASSERT_EQ(ByEmail(email).status(), v1::SUBSCRIBER_STATUS_PENDING);
  }
  h_.clock.Advance(absl::Hours(49));
  EXPECT_EQ(*h_.portal.PurgeUnconfirmed(), 2);
  EXPECT_EQ(ByEmail("eve@example.com").status(),
            v1::SUBSCRIBER_STATUS_UNSUBSCRIBED);
  EXPECT_EQ(ByEmail(globex.email()).status(),
            v1::SUBSCRIBER_STATUS_UNSUBSCRIBED);
  // So an operator still cannot put them back.
  v1::Subscriber again = ByEmail(globex.email());
  EXPECT_TRUE(absl::IsFailedPrecondition(
      h_.subscribers.Add(CommsLead(), again).status()));
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
  const int64_t incident = h_.queries.ListIncidents(false)->items.front().id();
  const v1::Message draft =
      h_.workflow
          .PostUpdate(testing::Engineer(), incident, "rolled back",
                      {v1::INCIDENT_STATUS_IDENTIFIED})
          ->draft;
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), draft.id(), 0, kAsWritten).ok());
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

// A subscriber an operator added, reached by email first, then SMS.
v1::Subscriber Ursula() {
  v1::Subscriber s;
  s.set_id("ursula");
  s.set_name("Ursula Franklin");
  s.set_email("ursula@example.com");
  s.add_component_ids("checkout");
  v1::Contact* email = s.add_contacts();
  email->set_channel(v1::CHANNEL_KIND_EMAIL);
  email->set_address("ursula@example.com");
  v1::Contact* sms = s.add_contacts();
  sms->set_channel(v1::CHANNEL_KIND_SMS);
  sms->set_address("+4915112345678");
  return s;
}

class PreferencesTest : public SubscriptionPortalTest {
 protected:
  PreferencesTest() {
    EXPECT_TRUE(h_.subscribers.Add(CommsLead(), Ursula()).ok());
    token_ = h_.links.Manage("ursula");
  }
  v1::Subscriber Stored() {
    return h_.Read<v1::Subscriber>(
        [](StoreReader& r) { return r.GetSubscriber("ursula"); });
  }
  std::vector<v1::AuditEntry> Audit() {
    return h_.Read<std::vector<v1::AuditEntry>>(
        [](StoreReader& r) { return r.ListAudit(0); });
  }
  // The API and Checkout, SMS first, in German, in Tokyo, as the page
  // showing Ursula as added asks.
  Preferences Wanted() {
    return {.component_ids = {"api", "checkout"},
            .channel_order = {1, 0},
            .channels_fingerprint = h_.portal.ChannelsFingerprint(Ursula()),
            .locale = "de",
            .time_zone = "Asia/Tokyo"};
  }
  std::string token_;
};

TEST_F(PreferencesTest, ASubscriberChangesWhatTheyHearAndHowAndItIsAudited) {
  absl::StatusOr<v1::Subscriber> shown = h_.portal.Subscription(token_);
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->email(), "ursula@example.com");
  const size_t audited_before = Audit().size();

  absl::StatusOr<v1::Subscriber> saved =
      h_.portal.SavePreferences(token_, Wanted());
  ASSERT_TRUE(saved.ok()) << saved.status();
  const v1::Subscriber s = Stored();
  EXPECT_THAT(s.component_ids(), ElementsAre("api", "checkout"));
  ASSERT_THAT(s.contacts(), SizeIs(2));
  EXPECT_EQ(s.contacts(0).channel(), v1::CHANNEL_KIND_SMS);
  EXPECT_EQ(s.contacts(1).channel(), v1::CHANNEL_KIND_EMAIL);
  EXPECT_EQ(s.locale(), "de");
  EXPECT_EQ(s.time_zone(), "Asia/Tokyo");

  const std::vector<v1::AuditEntry> audit = Audit();
  ASSERT_THAT(audit, SizeIs(audited_before + 1));
  EXPECT_EQ(audit.back().actor_id(), "subscriber:ursula");
  EXPECT_EQ(audit.back().action(), "preferences_changed");
  EXPECT_EQ(audit.back().detail(),
            "components: checkout -> api, checkout; channels: email, sms -> "
            "sms, email; locale: - -> de; time_zone: - -> Asia/Tokyo");
  // No addresses in the log.
  EXPECT_THAT(audit.back().detail(), Not(HasSubstr("+49")));

  // Saving the page as it now shows changes and records nothing.
  Preferences again = Wanted();
  again.channel_order = {0, 1};
  again.channels_fingerprint = h_.portal.ChannelsFingerprint(Stored());
  ASSERT_TRUE(h_.portal.SavePreferences(token_, again).ok());
  EXPECT_THAT(Audit(), SizeIs(audited_before + 1));
}

TEST_F(PreferencesTest, BadChoicesAreRefusedWithTheFieldNamedAndChangeNothing) {
  const v1::Subscriber before = Stored();
  const auto refused = [&](Preferences p) {
    return std::string(h_.portal.SavePreferences(token_, p).status().message());
  };
  Preferences none = Wanted();
  none.component_ids.clear();
  EXPECT_THAT(refused(none), HasSubstr("component: choose at least one"));
  Preferences unknown = Wanted();
  unknown.component_ids = {"checkout", "mainframe"};
  EXPECT_THAT(refused(unknown), HasSubstr("component: no component"));
  Preferences language = Wanted();
  language.locale = "klingon!";
  EXPECT_THAT(refused(language), HasSubstr("locale: "));
  Preferences zone = Wanted();
  zone.time_zone = "Mars/Olympus_Mons";
  EXPECT_THAT(refused(zone), HasSubstr("time_zone: "));
  Preferences beyond = Wanted();
  beyond.channel_order = {1, 7};  // not one of theirs
  EXPECT_THAT(refused(beyond), HasSubstr("channels: "));
  Preferences dropped = Wanted();
  dropped.channel_order.pop_back();  // a channel left out
  EXPECT_THAT(refused(dropped), HasSubstr("channels: "));
  Preferences twice = Wanted();
  twice.channel_order = {0, 0};
  EXPECT_THAT(refused(twice), HasSubstr("channels: "));
  // An order for channels other than those the page showed.
  Preferences stale = Wanted();
  v1::Subscriber other = Ursula();
  other.mutable_contacts(1)->set_address("+4915199999999");
  stale.channels_fingerprint = h_.portal.ChannelsFingerprint(other);
  EXPECT_THAT(refused(stale),
              HasSubstr("channels: your channels have changed"));
  Preferences forged = Wanted();
  forged.channels_fingerprint = "AAAAAAAAAAAAAAAAAAAAAA";
  EXPECT_THAT(refused(forged), HasSubstr("channels: "));
  EXPECT_EQ(Stored().SerializeAsString(), before.SerializeAsString());
}

TEST_F(PreferencesTest, EachLinkServesOnlyItsOwnPurpose) {
  const std::string unsubscribe = h_.links.Unsubscribe("ursula");
  // The preferences link cannot unsubscribe, nor the unsubscribe link
  // change preferences; a confirmation link does neither.
  EXPECT_TRUE(absl::IsInvalidArgument(h_.portal.Unsubscribe(token_).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(h_.portal.Subscription(unsubscribe).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      h_.portal.SavePreferences(unsubscribe, Wanted()).status()));
  const std::string confirm =
      h_.links.Confirm("ursula", h_.clock.Now() + absl::Hours(1));
  EXPECT_TRUE(
      absl::IsInvalidArgument(h_.portal.Subscription(confirm).status()));
  // A link for one subscriber says nothing of another's.
  std::string other = h_.links.Manage("someone-else");
  EXPECT_EQ(h_.portal.Subscription(other).status().code(),
            absl::StatusCode::kNotFound);
  other.back() = other.back() == 'A' ? 'B' : 'A';  // tampered
  EXPECT_TRUE(absl::IsInvalidArgument(h_.portal.Subscription(other).status()));
  EXPECT_EQ(Stored().status(), v1::SUBSCRIBER_STATUS_ACTIVE);
}

TEST_F(PreferencesTest, AfterUnsubscribingThePreferencesLinkChangesNothing) {
  ASSERT_TRUE(h_.portal.Unsubscribe(h_.links.Unsubscribe("ursula")).ok());
  EXPECT_EQ(h_.portal.Subscription(token_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(h_.portal.SavePreferences(token_, Wanted()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Stored().status(), v1::SUBSCRIBER_STATUS_UNSUBSCRIBED);
  EXPECT_THAT(Stored().component_ids(), ElementsAre("checkout"));
}

TEST_F(PreferencesTest, EveryCustomerEmailLinksToTheirOwnPreferencesPage) {
  const int64_t incident =
      h_.intake.Ingest(testing::FiringGroup("g1", "checkout", {"fp1"}))
          ->incident_id;
  const v1::Message draft =
      h_.workflow.PostUpdate(testing::Engineer(), incident, "rolled back")
          ->draft;
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), draft.id(), 0, kAsWritten).ok());
  bool found = false;
  for (const v1::Delivery& d : h_.Read<std::vector<v1::Delivery>>(
           [&](StoreReader& r) { return r.ListDeliveries(draft.id(), 0); })) {
    if (d.recipient() != "subscriber:ursula") continue;
    const Outgoing email = h_.Compose(d);
    const std::string manage = LinkToken(email.text, "/preferences");
    ASSERT_FALSE(manage.empty()) << email.text;
    EXPECT_THAT(email.html, HasSubstr("/preferences?token=" + manage));
    absl::StatusOr<v1::Subscriber> them = h_.portal.Subscription(manage);
    ASSERT_TRUE(them.ok()) << them.status();
    EXPECT_EQ(them->id(), "ursula");
    found = true;
  }
  EXPECT_TRUE(found);
}

TEST_F(SubscriptionPortalTest, TheFormTakesALanguageAndTimeZoneForTheEmails) {
  ASSERT_TRUE(h_.portal
                  .Subscribe({.email = "jo@example.com",
                              .component_ids = {"checkout"},
                              .locale = "de_AT",
                              .time_zone = "Europe/Vienna"})
                  .ok());
  const v1::Subscriber jo = ByEmail("jo@example.com");
  EXPECT_EQ(jo.locale(), "de-AT");
  EXPECT_EQ(jo.time_zone(), "Europe/Vienna");
  // The confirmation is already in their language and zone.
  const Outgoing email = h_.Compose(Notices().back());
  EXPECT_THAT(testing::OneLine(email.text), HasSubstr("MEZ"));
  EXPECT_EQ(
      h_.portal
          .Subscribe({.email = "kim@example.com", .time_zone = "Moon/Base"})
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(h_.portal
                              .Subscribe({.email = "kim@example.com",
                                          .locale = "no such language"})
                              .message()),
              HasSubstr("locale: "));
}

}  // namespace
}  // namespace herald
