#include <regex>

#include "tests/http/http_server_fixture.h"

namespace herald {
namespace http_testing {

using ::testing::ElementsAre;

TEST(UrlEncodedFormTest, DecodesAsBrowsersEncode) {
  const absl::StatusOr<FormFields> form = ParseUrlEncoded(
      "email=dana%40example.com&name=Dana+O%27Neil&component="
      "api&component=checkout&flag&bad=%zz&city=K%C3%B6ln");
  ASSERT_TRUE(form.ok()) << form.status();
  EXPECT_EQ(form->find("email")->second, "dana@example.com");
  EXPECT_EQ(form->find("name")->second, "Dana O'Neil");
  EXPECT_EQ(form->count("component"), 2u);
  EXPECT_EQ(form->find("flag")->second, "");
  EXPECT_EQ(form->find("bad")->second, "%zz");
  EXPECT_EQ(form->find("city")->second, "K\xC3\xB6ln");
}

TEST(UrlEncodedFormTest, RefusesInvalidUtf8AndControlsNamingTheField) {
  for (const char* text :
       {"email=x%40example.org&name=%ff", "name=%C3%28", "name=%ED%A0%80",
        "name=a%00b", "name=a%1Bb", "name=%C2%9B"}) {
    const absl::StatusOr<FormFields> form = ParseUrlEncoded(text);
    EXPECT_EQ(form.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(std::string(form.status().message()),
                ::testing::StartsWith("name: "))
        << text;
  }
  // A field name that is not text is refused without being repeated.
  EXPECT_EQ(ParseUrlEncoded("%ff=1").status().code(),
            absl::StatusCode::kInvalidArgument);
  // Tabs and line breaks are text (a message body has them).
  EXPECT_TRUE(ParseUrlEncoded("body=line+one%0D%0Aline%09two").ok());
}

TEST(UrlEncodedFormTest, BoundsTheNumberOfFields) {
  std::string many;
  for (size_t i = 0; i <= kMaxFormFields; ++i) absl::StrAppend(&many, "a=1&");
  EXPECT_EQ(ParseUrlEncoded(many).status().code(),
            absl::StatusCode::kInvalidArgument);
}

class SelfServiceHttpTest : public HttpServerTest {
 protected:
  httplib::Result PostForm(const std::string& path, const std::string& body) {
    return client_->Post(path, body, "application/x-www-form-urlencoded");
  }
  std::string ConfirmTokenFromInbox() {
    const auto notices = h_.Read<std::vector<v1::Delivery>>(
        [](StoreReader& r) { return r.ListDeliveries(0, 0); });
    if (notices.empty()) return "";
    const std::string text = h_.Compose(notices.back()).text;
    const size_t at = text.find("token=");
    if (at == std::string::npos) return "";
    return text.substr(at + 6, text.find_first_of(" \n", at) - at - 6);
  }
};

TEST_F(SelfServiceHttpTest, StatusPageOffersTheSubscribeForm) {
  const std::string html = client_->Get("/")->body;
  EXPECT_THAT(html, HasSubstr("<form class=\"subscribe\" method=\"post\" "
                              "action=\"/subscribe\">"));
  EXPECT_THAT(html, HasSubstr("name=\"component\" value=\"checkout\""));
  EXPECT_THAT(html, HasSubstr("<label for=\"subscribe-email\">"));
}

TEST_F(SelfServiceHttpTest, FormPostThenConfirmButtonSubscribes) {
  httplib::Result r =
      PostForm("/subscribe", "email=dana%40example.com&component=checkout");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_THAT(r->body, HasSubstr("Check your inbox"));
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  EXPECT_THAT(r->get_header_value("Content-Security-Policy"),
              HasSubstr("frame-ancestors 'none'"));
  const std::string token = ConfirmTokenFromInbox();
  ASSERT_FALSE(token.empty());

  // Opening the link only shows the button.
  r = client_->Get("/subscribe/confirm?token=" + token);
  ASSERT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("Confirm my subscription"));
  EXPECT_THAT(r->body, HasSubstr("value=\"" + token + "\""));
  auto status = [&] {
    return h_
        .Read<v1::Subscriber>([](StoreReader& rd) {
          return rd.FindSubscriberByEmail("dana@example.com");
        })
        .status();
  };
  EXPECT_EQ(status(), v1::SUBSCRIBER_STATUS_PENDING);

  r = PostForm("/subscribe/confirm", "token=" + token);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_THAT(r->body, HasSubstr("You are subscribed"));
  EXPECT_EQ(status(), v1::SUBSCRIBER_STATUS_ACTIVE);
}

TEST_F(SelfServiceHttpTest, BadFormInputIsShownAgainWithTheProblem) {
  httplib::Result r = PostForm(
      "/subscribe", "email=nobody&name=%3Cscript%3E&component=checkout");
  ASSERT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("role=\"alert\""));
  EXPECT_THAT(r->body, HasSubstr("is not an email address"));
  EXPECT_THAT(r->body, HasSubstr("value=\"&lt;script&gt;\""));
  EXPECT_THAT(r->body, Not(HasSubstr("<script>")));
  EXPECT_THAT(r->body, HasSubstr("value=\"checkout\" checked"));

  r = client_->Post("/subscribe", "{\"email\":\"a@b.example\"}",
                    "application/json");
  EXPECT_EQ(r->status, 415);
  r = client_->Delete("/subscribe");
  EXPECT_EQ(r->status, 405);
}

// The reproduction of issue 18: a name that is not UTF-8 was stored, and no
// email went out to anyone after it. Every self-service route refuses such
// text with 400 naming the field, echoes none of it, and stores nothing.
TEST_F(SelfServiceHttpTest, EveryFormAndQueryRefusesTextThatIsNotUtf8) {
  struct Case {
    bool post;
    std::string path;
    std::string data;  // the body (POST) or query (GET)
    std::string field;
  };
  const std::vector<Case> cases = {
      {true, "/subscribe", "email=x%40example.org&name=%ff", "name"},
      {true, "/subscribe", "email=x%40example.org%C3%28", "email"},
      {true, "/subscribe", "email=x%40example.org&component=%ff", "component"},
      {false, "/subscribe/confirm", "token=%ff", "token"},
      {true, "/subscribe/confirm", "token=%ff", "token"},
      {false, "/unsubscribe", "token=%1b%5b2J", "token"},
      {true, "/unsubscribe", "token=%ff", "token"},
      {false, "/follow-up", "token=%ff", "token"},
      {true, "/follow-up", "token=%ff", "token"},
      {false, "/preferences", "token=%ff", "token"},
      {true, "/preferences", "token=%ff", "token"},
      {true, "/preferences", "token=m.x.y&time_zone=%ff", "time_zone"},
      {true, "/subscribe", "email=x%40example.org&locale=%C3%28", "locale"},
  };
  for (const Case& c : cases) {
    httplib::Result r =
        c.post ? PostForm(c.path, c.data) : client_->Get(c.path + "?" + c.data);
    ASSERT_TRUE(r) << c.path;
    EXPECT_EQ(r->status, 400) << c.path << " " << c.data;
    EXPECT_THAT(r->body, HasSubstr(c.field + ": ")) << c.path;
    EXPECT_TRUE(IsValidUtf8(r->body)) << c.path;
    EXPECT_THAT(r->body, Not(HasSubstr("\x1b"))) << c.path;
  }
  const auto subscribers = h_.Read<std::vector<v1::Subscriber>>(
      [](StoreReader& r) { return r.ListSubscribers({}); });
  for (const v1::Subscriber& sub : subscribers) {
    EXPECT_NE(sub.email(), "x@example.org");
  }
  // And the outbox still works for everyone.
  ASSERT_EQ(PostForm("/subscribe", "email=dana%40example.com")->status, 200);
  EXPECT_FALSE(ConfirmTokenFromInbox().empty());
}

TEST_F(SelfServiceHttpTest, TheFormIsRateLimitedPerClientAddress) {
  const auto post = [&](int i, const std::string& peer) {
    return ServeSelfService(
        {page_, &h_.portal, nullptr}, "/subscribe",
        HttpRequest{.method = "POST",
                    .content_type = "application/x-www-form-urlencoded",
                    .body = absl::StrCat("email=p", i, "%40example.com"),
                    .peer = peer});
  };
  for (int i = 0; i < 60; ++i) ASSERT_EQ(post(i, "203.0.113.7").status, 200);
  const HttpReply limited = post(60, "203.0.113.7");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(post(61, "198.51.100.1").status, 200);
  // Over the wire the server passes the connection's own address.
  EXPECT_EQ(PostForm("/subscribe", "email=q%40example.com")->status, 200);
}

TEST_F(SelfServiceHttpTest, BrokenOrExpiredLinksSayWhy) {
  httplib::Result r = client_->Get("/subscribe/confirm?token=c.abc.1.xyz");
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("not valid"));
  ASSERT_EQ(PostForm("/subscribe", "email=dana%40example.com")->status, 200);
  const std::string token = ConfirmTokenFromInbox();
  h_.clock.Advance(absl::Hours(72));
  r = PostForm("/subscribe/confirm", "token=" + token);
  EXPECT_EQ(r->status, 410);
  EXPECT_THAT(r->body, HasSubstr("expired"));
  EXPECT_THAT(r->body, HasSubstr("action=\"/subscribe\""));  // ask again
}

TEST_F(SelfServiceHttpTest, OneClickUnsubscribeAsRfc8058Sends) {
  const std::string token = h_.links.Unsubscribe("globex");
  httplib::Result r = client_->Get("/unsubscribe?token=" + token);
  ASSERT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr(">Unsubscribe</button>"));
  auto globex = [&] {
    return h_
        .Read<v1::Subscriber>(
            [](StoreReader& rd) { return rd.GetSubscriber("globex"); })
        .status();
  };
  EXPECT_NE(globex(), v1::SUBSCRIBER_STATUS_UNSUBSCRIBED);
  // A mail client's one-click POST: the token in the URL, a fixed body.
  r = PostForm("/unsubscribe?token=" + token, "List-Unsubscribe=One-Click");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(globex(), v1::SUBSCRIBER_STATUS_UNSUBSCRIBED);
  // Some send multipart/form-data; the token in the URL is enough.
  r = client_->Post("/unsubscribe?token=" + token,
                    "--b\r\nContent-Disposition: form-data; "
                    "name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n",
                    "multipart/form-data; boundary=b");
  EXPECT_EQ(r->status, 200);
  r = PostForm("/unsubscribe", "token=u.forged.token");
  EXPECT_EQ(r->status, 400);
}

TEST_F(SelfServiceHttpTest, AFollowUpLinkShowsTheAnswerAndItsButtonRecordsIt) {
  // A resolved incident whose apology reached globex.
  const int64_t incident =
      h_.intake.Ingest(testing::FiringGroup("g1", "checkout", {"fp1"}))
          ->incident_id;
  h_.clock.Advance(absl::Minutes(45));
  absl::StatusOr<Resolution> resolved =
      h_.workflow.Resolve(testing::CommsLead(), incident, "");
  ASSERT_TRUE(resolved.ok());
  ASSERT_TRUE(h_.workflow
                  .Approve(testing::CommsLead(), resolved->drafts[1].id(), 0,
                           kAsWritten)
                  .ok());
  const v1::Amends globex = h_.Read<v1::Amends>(
      [&](StoreReader& r) { return r.FindAmends(incident, "globex"); });
  const std::string token =
      h_.links.Answer(globex.id(), v1::FOLLOW_UP_ANSWER_CREDIT_MISSING);
  auto answer = [&] {
    return h_
        .Read<v1::Amends>(
            [&](StoreReader& r) { return r.GetAmends(globex.id()); })
        .credit_answer();
  };

  httplib::Result r = client_->Get("/follow-up?token=" + token);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_THAT(r->body, HasSubstr("your credit has not arrived after INC-1"));
  EXPECT_THAT(r->body, HasSubstr("action=\"/follow-up\""));
  EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(answer(), v1::FOLLOW_UP_ANSWER_UNSPECIFIED)
      << "opening the link records nothing";

  r = PostForm("/follow-up", "token=" + token);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_THAT(r->body, HasSubstr("A person has been told"));
  EXPECT_EQ(answer(), v1::FOLLOW_UP_ANSWER_CREDIT_MISSING);

  r = PostForm("/follow-up", "token=a.forged.token");
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("not valid"));
}

TEST_F(SelfServiceHttpTest, TheFormSpeaksTheBrowsersLanguage) {
  httplib::Result r =
      client_->Get("/subscribe", {{"Accept-Language", "fr;q=1, de-CH;q=0.8"}});
  ASSERT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("<html lang=\"de\">"));
  EXPECT_THAT(r->body, HasSubstr("<h1>Statusmeldungen abonnieren</h1>"));
  // The reader's language is chosen for their emails, and every zone is
  // offered, the organisation's chosen.
  EXPECT_THAT(r->body, HasSubstr("<option value=\"de\" lang=\"de\" "
                                 "selected>Deutsch</option>"));
  EXPECT_THAT(r->body,
              HasSubstr("<option value=\"Asia/Tokyo\">Asia/Tokyo</option>"));
  EXPECT_THAT(r->body, HasSubstr("<option value=\"\" selected>UTC "
                                 "(Standard)</option>"));
  r = client_->Get("/subscribe", {{"Accept-Language", "ja, *;q=0.1"}});
  EXPECT_THAT(r->body, HasSubstr("<h1>Subscribe to status updates</h1>"));
  // What they chose is kept, and the page that answers speaks it.
  r = client_->Post(
      "/subscribe",
      "email=jo%40example.com&component=checkout&locale=de&time_zone="
      "Asia%2FTokyo",
      "application/x-www-form-urlencoded");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_THAT(r->body, HasSubstr("Bitte sehen Sie in Ihr Postfach"));
  const v1::Subscriber jo = h_.Read<v1::Subscriber>([](StoreReader& rd) {
    return rd.FindSubscriberByEmail("jo@example.com");
  });
  EXPECT_EQ(jo.locale(), "de");
  EXPECT_EQ(jo.time_zone(), "Asia/Tokyo");
}

TEST_F(SelfServiceHttpTest,
       ThePreferencesPageChangesASubscriptionWithoutScript) {
  const std::string token = h_.links.Manage("globex");
  httplib::Result r = client_->Get("/preferences?token=" + token);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer");
  EXPECT_THAT(r->get_header_value("Content-Security-Policy"),
              HasSubstr("default-src 'none'"));
  EXPECT_THAT(r->body, HasSubstr("<form class=\"subscribe\" method=\"post\" "
                                 "action=\"/preferences\">"));
  EXPECT_THAT(r->body, HasSubstr("<h1>Your subscription</h1>"));
  EXPECT_THAT(r->body, Not(HasSubstr("<script")));

  r = PostForm(
      "/preferences",
      "token=" + token + "&component=api&locale=de&time_zone=Europe%2FBerlin");
  ASSERT_EQ(r->status, 200) << r->body;
  // Saved, and the page already speaks the language chosen.
  EXPECT_THAT(r->body, HasSubstr("<h1>Ihre Änderungen sind gespeichert</h1>"));
  EXPECT_THAT(r->body, HasSubstr("value=\"api\" checked"));
  EXPECT_THAT(r->body, HasSubstr("<option value=\"Europe/Berlin\" "
                                 "selected>Europe/Berlin</option>"));
  const v1::Subscriber globex = h_.Read<v1::Subscriber>(
      [](StoreReader& rd) { return rd.GetSubscriber("globex"); });
  EXPECT_THAT(globex.component_ids(), ElementsAre("api"));
  EXPECT_EQ(globex.locale(), "de");
  EXPECT_EQ(globex.time_zone(), "Europe/Berlin");

  // A bad choice: 400, the problem worded in their language, what they
  // chose kept, nothing stored.
  r = PostForm("/preferences", "token=" + token +
                                   "&component=checkout&locale=de&time_zone="
                                   "Mars%2FBase");
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body,
              HasSubstr("Bitte wählen Sie eine Zeitzone aus der Liste."));
  EXPECT_THAT(r->body, HasSubstr("value=\"checkout\" checked"));
  EXPECT_EQ(h_.Read<v1::Subscriber>([](StoreReader& rd) {
                return rd.GetSubscriber("globex");
              }).time_zone(),
            "Europe/Berlin");

  // Another link's token is refused; so is a page without one.
  EXPECT_EQ(client_->Get("/preferences?token=" + h_.links.Unsubscribe("globex"))
                ->status,
            400);
  EXPECT_EQ(client_->Get("/preferences")->status, 400);
  EXPECT_EQ(
      client_->Post("/preferences?token=" + token, "{}", "application/json")
          ->status,
      415);
}

TEST_F(SelfServiceHttpTest, ChannelsAreReorderedByPlaceAndAClashIsRefused) {
  v1::Subscriber s;
  s.set_id("ursula");
  s.set_email("ursula@example.com");
  s.add_component_ids("checkout");
  for (const auto& [kind, address] :
       {std::pair{v1::CHANNEL_KIND_EMAIL, "ursula@example.com"},
        std::pair{v1::CHANNEL_KIND_SMS, "+4915112345678"}}) {
    v1::Contact* c = s.add_contacts();
    c->set_channel(kind);
    c->set_address(address);
  }
  ASSERT_TRUE(h_.subscribers.Add(testing::CommsLead(), s).ok());
  const std::string token = h_.links.Manage("ursula");
  httplib::Result r = client_->Get("/preferences?token=" + token);
  ASSERT_EQ(r->status, 200);
  // The number is shown only as its last digits.
  EXPECT_THAT(r->body, HasSubstr("SMS (\u2026678)"));
  EXPECT_THAT(r->body, Not(HasSubstr("4915112345678")));
  // The page shows the channels by position, with a keyed proof of which
  // they were: nothing in it reveals the number.
  std::smatch fingerprint;
  ASSERT_TRUE(std::regex_search(
      r->body, fingerprint,
      std::regex("name=\"channels\" value=\"([A-Za-z0-9_-]+)\"")));
  EXPECT_THAT(r->body,
              Not(HasSubstr(Sha256Hex("+4915112345678").substr(0, 8))));
  const std::string form = absl::StrCat(
      "token=", token, "&component=checkout&channels=", fingerprint[1].str());
  r = PostForm("/preferences", form + "&order.0=1&order.1=1");
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("its own place"));
  r = PostForm("/preferences", form + "&order.0=2&order.1=1");
  ASSERT_EQ(r->status, 200) << r->body;
  const v1::Subscriber stored = h_.Read<v1::Subscriber>(
      [](StoreReader& rd) { return rd.GetSubscriber("ursula"); });
  EXPECT_EQ(stored.contacts(0).channel(), v1::CHANNEL_KIND_SMS);
  EXPECT_EQ(stored.contacts(1).channel(), v1::CHANNEL_KIND_EMAIL);
}

TEST_F(SelfServiceHttpTest, SavingThePreferencesPageUnchangedChangesNothing) {
  // Initech has no language or zone of its own and follows the
  // organisation's; "wien" has a region's language and a zone ICU lists
  // under another name. Saving the page as shown keeps both as they are.
  v1::Subscriber wien;
  wien.set_id("wien");
  wien.set_email("wien@example.at");
  wien.set_locale("de-AT");
  wien.set_time_zone("Asia/Kolkata");
  wien.add_component_ids("checkout");
  ASSERT_TRUE(h_.subscribers.Add(testing::CommsLead(), wien).ok());
  const auto audited = [&] {
    return h_
        .Read<std::vector<v1::AuditEntry>>(
            [](StoreReader& rd) { return rd.ListAudit(0); })
        .size();
  };
  for (const std::string id : {"initech", "wien"}) {
    const std::string token = h_.links.Manage(id);
    const std::string page = client_->Get("/preferences?token=" + token)->body;
    // What a browser submits for the form as shown: each select's chosen
    // option, each ticked component.
    std::string form = "token=" + token;
    for (const std::string select : {"locale", "time_zone"}) {
      const size_t at = page.find("name=\"" + select + "\"");
      ASSERT_NE(at, std::string::npos) << select;
      const std::string rest = page.substr(at, page.find("</select>", at) - at);
      std::smatch chosen;
      ASSERT_TRUE(std::regex_search(
          rest, chosen,
          std::regex("<option value=\"([^\"]*)\"[^>]* selected>")))
          << id << " " << select;
      absl::StrAppend(&form, "&", select, "=", chosen[1].str());
    }
    const v1::Subscriber before = h_.Read<v1::Subscriber>(
        [&](StoreReader& rd) { return rd.GetSubscriber(id); });
    for (const std::string& c : before.component_ids()) {
      absl::StrAppend(&form, "&component=", c);
    }
    const size_t entries = audited();
    ASSERT_EQ(PostForm("/preferences", form)->status, 200) << id << " " << form;
    const v1::Subscriber after = h_.Read<v1::Subscriber>(
        [&](StoreReader& rd) { return rd.GetSubscriber(id); });
    EXPECT_EQ(after.locale(), before.locale()) << id;
    EXPECT_EQ(after.time_zone(), before.time_zone()) << id;
    EXPECT_EQ(audited(), entries) << id;
  }
}

}  // namespace http_testing
}  // namespace herald
