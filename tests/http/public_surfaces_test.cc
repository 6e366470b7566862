// Only approved words are public. Text from alerts (labels, annotations) and
// engineers' notes stays off every public surface (the status page, each
// Statuspage JSON endpoint, the Atom feed, and every email, webhook, Slack
// and SMS body sent to subscribers) until a person approves text that holds
// it. And whatever characters such text carries, the public formats stay
// well-formed.
#include <httplib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/secret_token.h"
#include "server/base/text.h"
#include "server/delivery/delivery_composer.h"
#include "server/http/http_server.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using testing::CommsLead;
using testing::CoreHarness;
using testing::Engineer;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReadTestData;

constexpr char kWebhookToken[] = "webhook-secret";
constexpr char kSentinel[] = "SENTINEL-q7Zx";

// Every public document and the paths that serve them.
const char* const kPublicPaths[] = {
    "/",
    "/history.atom",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
};

v1::Contact MakeContact(v1::ChannelKind channel, const std::string& address) {
  v1::Contact c;
  c.set_channel(channel);
  c.set_address(address);
  return c;
}

class PublicSurfacesTest : public ::testing::Test {
 protected:
  PublicSurfacesTest()
      : page_(h_.deps),
        server_(HttpDeps{.intake = h_.intake,
                         .status_page = page_,
                         .registry = h_.registry,
                         .metrics = h_.http_metrics,
                         .webhook_token_sha256 = Sha256Hex(kWebhookToken),
                         .webhook_basic_username = "alertmanager",
                         .max_request_bytes = 1 << 20,
                         .max_inflight_webhooks = 4,
                         .ready = [] { return true; },
                         .io_threads = 2,
                         .portal = &h_.portal,
                         .follow_ups = &h_.follow_ups}),
        composer_(h_.drafter, h_.org,
                  ComposerOptions{"https://status.acme.example",
                                  "https://sms.example/send",
                                  {},
                                  &h_.links}) {
    port_ = *server_.Bind("127.0.0.1:0");
    server_.Start();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    // A checkout subscriber reached on every channel herald has.
    v1::Subscriber ops;
    ops.set_id("acme-ops");
    ops.set_name("Acme Ops");
    ops.set_email("ops@acme.example");
    ops.add_component_ids("checkout");
    *ops.add_contacts() =
        MakeContact(v1::CHANNEL_KIND_EMAIL, "ops@acme.example");
    *ops.add_contacts() =
        MakeContact(v1::CHANNEL_KIND_WEBHOOK, "https://hooks.acme.example/h");
    *ops.add_contacts() = MakeContact(v1::CHANNEL_KIND_SLACK,
                                      "https://hooks.slack.example/services/x");
    *ops.add_contacts() = MakeContact(v1::CHANNEL_KIND_SMS, "+4915112345678");
    EXPECT_TRUE(
        h_.store->Write([&](StoreTxn& t) { return t.PutSubscriber(ops); })
            .ok());
  }

  // Alertmanager's notification with `text` in a label, the summary and the
  // description annotations.
  void FireAlertCarrying(const std::string& text) {
    std::string body = ReadTestData("alertmanager/firing-single.json");
    body = absl::StrReplaceAll(
        body,
        {{R"("summary":"5xx above 5%")",
          absl::StrCat(R"("summary":"5xx above 5% )", text,
                       R"(","description":"errors in )", text, R"(")")},
         {R"("severity":"critical")",
          absl::StrCat(R"("severity":"critical","pod":")", text, R"(")")}});
    httplib::Headers headers{
        {"Authorization", std::string("Bearer ") + kWebhookToken}};
    auto r = client_->Post("/webhooks/alertmanager", headers, body,
                           "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }

  // Each public document, by path.
  std::vector<std::pair<std::string, std::string>> PublicDocuments() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const char* path : kPublicPaths) {
      auto r = client_->Get(path);
      EXPECT_TRUE(r) << path;
      if (!r) continue;
      EXPECT_EQ(r->status, 200) << path;
      out.emplace_back(path, r->body);
    }
    return out;
  }

  // Everything every subscriber is sent, on each of their channels, for
  // every published message: subject, text, HTML and JSON bodies.
  std::vector<std::string> SubscriberBodies() {
    std::vector<std::string> out;
    std::vector<v1::Delivery> deliveries;
    const std::vector<v1::Message> published =
        h_.queries.ListMessages(0, {v1::MESSAGE_STATE_PUBLISHED})->items;
    for (const v1::Message& m : published) {
      for (v1::Delivery& d : h_.Read<std::vector<v1::Delivery>>(
               [&](StoreReader& r) { return r.ListDeliveries(m.id(), 0); })) {
        deliveries.push_back(std::move(d));
      }
    }
    for (const v1::Delivery& d : deliveries) {
      if (d.recipient().rfind("subscriber:", 0) != 0) continue;
      h_.Read<int>([&](StoreReader& r) -> absl::StatusOr<int> {
        absl::StatusOr<Recipient> who = composer_.LoadRecipient(r, d);
        if (!who.ok()) return who.status();
        for (int c = 0; c < static_cast<int>(who->contacts.size()); ++c) {
          absl::StatusOr<Outgoing> o = composer_.Compose(r, d, *who, c);
          if (!o.ok()) return o.status();
          out.push_back(absl::StrCat(o->subject, "\n", o->text, "\n", o->html,
                                     "\n", o->json));
        }
        return 0;
      });
    }
    return out;
  }

  int64_t IncidentId() {
    return h_.queries.ListIncidents(true)->items.front().id();
  }

  void ExpectNowhere(const std::string& text) {
    for (const auto& [path, body] : PublicDocuments()) {
      EXPECT_THAT(body, Not(HasSubstr(text))) << path;
    }
    for (const std::string& sent : SubscriberBodies()) {
      EXPECT_THAT(sent, Not(HasSubstr(text)));
    }
  }

  CoreHarness h_;
  StatusPage page_;
  HttpServer server_;
  DeliveryComposer composer_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(PublicSurfacesTest, AlertAndNoteTextIsPublicOnlyOnceApproved) {
  FireAlertCarrying(kSentinel);
  const int64_t id = IncidentId();
  ASSERT_THAT(h_.queries.GetIncident(id)->incident.title(),
              HasSubstr(kSentinel));
  const v1::Message draft =
      h_.workflow
          .PostUpdate(Engineer(), id, absl::StrCat("restarted ", kSentinel),
                      {.next_step = absl::StrCat("watch ", kSentinel)})
          ->draft;
  ASSERT_THAT(draft.body(), HasSubstr(kSentinel));
  ExpectNowhere(kSentinel);

  // The comms lead rewrites it in customers' words and approves.
  ASSERT_TRUE(h_.workflow
                  .Edit(CommsLead(), draft.id(), 0, "Checkout errors",
                        "We are fixing errors at checkout.")
                  .ok());
  ASSERT_TRUE(h_.workflow.Approve(CommsLead(), draft.id(), 0, kAsWritten).ok());
  ASSERT_FALSE(SubscriberBodies().empty());
  ExpectNowhere(kSentinel);
  EXPECT_THAT(client_->Get("/")->body, HasSubstr("Checkout errors"));

  // Resolving with a note that carries it: still nowhere until approved.
  ASSERT_TRUE(
      h_.workflow.Resolve(Engineer(), id, absl::StrCat("fixed ", kSentinel))
          .ok());
  ExpectNowhere(kSentinel);

  // A person approves text that holds it: now it is public, in the body
  // they approved and not as the incident's name.
  std::vector<v1::Message> waiting = h_.queries.ListMessages(id, {})->items;
  const auto resolution =
      std::find_if(waiting.begin(), waiting.end(), [](const v1::Message& m) {
        return m.kind() == v1::MESSAGE_KIND_RESOLUTION;
      });
  ASSERT_NE(resolution, waiting.end());
  ASSERT_THAT(resolution->body(), HasSubstr(kSentinel));
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), resolution->id(), 0, kAsWritten).ok());
  for (const char* path : {"/", "/history.atom", "/api/v2/incidents.json"}) {
    EXPECT_THAT(client_->Get(path)->body, HasSubstr(kSentinel)) << path;
  }
  bool sent = false;
  for (const std::string& body : SubscriberBodies()) {
    sent |= body.find(kSentinel) != std::string::npos;
  }
  EXPECT_TRUE(sent);
  const v1::statuspage::Summary history = *page_.History(10);
  ASSERT_EQ(history.incidents_size(), 1);
  // It keeps the name its last update gave it, as on Statuspage.
  EXPECT_EQ(history.incidents(0).name(), "Checkout errors");
}

// Whether /usr/bin/python3's XML parser (expat) accepts `document`;
// nullopt when there is no python3 to ask.
std::optional<bool> ParsesAsXml(const std::string& document) {
  if (!std::filesystem::exists("/usr/bin/python3")) return std::nullopt;
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      absl::StrCat("herald-feed-", getpid(), ".xml");
  {
    std::ofstream out(path, std::ios::binary);
    out << document;
  }
  const int rc = std::system(
      absl::StrCat("/usr/bin/python3 -c 'import sys, xml.dom.minidom; "
                   "xml.dom.minidom.parse(sys.argv[1])' ",
                   path.string(), " 2>/dev/null")
          .c_str());
  std::filesystem::remove(path);
  return rc == 0;
}

// Whether `text` holds a character XML 1.0 cannot carry, or is not UTF-8.
bool HasForbiddenCharacters(const std::string& text) {
  return ScrubText(text) != text;
}

TEST_F(PublicSurfacesTest, ControlCharactersNeverBreakAPublicFormat) {
  // Control characters, DEL, a C1 control, U+FFFE and U+FFFF: valid UTF-8
  // that XML 1.0 cannot carry, straight into the domain (past any edge).
  const std::string hostile =
      "bad\x01\x08\x1b[31m\x7f\xC2\x85\xEF\xBF\xBE\xEF\xBF\xBF";
  v1::AlertGroup group = testing::FiringGroup("g1", "checkout", {"fp1"});
  (*group.mutable_common_annotations())["summary"] = "summary " + hostile;
  (*group.mutable_common_annotations())["description"] = "errors " + hostile;
  ASSERT_TRUE(h_.intake.Ingest(group).ok());
  const int64_t id = IncidentId();
  // Drafts come through the renderer, which scrubs; a person's edit does
  // not, and is approved as typed.
  std::vector<v1::Message> waiting = h_.queries.ListMessages(id, {})->items;
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_FALSE(HasForbiddenCharacters(waiting[0].body()));
  ASSERT_TRUE(h_.workflow
                  .Edit(CommsLead(), waiting[0].id(), 0,
                        "Checkout \x01 errors \xEF\xBF\xBE",
                        "Errors \x1b[31m at checkout \xEF\xBF\xBF\x7f.")
                  .ok());
  ASSERT_TRUE(
      h_.workflow.Approve(CommsLead(), waiting[0].id(), 0, kAsWritten).ok());

  const auto documents = PublicDocuments();
  for (const auto& [path, body] : documents) {
    EXPECT_FALSE(HasForbiddenCharacters(body)) << path;
  }
  const std::string feed = client_->Get("/history.atom")->body;
  EXPECT_THAT(feed, HasSubstr("<entry>"));
  EXPECT_THAT(feed, HasSubstr("Checkout \xEF\xBF\xBD errors"));
  const std::optional<bool> parsed = ParsesAsXml(feed);
  if (parsed.has_value()) EXPECT_TRUE(*parsed) << feed;
  for (const std::string& sent : SubscriberBodies()) {
    EXPECT_FALSE(HasForbiddenCharacters(sent)) << sent;
  }
}

}  // namespace
}  // namespace herald
