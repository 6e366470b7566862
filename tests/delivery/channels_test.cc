// The channels against real receivers on 127.0.0.1: an HTTP server
// (cpp-httplib) for webhooks, Slack and SMS, and a closed port for SMTP.
#include <httplib.h>

#include <atomic>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/delivery/http_channel.h"
#include "server/delivery/smtp_channel.h"
#include "server/delivery/webhook_signature.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(WebhookSignatureTest, MatchesTheStandardWebhooksTestVector) {
  // From the Standard Webhooks specification's reference tests.
  EXPECT_EQ(
      *StandardWebhookSignature({"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
                                "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                R"({"test": 2432232314})"),
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSignatureTest, EverySecretSignsWhileOneIsRotated) {
  const std::string both = *StandardWebhookSignature(
      {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2Vjb25k"}, "id", 1,
      "{}");
  const std::string old_only =
      *StandardWebhookSignature({"whsec_c2Vjb25k"}, "id", 1, "{}");
  EXPECT_THAT(both, HasSubstr(" " + old_only));
  EXPECT_THAT(both, StartsWith("v1,"));
}

TEST(WebhookSignatureTest, SecretThatIsNotBase64IsRefusedWithoutEchoingIt) {
  absl::StatusOr<std::string> s =
      StandardWebhookSignature({"whsec_!!notbase64!!"}, "id", 1, "{}");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), Not(HasSubstr("notbase64")));
}

class HttpChannelTest : public ::testing::Test {
 protected:
  HttpChannelTest() {
    server_.Post("/hook",
                 [&](const httplib::Request& req, httplib::Response& res) {
                   last_ = req;
                   ++hits_;
                   res.status = status_;
                   if (!retry_after_.empty())
                     res.set_header("Retry-After", retry_after_);
                   res.set_content("{}", "application/json");
                 });
    server_.Post("/slow", [&](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      res.status = 200;
    });
    server_.Post("/moved", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/hook", 307);
    });
    // One request per connection: a kept-alive connection would hold
    // stop() for the server's keep-alive timeout (5 s).
    server_.set_keep_alive_max_count(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([&] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~HttpChannelTest() override {
    server_.stop();
    thread_.join();
  }

  Outgoing Hook(const std::string& path = "/hook") {
    Outgoing o;
    o.channel = v1::CHANNEL_KIND_WEBHOOK;
    o.address = absl::StrCat("http://127.0.0.1:", port_, path);
    o.idempotency_key = "msg-7-subscriber-acme.0";
    o.signing_secrets = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    o.json = R"({"type":"incident.updated"})";
    return o;
  }

  FakeClock clock_{testing::TestEpoch()};
  HttpChannel channel_{HttpChannelOptions{absl::Milliseconds(500)}, clock_};
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  httplib::Request last_;
  std::atomic<int> hits_{0};
  int status_ = 200;
  std::string retry_after_;
};

TEST_F(HttpChannelTest, SignedPostIsDeliveredOn2xx) {
  status_ = 204;
  EXPECT_TRUE(channel_.Send(Hook()).delivered());
  EXPECT_EQ(last_.body, R"({"type":"incident.updated"})");
  EXPECT_EQ(last_.get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(last_.get_header_value("webhook-id"), "msg-7-subscriber-acme.0");
  const std::string ts = absl::StrCat(absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(last_.get_header_value("webhook-timestamp"), ts);
  EXPECT_EQ(
      last_.get_header_value("webhook-signature"),
      *StandardWebhookSignature(
          {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "msg-7-subscriber-acme.0",
          absl::ToUnixSeconds(clock_.Now()), R"({"type":"incident.updated"})"));
}

TEST_F(HttpChannelTest, UnsignedPostCarriesNoSignatureHeaders) {
  Outgoing slack = Hook();
  slack.channel = v1::CHANNEL_KIND_SLACK;
  slack.signing_secrets.clear();
  EXPECT_TRUE(channel_.Send(slack).delivered());
  EXPECT_FALSE(last_.has_header("webhook-signature"));
}

TEST_F(HttpChannelTest, GoneEndpointIsReportedGone) {
  status_ = 410;
  EXPECT_EQ(channel_.Send(Hook()).outcome, SendResult::Outcome::kGone);
}

TEST_F(HttpChannelTest, TooManyRequestsIsRetriedAfterTheReceiversDelay) {
  status_ = 429;
  retry_after_ = "120";
  const SendResult r = channel_.Send(Hook());
  EXPECT_EQ(r.outcome, SendResult::Outcome::kRetry);
  EXPECT_EQ(r.retry_after, absl::Minutes(2));
}

TEST_F(HttpChannelTest, ServerErrorIsRetried) {
  status_ = 503;
  const SendResult r = channel_.Send(Hook());
  EXPECT_EQ(r.outcome, SendResult::Outcome::kRetry);
  EXPECT_THAT(r.error, HasSubstr("HTTP 503"));
}

TEST_F(HttpChannelTest, OtherClientErrorIsRejectedWithoutRetry) {
  status_ = 400;
  EXPECT_EQ(channel_.Send(Hook()).outcome, SendResult::Outcome::kRejected);
}

TEST_F(HttpChannelTest, RedirectIsNotFollowed) {
  const SendResult r = channel_.Send(Hook("/moved"));
  EXPECT_EQ(r.outcome, SendResult::Outcome::kRejected);
  EXPECT_EQ(hits_, 0);
}

TEST_F(HttpChannelTest, ReceiverPastTheTimeoutIsRetried) {
  const SendResult r = channel_.Send(Hook("/slow"));
  EXPECT_EQ(r.outcome, SendResult::Outcome::kRetry);
}

// The SMS gateway and Slack serve every recipient: their trouble is the
// channel's, and uses up no recipient's attempts. A customer's own endpoint
// (above) answers for that customer alone.
TEST_F(HttpChannelTest, SharedProvidersTroubleIsTheChannelsNotTheRecipients) {
  HttpChannel provider(HttpChannelOptions{.timeout = absl::Milliseconds(500),
                                          .shared_endpoint = true},
                       clock_);
  for (int status : {500, 503, 429, 408}) {
    status_ = status;
    EXPECT_EQ(provider.Send(Hook()).outcome, SendResult::Outcome::kChannelDown)
        << status;
  }
  Outgoing unreachable = Hook();
  unreachable.address = "http://127.0.0.1:1/send";
  EXPECT_EQ(provider.Send(unreachable).outcome,
            SendResult::Outcome::kChannelDown);
  EXPECT_EQ(provider.Send(Hook("/slow")).outcome,
            SendResult::Outcome::kChannelDown);
  status_ = 400;  // this message or number: the recipient's
  EXPECT_EQ(provider.Send(Hook()).outcome, SendResult::Outcome::kRejected);
  status_ = 410;
  EXPECT_EQ(provider.Send(Hook()).outcome, SendResult::Outcome::kGone);
  status_ = 200;
  EXPECT_TRUE(provider.Send(Hook()).delivered());
}

TEST_F(HttpChannelTest, ErrorsNameTheHostButNeverThePath) {
  Outgoing o = Hook("/services/T000/B000/s3cretpath");
  o.address = "http://127.0.0.1:1/services/T000/B000/s3cretpath";
  const SendResult r = channel_.Send(o);
  EXPECT_EQ(r.outcome, SendResult::Outcome::kRetry);
  EXPECT_THAT(r.error, HasSubstr("127.0.0.1:1"));
  EXPECT_THAT(r.error, Not(HasSubstr("s3cret")));
}

Outgoing Email() {
  Outgoing o;
  o.channel = v1::CHANNEL_KIND_EMAIL;
  o.address = "grace@globex.example";
  o.subject = "Grace, we are sorry — really";
  o.text = "line one\nline two\n";
  o.idempotency_key = "msg-3-subscriber-globex.0";
  return o;
}

TEST(SmtpChannelTest, HeadersAreDerivedFromTheDelivery) {
  FakeClock clock(testing::TestEpoch());
  SmtpChannel smtp({"smtp://127.0.0.1:1", "status@acme.example", "Acme Cloud",
                    "", "", absl::Seconds(1)},
                   clock);
  const std::vector<std::string> h = smtp.Headers(Email());
  EXPECT_THAT(h, Contains("From: Acme Cloud <status@acme.example>"));
  EXPECT_THAT(h, Contains("To: <grace@globex.example>"));
  EXPECT_THAT(h,
              Contains("Message-ID: <msg-3-subscriber-globex.0@acme.example>"));
  EXPECT_THAT(h, Contains(StartsWith("Subject: =?UTF-8?B?")));
  EXPECT_THAT(h, Contains("Date: Mon, 23 Nov 2026 10:00:00 +0000"));
  EXPECT_THAT(h, Not(Contains(StartsWith("List-Unsubscribe"))));
}

TEST(SmtpChannelTest, SubscriberEmailOffersOneClickUnsubscribe) {
  FakeClock clock(testing::TestEpoch());
  SmtpChannel smtp({"smtp://127.0.0.1:1", "status@acme.example", "Acme Cloud",
                    "", "", absl::Seconds(1)},
                   clock);
  Outgoing o = Email();
  o.unsubscribe_url = "https://status.acme.example/unsubscribe?token=abc";
  const std::vector<std::string> h = smtp.Headers(o);
  EXPECT_THAT(h,
              Contains("List-Unsubscribe: "
                       "<https://status.acme.example/unsubscribe?token=abc>"));
  EXPECT_THAT(h, Contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
  EXPECT_THAT(h, Contains("List-Id: Acme Cloud <updates.acme.example>"));
}

TEST(SmtpChannelTest, CustomerEmailSaysWhereRepliesGo) {
  FakeClock clock(testing::TestEpoch());
  SmtpChannel smtp({"smtp://127.0.0.1:1", "status@acme.example", "Acme Cloud",
                    "", "", absl::Seconds(1)},
                   clock);
  Outgoing o = Email();
  EXPECT_THAT(smtp.Headers(o), Not(Contains(StartsWith("Reply-To"))));
  o.reply_to = "care@acme.example";
  EXPECT_THAT(smtp.Headers(o), Contains("Reply-To: <care@acme.example>"));
  // Never a header injection, whatever reaches the channel.
  o.reply_to = "care@acme.example>\r\nBcc: <all@x.example";
  EXPECT_THAT(smtp.Headers(o), Not(Contains(StartsWith("Reply-To"))));
}

TEST(SmtpChannelTest, UnreachableRelayIsTheChannelsFaultNotTheRecipients) {
  FakeClock clock(testing::TestEpoch());
  SmtpChannel smtp({"smtp://127.0.0.1:1", "status@acme.example", "", "", "",
                    absl::Seconds(2)},
                   clock);
  EXPECT_EQ(smtp.Send(Email()).outcome, SendResult::Outcome::kChannelDown);
}

TEST(SmtpChannelTest, InvalidSenderAddressIsTheChannelsFault) {
  FakeClock clock(testing::TestEpoch());
  SmtpChannel smtp(
      {"smtp://127.0.0.1:1", "not an address", "", "", "", absl::Seconds(1)},
      clock);
  const SendResult r = smtp.Send(Email());
  EXPECT_EQ(r.outcome, SendResult::Outcome::kChannelDown);
  EXPECT_THAT(r.error, HasSubstr("smtp.from"));
}

TEST(SmtpChannelTest, ErrorsNeverRepeatCredentialsFromTheUrl) {
  FakeClock clock(testing::TestEpoch());
  SmtpChannel smtp({"smtp://mailer:s3cret@127.0.0.1:1", "status@acme.example",
                    "", "", "", absl::Seconds(2)},
                   clock);
  const SendResult r = smtp.Send(Email());
  EXPECT_FALSE(r.delivered());
  EXPECT_THAT(r.error, Not(HasSubstr("s3cret")));
  EXPECT_THAT(r.error, HasSubstr("127.0.0.1:1"));
}

TEST(SmtpChannelTest, AddressWithHeaderInjectionIsRefused) {
  FakeClock clock(testing::TestEpoch());
  SmtpChannel smtp({"smtp://127.0.0.1:1", "status@acme.example", "", "", "",
                    absl::Seconds(1)},
                   clock);
  Outgoing o = Email();
  o.address = "a@b.c>\r\nBcc: <x@y.z";
  EXPECT_EQ(smtp.Send(o).outcome, SendResult::Outcome::kRejected);
}

}  // namespace
}  // namespace herald
