// The CLI's commands against a real in-process server.
#include "cli/cli.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/grpc_harness.h"

namespace herald::cli {
namespace {

using herald::testing::FiringGroup;
using herald::testing::GrpcHarness;
using herald::testing::TokenFor;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class CliTest : public ::testing::Test {
 protected:
  struct Outcome {
    int code;
    std::string out, err;
  };

  Outcome Run(std::vector<std::string> args,
              const std::string& person = "alice") {
    args.insert(args.begin(), "herald");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    Connector connect = [this](const ConnectOptions& o) {
      EXPECT_EQ(o.server, h_.address());
      Stubs s;
      s.incidents = v1::IncidentService::NewStub(h_.channel);
      s.messages = v1::MessageService::NewStub(h_.channel);
      s.oncall = v1::OnCallService::NewStub(h_.channel);
      s.subscribers = v1::SubscriberService::NewStub(h_.channel);
      s.aftercare = v1::AftercareService::NewStub(h_.channel);
      s.admin = v1::AdminService::NewStub(h_.channel);
      s.health = grpc::health::v1::Health::NewStub(h_.channel);
      return s;
    };
    auto env = [&](const char* name) -> std::string {
      if (std::string(name) == "HERALD_SERVER") return h_.address();
      if (std::string(name) == "HERALD_TOKEN")
        return person.empty() ? "" : TokenFor(person);
      if (std::string(name) == "EDITOR") return editor_;
      return "";
    };
    const int code = cli::Run(static_cast<int>(argv.size()), argv.data(),
                              connect, env, out, err);
    return {code, out.str(), err.str()};
  }

  std::string OpenIncident() {
    return h_.core.queries
        .GetIncident(
            h_.core.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))
                ->incident_id)
        ->incident()
        .ref();
  }

  // The draft an update on a fresh incident makes; returns its ref.
  std::string Draft() {
    return DraftRef(
        Run({"update", OpenIncident(), "rolled back, errors falling"}));
  }
  static std::string DraftRef(const Outcome& update) {
    EXPECT_EQ(update.code, kExitOk) << update.err;
    std::smatch ref;
    EXPECT_TRUE(std::regex_search(update.out, ref, std::regex("MSG-[0-9]+")));
    return ref.empty() ? "" : ref.str();
  }

  GrpcHarness h_;
  std::string editor_;  // $EDITOR as the CLI sees it
};

TEST_F(CliTest, UpdateStoresTheNoteAndPrintsTheDraft) {
  const std::string inc = OpenIncident();
  Outcome o = Run(
      {"update", inc, "rolled back, errors falling", "--status", "identified"});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("MSG-"));
  EXPECT_THAT(o.out, HasSubstr("Rolled back, errors falling."));
  EXPECT_THAT(o.err, IsEmpty());
}

TEST_F(CliTest, ApprovalByAnEngineerFailsWithOneLineOnStderr) {
  const std::string inc = OpenIncident();
  ASSERT_EQ(Run({"update", inc, "x"}).code, kExitOk);
  Outcome o = Run({"approve", "MSG-1"}, "alice");
  EXPECT_EQ(o.code, kExitError);
  EXPECT_THAT(o.err, HasSubstr("permission denied"));
  EXPECT_THAT(o.err, HasSubstr("comms_lead"));
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1);
  EXPECT_THAT(o.out, IsEmpty());
}

TEST_F(CliTest, CommsLeadApprovesAndTheMessageLeavesTheDraftList) {
  const std::string msg = Draft();
  Outcome listed = Run({"messages"}, "carol");
  EXPECT_THAT(listed.out, HasSubstr(msg));
  Outcome o = Run({"approve", msg}, "carol");
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("published"));
  // Published: a delivery is queued for each subscriber of checkout.
  const int64_t id = std::stoll(msg.substr(msg.find('-') + 1));
  EXPECT_THAT(h_.core.Read<std::vector<v1::Delivery>>(
                  [&](StoreReader& r) { return r.ListDeliveries(id, 0); }),
              Not(IsEmpty()));
  EXPECT_THAT(Run({"messages"}, "carol").out, Not(HasSubstr(msg)));
}

TEST_F(CliTest, InboxShowsAudienceAndAnOverdueUpdate) {
  const std::string msg = Draft();
  Outcome o = Run({"inbox"}, "carol");
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr(msg));
  EXPECT_THAT(o.out, Not(HasSubstr("OVERDUE")));
  h_.core.clock.Advance(absl::Hours(3));
  EXPECT_THAT(Run({"inbox"}, "alice").out, HasSubstr("OVERDUE since"));
  Outcome json = Run({"inbox", "-o", "json"}, "carol");
  v1::GetInboxResponse parsed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(json.out, &parsed).ok())
      << json.out;
  ASSERT_EQ(parsed.items_size(), 1);
  EXPECT_EQ(parsed.items(0).message().ref(), msg);
  EXPECT_EQ(parsed.items(0).audience_size(), 2);
  EXPECT_TRUE(parsed.items(0).update_overdue());
}

TEST_F(CliTest, JsonOutputIsTheProtobufMappingOfTheResponse) {
  const std::string inc = OpenIncident();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"incidents", "-o", "json"}, {"-o", "json", "incidents"}}) {
    Outcome o = Run(args);
    ASSERT_EQ(o.code, kExitOk) << o.err;
    v1::ListIncidentsResponse parsed;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(o.out, &parsed).ok())
        << o.out;
    ASSERT_EQ(parsed.incidents_size(), 1);
    EXPECT_EQ(parsed.incidents(0).ref(), inc);
  }
  v1::GetIncidentResponse shown;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  Run({"show", inc, "-o", "json"}).out, &shown)
                  .ok());
  EXPECT_EQ(shown.incident().ref(), inc);
  v1::GetOnCallResponse oncall;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  Run({"oncall", "-o", "json"}).out, &oncall)
                  .ok());
  EXPECT_EQ(oncall.assignments_size(), 1);
}

TEST_F(CliTest, ShowPrintsTheTimeline) {
  const std::string inc = OpenIncident();
  Outcome o = Run({"show", inc});
  EXPECT_EQ(o.code, kExitOk);
  EXPECT_THAT(o.out, HasSubstr("Timeline"));
  EXPECT_THAT(o.out, HasSubstr("opened"));
  EXPECT_THAT(o.out, HasSubstr("point person"));
}

TEST_F(CliTest, ResolveListsTheDrafts) {
  const std::string inc = OpenIncident();
  Outcome o = Run({"resolve", inc, "--note", "bad deploy rolled back"});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("resolution"));
  EXPECT_THAT(o.out, HasSubstr("apology"));
}

TEST_F(CliTest, MissingTokenIsUnauthenticated) {
  Outcome o = Run({"incidents"}, "");
  EXPECT_EQ(o.code, kExitError);
  EXPECT_THAT(o.err, HasSubstr("unauthenticated"));
}

TEST_F(CliTest, UnknownIncidentIsNotFound) {
  Outcome o = Run({"show", "INC-99"});
  EXPECT_EQ(o.code, kExitError);
  EXPECT_THAT(o.err, HasSubstr("not found"));
}

TEST_F(CliTest, UsageErrorsExitTwoWithoutCallingTheServer) {
  Outcome missing = Run({"update"});
  EXPECT_EQ(missing.code, kExitUsage);
  EXPECT_THAT(missing.err, HasSubstr("INCIDENT"));
  EXPECT_EQ(Run({"update", "INC-1", "x", "--status", "resolved"}).code,
            kExitUsage);
  EXPECT_EQ(Run({"incidents", "-o", "yaml"}).code, kExitUsage);
  EXPECT_EQ(Run({}).code, kExitUsage);
}

TEST_F(CliTest, AckStopsEscalationAndShowSaysWho) {
  const std::string inc = OpenIncident();
  Outcome denied = Run({"ack", inc}, "alice");
  EXPECT_EQ(denied.code, kExitError);
  EXPECT_THAT(denied.err, HasSubstr("escalation path"));
  Outcome o = Run({"ack", inc}, "carol");
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("acknowledged by carol"));
  EXPECT_THAT(Run({"show", inc}).out, HasSubstr("acknowledged by carol"));
}

TEST_F(CliTest, UnroutedAlertsAreListed) {
  EXPECT_THAT(Run({"alerts", "--unrouted"}).out,
              HasSubstr("No unrouted alerts"));
  h_.core.intake.Ingest(FiringGroup("g9", "search", {"fp9"})).IgnoreError();
  Outcome o = Run({"alerts", "--unrouted"});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("fp9"));
  EXPECT_THAT(o.out, HasSubstr("matched no component"));
  EXPECT_EQ(Run({"alerts"}).code, kExitUsage);
}

TEST_F(CliTest, OncallAtAnotherTimeShowsThatWeeksPointPerson) {
  // The demo rota alternates bob and erin weekly from Monday 2026-01-05 09:00
  // London.
  Outcome jan = Run({"oncall", "checkout", "--at", "2026-01-06T12:00:00Z"});
  EXPECT_EQ(jan.code, kExitOk) << jan.err;
  EXPECT_THAT(jan.out, HasSubstr("(bob)"));
  EXPECT_THAT(Run({"oncall", "checkout", "--at", "2026-01-13T12:00:00Z"}).out,
              HasSubstr("(erin)"));
  EXPECT_THAT(jan.out, HasSubstr("carol > dave after 15m"));
  Outcome bad = Run({"oncall", "--at", "tomorrowish"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("--at"));
}

TEST_F(CliTest, OverridesAreAddedListedShownAndRemoved) {
  Outcome denied = Run(
      {"oncall", "override", "add", "customer-comms", "dave", "--until", "2h"},
      "alice");
  EXPECT_EQ(denied.code, kExitError);
  EXPECT_THAT(denied.err, HasSubstr("permission denied"));

  // The fake clock is frozen at the test epoch, so give absolute times.
  Outcome added = Run({"oncall", "override", "add", "customer-comms", "dave",
                       "--from", "2026-11-23T09:00:00Z", "--until",
                       "2026-11-23T18:00:00Z", "--reason", "covering"},
                      "carol");
  ASSERT_EQ(added.code, kExitOk) << added.err;
  EXPECT_THAT(added.out,
              HasSubstr("Override 1: dave holds rota customer-comms"));
  EXPECT_THAT(Run({"oncall", "override", "list"}).out, HasSubstr("covering"));
  EXPECT_THAT(Run({"oncall"}).out, HasSubstr("(dave) [override]"));
  EXPECT_EQ(Run({"oncall", "override", "remove", "1"}, "carol").code, kExitOk);
  EXPECT_THAT(Run({"oncall"}).out, Not(HasSubstr("[override]")));
}

TEST_F(CliTest, UpdateTakesAnEtaAndANextStep) {
  const std::string inc = OpenIncident();
  Outcome o = Run({"update", inc, "bad deploy", "--eta", "45m", "--next",
                   "rolling back region by region"});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("Next: Rolling back region by region."));
  EXPECT_THAT(o.out, HasSubstr("We expect this to be fixed by"));
  Outcome bad = Run({"update", inc, "x", "--eta", "soon"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("--eta"));
}

TEST_F(CliTest, EditWithFlagsAddsAVersionThatDiffShows) {
  const std::string msg = Draft();
  const std::string body_file = ::testing::TempDir() + "/herald-cli-body.txt";
  std::ofstream(body_file) << "We rolled back the release.\nErrors are back "
                              "to normal.\n";
  Outcome o = Run({"messages", "edit", msg, "--title", "Checkout errors",
                   "--body-file", body_file},
                  "bob");
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("now version 2"));
  Outcome d = Run({"messages", "diff", msg}, "carol");
  EXPECT_EQ(d.code, kExitOk) << d.err;
  EXPECT_THAT(d.out, HasSubstr("--- " + msg + " version 1"));
  EXPECT_THAT(d.out, HasSubstr("+++ " + msg + " version 2 (bob"));
  EXPECT_THAT(d.out, HasSubstr("+Checkout errors"));
  EXPECT_THAT(d.out, HasSubstr("+Errors are back to normal."));
  EXPECT_THAT(d.out, HasSubstr("-Checkout disruption"));
}

TEST_F(CliTest, EditSetsComponentStatusesThatPreviewShows) {
  const std::string msg = Draft();
  Outcome o =
      Run({"messages", "edit", msg, "--component", "checkout=partial_outage"},
          "bob");
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(Run({"messages", "preview", msg}).out,
              HasSubstr("publishing sets: checkout partial_outage"));
  Outcome bad =
      Run({"messages", "edit", msg, "--component", "checkout=down"}, "bob");
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("--component"));
}

TEST_F(CliTest, EditOpensTheEditorOnTheTitleAndBody) {
  const std::string msg = Draft();
  editor_ = "sed -i -e 's/errors falling/errors back to normal/'";
  Outcome o = Run({"messages", "edit", msg}, "bob");
  EXPECT_EQ(o.code, kExitOk) << o.err;
  Outcome p = Run({"messages", "preview", msg}, "carol");
  EXPECT_THAT(p.out, HasSubstr("errors back to normal"));
  EXPECT_THAT(p.out, HasSubstr("version 2 by bob"));
}

TEST_F(CliTest, AnEditorSessionThatChangesNothingStoresNothing) {
  const std::string msg = Draft();
  editor_ = "true";
  Outcome o = Run({"messages", "edit", msg}, "bob");
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("No change"));
  EXPECT_THAT(Run({"messages", "diff", msg}).out, HasSubstr("only version 1"));
}

TEST_F(CliTest, AFailingEditorAbortsTheEdit) {
  const std::string msg = Draft();
  editor_ = "false";
  Outcome o = Run({"messages", "edit", msg}, "bob");
  EXPECT_EQ(o.code, kExitError);
  EXPECT_THAT(o.err, HasSubstr("editor"));
}

TEST_F(CliTest, EngineersCannotEditCustomerMessages) {
  const std::string msg = Draft();
  Outcome o = Run({"messages", "edit", msg, "--title", "mine"}, "alice");
  EXPECT_EQ(o.code, kExitError);
  EXPECT_THAT(o.err, HasSubstr("permission denied"));
}

TEST_F(CliTest, PreviewShowsTheStatusPageAndTheEmailASubscriberGets) {
  const std::string msg = Draft();
  Outcome o = Run({"messages", "preview", msg});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("== status_page"));
  EXPECT_THAT(o.out, HasSubstr("== email to "));
  EXPECT_THAT(o.out, HasSubstr("Subject: "));
  EXPECT_THAT(o.out, HasSubstr("Rolled back, errors falling."));
  EXPECT_THAT(o.out, HasSubstr("-- HTML part --"));
  EXPECT_THAT(o.out, HasSubstr("<p>We are investigating a problem affecting "
                               "Checkout. Rolled back, errors falling.</p>"));
  EXPECT_THAT(o.out, HasSubstr("== short_text (SMS, chat; "));
}

TEST_F(CliTest, MaintenanceIsScheduledForApprovalAndCancelled) {
  Outcome o = Run({"maintenance", "schedule", "--component", "checkout",
                   "--from", "2026-11-24T02:00:00Z", "--to",
                   "2026-11-24T04:00:00Z", "database upgrade"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("INC-1 scheduled: Scheduled maintenance: "
                               "Checkout, 2026-11-24 02:00 to "
                               "2026-11-24 04:00 UTC."));
  const std::string msg = DraftRef(o);
  Outcome preview = Run({"messages", "preview", msg}, "carol");
  EXPECT_THAT(preview.out, HasSubstr("maintenance on Checkout from "
                                     "2026-11-24 02:00 UTC"));
  Outcome cancel =
      Run({"maintenance", "cancel", "INC-1", "--reason", "postponed"});
  EXPECT_EQ(cancel.code, kExitOk) << cancel.err;
  Outcome again = Run({"maintenance", "cancel", "INC-1"});
  EXPECT_NE(again.code, kExitOk);
  EXPECT_THAT(again.err, HasSubstr("INC-1 has already ended"));
}

TEST_F(CliTest, DeliveriesShowEachRecipientsProgressToCommsOnly) {
  const std::string msg = Draft();
  ASSERT_EQ(Run({"approve", msg}, "carol").code, kExitOk);
  Outcome o = Run({"deliveries", msg}, "bob");
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("subscriber:globex"));
  EXPECT_THAT(o.out, HasSubstr("subscriber:initech"));
  EXPECT_THAT(o.out, HasSubstr("2 deliveries: 2 queued"));
  Outcome engineer = Run({"deliveries", msg});
  EXPECT_NE(engineer.code, kExitOk);
  EXPECT_THAT(engineer.err, HasSubstr("permission denied"));
  Outcome none = Run({"deliveries", "--failed"}, "carol");
  EXPECT_EQ(none.code, kExitOk) << none.err;
  EXPECT_THAT(none.out, HasSubstr("No failed deliveries."));
  EXPECT_EQ(Run({"deliveries"}, "carol").code, kExitUsage);
}

TEST_F(CliTest, SubscriberAddedWithOrderedContactsIsListedWithoutSecrets) {
  Outcome add =
      Run({"subscribers", "add", "hooli", "--name", "Gavin Belson", "--email",
           "gavin@hooli.example", "--plan", "enterprise", "--component",
           "checkout", "--component", "api", "--contact",
           "webhook:https://hooks.hooli.example/h", "--contact",
           "sms:+14155550100", "--contact", "email:gavin@hooli.example"},
          "bob");
  ASSERT_EQ(add.code, kExitOk) << add.err;
  EXPECT_THAT(add.out, HasSubstr("Subscriber hooli added to checkout, api."));
  std::smatch secret;
  ASSERT_TRUE(std::regex_search(add.out, secret,
                                std::regex("whsec_[A-Za-z0-9+/=]{40,}")));
  Outcome list = Run({"subscribers", "list", "--component", "api"}, "carol");
  ASSERT_EQ(list.code, kExitOk) << list.err;
  EXPECT_THAT(
      list.out,
      HasSubstr("webhook:https://hooks.hooli.example/h sms:+14155550100 "
                "email:gavin@hooli.example"));
  EXPECT_THAT(list.out, HasSubstr("globex"));
  EXPECT_THAT(list.out, Not(HasSubstr("initech")));  // checkout only
  Outcome json = Run({"subscribers", "list", "-o", "json"}, "carol");
  EXPECT_THAT(json.out, Not(HasSubstr(secret.str())));
  EXPECT_THAT(json.out, HasSubstr("whsec_…"));
}

TEST_F(CliTest, AffectedListsEachCustomerOnceWithWhyForCommsRolesOnly) {
  v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
  (*g.mutable_alerts(0)->mutable_labels())["customer"] = "Umbrella";
  const std::string ref =
      h_.core.queries.GetIncident(h_.core.intake.Ingest(g)->incident_id)
          ->incident()
          .ref();
  Outcome out = Run({"affected", ref}, "carol");
  ASSERT_EQ(out.code, kExitOk) << out.err;
  EXPECT_THAT(out.out, HasSubstr("subscribes to checkout"));
  EXPECT_THAT(out.out, HasSubstr("alert label customer=Umbrella"));
  EXPECT_THAT(out.out, HasSubstr("3 affected customer(s)."));
  Outcome json = Run({"affected", ref, "-o", "json"}, "bob");
  EXPECT_THAT(json.out, HasSubstr("\"alertLabels\""));
  EXPECT_THAT(json.out, HasSubstr("\"customer=Umbrella\""));
  Outcome engineer = Run({"affected", ref}, "alice");
  EXPECT_EQ(engineer.code, kExitError);
  EXPECT_THAT(engineer.err, HasSubstr("permission"));
}

// A checkout incident resolved after `lasted`; returns its apology's ref.
class AftercareCliTest : public CliTest {
 protected:
  std::string ResolveAfter(absl::Duration lasted) {
    v1::AlertGroup g = FiringGroup("g1", "checkout", {"fp1"});
    (*g.mutable_alerts(0)->mutable_labels())["customer"] = "Umbrella";
    EXPECT_TRUE(h_.core.intake.Ingest(g).ok());
    h_.core.clock.Advance(lasted);
    Outcome resolved = Run({"resolve", "INC-1", "--note", "a bad deploy"});
    EXPECT_EQ(resolved.code, kExitOk) << resolved.err;
    const size_t at = resolved.out.find("apology");
    const size_t ref = resolved.out.rfind("MSG-", at);
    return resolved.out.substr(ref, resolved.out.find(' ', ref) - ref);
  }
};

TEST_F(AftercareCliTest, CreditsShowWhatApprovingWouldGiveThenWhatItGave) {
  const std::string apology = ResolveAfter(absl::Minutes(150));
  Outcome before = Run({"credits", "INC-1"}, "carol");
  ASSERT_EQ(before.code, kExitOk) << before.err;
  EXPECT_THAT(before.out, HasSubstr("25%"));
  EXPECT_THAT(before.out, HasSubstr("EUR 124.75"));  // 25% of EUR 499.00
  EXPECT_THAT(before.out, HasSubstr("(code on approval)"));
  EXPECT_THAT(before.out, HasSubstr("what approving it now would fix"));
  EXPECT_THAT(before.out, HasSubstr("herald credits approve INC-1"));

  Outcome refused = Run({"approve", apology}, "carol");
  EXPECT_EQ(refused.code, kExitError);
  EXPECT_THAT(refused.err, HasSubstr("an admin must approve the credits"));
  EXPECT_EQ(Run({"credits", "approve", "INC-1"}, "carol").code, kExitError)
      << "a comms lead is not an admin";
  Outcome admin = Run({"credits", "approve", "INC-1"}, "dave");
  ASSERT_EQ(admin.code, kExitOk) << admin.err;
  EXPECT_THAT(admin.out, HasSubstr("approved up to 25%"));
  ASSERT_EQ(Run({"approve", apology}, "carol").code, kExitOk);

  Outcome after = Run({"credits", "INC-1", "-o", "json"}, "bob");
  EXPECT_THAT(after.out, HasSubstr("\"fixed\": true"));
  EXPECT_THAT(after.out, HasSubstr("\"voucherCode\""));
  EXPECT_EQ(Run({"credits", "INC-1"}).code, kExitError)
      << "engineers do not read customers' credits";
  EXPECT_EQ(Run({"credits"}, "carol").code, kExitUsage);
}

TEST_F(AftercareCliTest, FollowUpsListAnswersAndMarkProblems) {
  const std::string apology = ResolveAfter(absl::Minutes(45));
  EXPECT_THAT(Run({"follow-ups", "INC-1"}, "bob").out,
              HasSubstr("is not approved yet"));
  ASSERT_EQ(Run({"approve", apology}, "carol").code, kExitOk);
  const v1::Amends globex = h_.core.Read<v1::Amends>(
      [](StoreReader& r) { return r.FindAmends(1, "globex"); });
  ASSERT_TRUE(h_.core.follow_ups
                  .RecordAnswer(h_.core.links.Answer(
                      globex.id(), v1::FOLLOW_UP_ANSWER_STILL_BROKEN))
                  .ok());
  Outcome all = Run({"follow-ups", "INC-1"}, "bob");
  ASSERT_EQ(all.code, kExitOk) << all.err;
  EXPECT_THAT(all.out, HasSubstr("! globex"));
  EXPECT_THAT(all.out, HasSubstr("still broken"));
  EXPECT_THAT(all.out, HasSubstr("1 of 3 customer(s) answered"));
  Outcome problems = Run({"follow-ups", "INC-1", "--problems"}, "bob");
  EXPECT_THAT(problems.out, HasSubstr("globex"));
  EXPECT_THAT(problems.out, Not(HasSubstr("umbrella")));
}

TEST_F(AftercareCliTest, PostmortemFromAFileIsPublishedByACommsLead) {
  ResolveAfter(absl::Minutes(45));
  const std::string file = ::testing::TempDir() + "/herald-postmortem.md";
  std::ofstream(file) << "A deploy removed an index.\n\nWe check plans now.\n";
  // The resolution notice makes the incident public.
  ASSERT_EQ(Run({"approve", "MSG-2"}, "carol").code, kExitOk);
  EXPECT_EQ(Run({"postmortem", "INC-1", "--file", file}, "bob").code,
            kExitError)
      << "comms may not publish it alone";
  Outcome missing =
      Run({"postmortem", "INC-1", "--file", file + ".missing"}, "carol");
  EXPECT_EQ(missing.code, kExitUsage);
  EXPECT_THAT(missing.err, HasSubstr("--file: cannot read"));
  Outcome ok = Run({"postmortem", "INC-1", "--file", file}, "carol");
  ASSERT_EQ(ok.code, kExitOk) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("its status is now postmortem"));
  EXPECT_EQ(h_.core.queries.GetIncident(1)->incident().postmortem().summary(),
            "A deploy removed an index.\n\nWe check plans now.");
}

TEST_F(CliTest, BackupIsForAdminsAndNeverOverwritesAFile) {
  const std::string file = ::testing::TempDir() + "/herald-cli-backup.db";
  std::filesystem::remove(file);
  Outcome carol = Run({"admin", "backup", file}, "carol");
  EXPECT_EQ(carol.code, kExitError);
  EXPECT_THAT(carol.err, HasSubstr("permission denied"));
  // The test server's store is in memory: nothing to copy.
  Outcome memory = Run({"admin", "backup", file}, "dave");
  EXPECT_EQ(memory.code, kExitError);
  EXPECT_THAT(memory.err, HasSubstr("nothing on disk to back up"));
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_FALSE(std::filesystem::exists(file + ".partial"));
  std::ofstream(file) << "precious";
  Outcome exists = Run({"admin", "backup", file}, "dave");
  EXPECT_EQ(exists.code, kExitUsage);
  EXPECT_THAT(exists.err, HasSubstr("exists"));
}

TEST_F(CliTest, HealthSaysWhetherTheServerServesAndNeedsNoToken) {
  Outcome serving = Run({"health"}, /*person=*/"");
  EXPECT_EQ(serving.code, kExitOk) << serving.err;
  EXPECT_EQ(serving.out, "SERVING\n");
  h_.server->GetHealthCheckService()->SetServingStatus(false);
  Outcome stopping = Run({"health", "-o", "json"}, "");
  EXPECT_EQ(stopping.code, kExitError);
  EXPECT_THAT(stopping.out, HasSubstr("\"NOT_SERVING\""));
}

TEST_F(CliTest, SubscriberChangesAreForCommsRolesAndCheckedByField) {
  Outcome engineer = Run({"subscribers", "list"});
  EXPECT_NE(engineer.code, kExitOk);
  EXPECT_THAT(engineer.err, HasSubstr("permission denied"));
  Outcome bad = Run({"subscribers", "add", "x", "--component", "checkout",
                     "--contact", "sms:0800-CALL-ME"},
                    "bob");
  EXPECT_NE(bad.code, kExitOk);
  EXPECT_THAT(bad.err, HasSubstr("contacts[0].address"));
  Outcome unknown = Run({"subscribers", "add", "x", "--email", "x@x.example",
                         "--component", "billing"},
                        "bob");
  EXPECT_THAT(unknown.err, HasSubstr("unknown component \"billing\""));
  Outcome taken = Run({"subscribers", "add", "grace2", "--email",
                       "Grace@Globex.example", "--component", "checkout"},
                      "bob");
  EXPECT_THAT(taken.err, HasSubstr("belongs to subscriber \"globex\""));
}

TEST_F(CliTest, RemovedSubscriberStaysRemovedThroughReAddAndImport) {
  ASSERT_EQ(Run({"subscribers", "remove", "initech"}, "bob").code, kExitOk);
  EXPECT_THAT(Run({"subscribers", "list"}, "bob").out,
              Not(HasSubstr("initech")));
  EXPECT_THAT(Run({"subscribers", "list", "--all"}, "bob").out,
              HasSubstr("unsubscribed"));
  Outcome again = Run({"subscribers", "add", "initech", "--email",
                       "peter@initech.example", "--component", "checkout"},
                      "bob");
  EXPECT_THAT(again.err, HasSubstr("only they can subscribe again"));
  const std::string csv = ::testing::TempDir() + "/herald-subscribers.csv";
  std::ofstream(csv) << "id,email,components\n"
                        "initech,peter@initech.example,checkout\n";
  Outcome import = Run({"subscribers", "import", csv}, "bob");
  ASSERT_EQ(import.code, kExitOk) << import.err;
  EXPECT_THAT(import.out, HasSubstr("0 added, 0 updated, 1 skipped"));
}

TEST_F(CliTest, ImportAddsAndUpdatesAndNamesTheBadLine) {
  const std::string csv = ::testing::TempDir() + "/herald-import.csv";
  std::ofstream(csv)
      << "id,name,email,plan,components,contacts\n"
         "globex,Grace B. Hopper,grace@globex.example,business,checkout api,\n"
         "\"wesker\",\"Wesker, Albert\",al@umbrella.example,starter,"
         "checkout;api,slack:https://hooks.slack.example/T/B/x "
         "email:al@umbrella.example\n";
  Outcome ok = Run({"subscribers", "import", csv}, "carol");
  ASSERT_EQ(ok.code, kExitOk) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("Imported 2 row(s): 1 added, 1 updated"));
  Outcome list = Run({"subscribers", "list"}, "carol");
  EXPECT_THAT(list.out, HasSubstr("Grace B. Hopper"));
  EXPECT_THAT(list.out, HasSubstr("Wesker, Albert"));
  EXPECT_THAT(list.out, HasSubstr("slack:https://hooks.slack.example/T/B/x"));

  std::ofstream(csv) << "id,email,components\n"
                        "ok1,ok1@example.com,checkout\n"
                        "bad,not-an-address,checkout\n";
  Outcome bad = Run({"subscribers", "import", csv}, "carol");
  EXPECT_NE(bad.code, kExitOk);
  EXPECT_THAT(bad.err, HasSubstr("herald-import.csv:3: email"));
  EXPECT_THAT(Run({"subscribers", "list"}, "carol").out,
              Not(HasSubstr("ok1")));  // all or nothing

  std::ofstream(csv) << "id,e-mail,components\nx,x@example.com,checkout\n";
  Outcome typo = Run({"subscribers", "import", csv}, "carol");
  EXPECT_EQ(typo.code, kExitUsage);
  EXPECT_THAT(typo.err, HasSubstr("e-mail"));
}

TEST_F(CliTest, MaintenanceNeedsAComponentAndAWindow) {
  Outcome o =
      Run({"maintenance", "schedule", "--from", "1h", "--to", "2h", "text"});
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_THAT(o.err, HasSubstr("--component"));
  o = Run({"maintenance", "schedule", "--component", "checkout", "--from",
           "tomorrow", "--to", "2h", "text"});
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_THAT(o.err, HasSubstr("--from: expected an RFC 3339 time"));
}

TEST_F(CliTest, RejectNeedsAReasonAndTheAuditLogShowsEveryDecision) {
  const std::string msg = Draft();
  EXPECT_EQ(Run({"reject", msg}, "carol").code, kExitUsage);
  Outcome r = Run({"reject", msg, "--reason", "name the region"}, "carol");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("rejected"));
  EXPECT_EQ(Run({"approve", msg}, "carol").code, kExitError);
  ASSERT_EQ(
      Run({"messages", "edit", msg, "--title", "eu-west checkout"}, "bob").code,
      kExitOk);
  ASSERT_EQ(Run({"approve", msg, "--version", "2"}, "carol").code, kExitOk);
  Outcome a = Run({"audit", "INC-1"});
  EXPECT_EQ(a.code, kExitOk) << a.err;
  for (const char* action : {"drafted", "rejected", "edited", "approved"}) {
    EXPECT_THAT(a.out, HasSubstr(action));
  }
  EXPECT_THAT(a.out, HasSubstr("name the region"));
}

TEST_F(CliTest, WatchStreamsTheIncidentsEvents) {
  const std::string inc = OpenIncident();
  Outcome watched;
  // "watching", then the update and the draft it makes.
  std::thread watcher([&] {
    watched = Run({"watch", inc, "--count", "3"}, "dave");
  });
  // Once the watcher is subscribed, what happens to the incident streams.
  while (h_.core.events.subscribers() == 0) std::this_thread::yield();
  const int64_t other =  // another incident: not shown
      h_.core.intake.Ingest(FiringGroup("g2", "dashboard", {"fp2"}))
          ->incident_id;
  ASSERT_TRUE(
      h_.core.workflow.PostUpdate(testing::Engineer(), other, "not this one")
          .ok());
  ASSERT_EQ(Run({"update", inc, "errors falling"}).code, kExitOk);
  watcher.join();
  EXPECT_EQ(watched.code, kExitOk) << watched.err;
  EXPECT_THAT(watched.out, HasSubstr("Watching " + inc));
  EXPECT_THAT(watched.out, HasSubstr("update"));
  EXPECT_THAT(watched.out, HasSubstr("errors falling"));
  EXPECT_THAT(watched.out, HasSubstr("drafted"));
  EXPECT_THAT(watched.out, Not(HasSubstr("not this one")));
}

TEST_F(CliTest, WatchSaysWhenTheServerEndsTheStream) {
  const std::string inc = OpenIncident();
  Outcome watched;
  std::thread watcher([&] { watched = Run({"watch", inc}, "dave"); });
  while (h_.core.events.subscribers() == 0) std::this_thread::yield();
  h_.server->Shutdown(std::chrono::system_clock::now());  // ends the stream
  watcher.join();
  EXPECT_EQ(watched.code, kExitError);
  EXPECT_THAT(watched.err, HasSubstr("the stream ended"));
}

TEST_F(CliTest, HelpListsEveryCommand) {
  Outcome o = Run({"--help"});
  EXPECT_EQ(o.code, kExitOk);
  for (const char* cmd : {"incidents", "show", "update", "resolve", "messages",
                          "approve", "reject", "audit", "oncall", "ack",
                          "alerts", "watch", "maintenance", "deliveries"}) {
    EXPECT_THAT(o.out, HasSubstr(cmd));
  }
}

// Issue 18: an invalid byte in `--account` ended in "herald: error 12:"
// with no message. Every argument and every file the CLI reads is checked
// before anything is sent, and the error names the flag, the file and line.
TEST_F(CliTest, TextThatIsNotUtf8IsRefusedBeforeSendingNamingWhere) {
  Outcome flag = Run({"subscribers", "add", "acme", "--account", "acme\xff",
                      "--component", "checkout"},
                     "carol");
  EXPECT_EQ(flag.code, kExitUsage);
  EXPECT_THAT(flag.err, HasSubstr("--account: not valid UTF-8"));
  Outcome inline_flag =
      Run({"subscribers", "add", "acme", "--name=Gr\xc3\x28", "--component=x"},
          "carol");
  EXPECT_EQ(inline_flag.code, kExitUsage);
  EXPECT_THAT(inline_flag.err, HasSubstr("--name: not valid UTF-8"));
  Outcome note = Run({"update", "INC-1", "rolled \x1b[2J back"});
  EXPECT_EQ(note.code, kExitUsage);
  EXPECT_THAT(note.err, HasSubstr("argument 3: holds a control character"));

  const std::string csv = ::testing::TempDir() + "/herald-bad-utf8.csv";
  std::ofstream(csv) << "id,name,email,components\n"
                     << "a,Ann,ann@example.com,checkout\n"
                     << "b,Gr\xff"
                     << "ce,grace@example.com,checkout\n";
  Outcome import = Run({"subscribers", "import", csv}, "carol");
  EXPECT_EQ(import.code, kExitUsage);
  EXPECT_THAT(import.err, HasSubstr(":3: name: not valid UTF-8"));
  EXPECT_EQ(h_.core
                .Read<std::vector<v1::Subscriber>>([](StoreReader& r) {
                  return r.ListSubscribersByAccount({"acme"});
                })
                .size(),
            0u);
}

// Alert text reaches the terminal through `herald show` and friends; no
// escape sequence, C1 control or carriage return in it reaches the screen.
TEST_F(CliTest, TerminalEscapesFromTheServerAreNeverPrinted) {
  ASSERT_TRUE(
      h_.core.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"})).ok());
  v1::AlertGroup group = FiringGroup("g2", "checkout", {"fp2"});
  (*group.mutable_alerts(0)->mutable_annotations())["summary"] =
      "disk \x1b]0;owned\x07 full \xc2\x9b"
      "31m\r!";
  (*group.mutable_alerts(0)->mutable_labels())["alertname"] = "Evil\x1b[2JName";
  const int64_t id = h_.core.intake.Ingest(group)->incident_id;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"incidents"},
           {"show", absl::StrCat("INC-", id)},
           {"alerts", absl::StrCat("INC-", id)}}) {
    Outcome o = Run(args);
    EXPECT_EQ(o.code, kExitOk) << o.err;
    EXPECT_EQ(o.out.find('\x1b'), std::string::npos) << args[0] << o.out;
    EXPECT_EQ(o.out.find('\x07'), std::string::npos) << args[0];
    EXPECT_EQ(o.out.find("\xc2\x9b"), std::string::npos) << args[0];
    EXPECT_EQ(o.out.find('\r'), std::string::npos) << args[0];
  }
}

// An incident with 20,000 alerts (and as many timeline events) stays usable:
// every reply is one page of well under 1 MiB, and the CLI pages through.
class ManyAlertsTest : public CliTest {
 protected:
  static constexpr int kAlerts = 20000;
  static constexpr size_t kReplyBudget = 1024 * 1024;
  void SetUp() override {
    ref_ =
        IncidentRef(herald::testing::IncidentWithManyAlerts(h_.core, kAlerts));
  }
  std::unique_ptr<v1::IncidentService::Stub> Stub() {
    return v1::IncidentService::NewStub(h_.channel);
  }
  grpc::ClientContext* Context(grpc::ClientContext& c) {
    c.AddMetadata("authorization", "Bearer " + TokenFor("alice"));
    return &c;
  }
  std::string ref_;
};

TEST_F(ManyAlertsTest, GetIncidentAnswersTheFirstPageWithCountsAndAToken) {
  v1::GetIncidentRequest req;
  req.set_incident(ref_);
  v1::GetIncidentResponse resp;
  grpc::ClientContext c;
  grpc::Status s = Stub()->GetIncident(Context(c), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_LT(resp.ByteSizeLong(), kReplyBudget);
  EXPECT_EQ(resp.alert_count(), kAlerts);
  EXPECT_GT(resp.timeline_count(), kAlerts - 5000);
  EXPECT_EQ(resp.alerts_size(), 100);
  EXPECT_EQ(resp.timeline_size(), 100);
  EXPECT_FALSE(resp.next_page_token().empty());
  // The token brings the next page; a made-up one is refused by name.
  req.set_page_token(resp.next_page_token());
  v1::GetIncidentResponse next;
  grpc::ClientContext c2;
  ASSERT_TRUE(Stub()->GetIncident(Context(c2), req, &next).ok());
  EXPECT_EQ(next.alerts(0).fingerprint(), "fp00100");
  EXPECT_GT(next.timeline(0).id(), resp.timeline(99).id());
  req.set_page_token("not-a-token");
  grpc::ClientContext c3;
  s = Stub()->GetIncident(Context(c3), req, &next);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
  req.clear_page_token();
  req.set_page_size(1001);
  grpc::ClientContext c4;
  s = Stub()->GetIncident(Context(c4), req, &next);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_size"));
}

TEST_F(ManyAlertsTest, ListAlertsPagesThroughEveryAlertOnce) {
  v1::ListAlertsRequest req;
  req.set_incident(ref_);
  req.set_page_size(1000);
  std::set<std::string> seen;
  int pages = 0;
  do {
    v1::ListAlertsResponse resp;
    grpc::ClientContext c;
    grpc::Status s = Stub()->ListAlerts(Context(c), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_LT(resp.ByteSizeLong(), kReplyBudget);
    EXPECT_EQ(resp.total_count(), kAlerts);
    for (const v1::Alert& a : resp.alerts()) seen.insert(a.fingerprint());
    req.set_page_token(resp.next_page_token());
    ASSERT_LT(++pages, 100);
  } while (!req.page_token().empty());
  EXPECT_EQ(seen.size(), static_cast<size_t>(kAlerts));
}

TEST_F(ManyAlertsTest, HeraldAlertsPrintsEveryAlertOrTheFirstLimit) {
  Outcome all = Run({"alerts", ref_});
  ASSERT_EQ(all.code, kExitOk) << all.err;
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), kAlerts + 1);
  EXPECT_THAT(all.out, HasSubstr("fp19999"));
  Outcome some = Run({"alerts", ref_, "--limit", "10", "-o", "json"});
  ASSERT_EQ(some.code, kExitOk) << some.err;
  v1::ListAlertsResponse json;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(some.out, &json).ok());
  EXPECT_EQ(json.alerts_size(), 10);
  EXPECT_EQ(json.total_count(), kAlerts);
  EXPECT_FALSE(json.next_page_token().empty());
  EXPECT_THAT(Run({"alerts", ref_, "--limit", "10"}).out,
              HasSubstr("Showing 10 of 20000 alerts"));
}

TEST_F(ManyAlertsTest, HeraldShowPrintsTheFirstPageAndHowManyMore) {
  Outcome o = Run({"show", ref_});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("... and 19900 more: herald alerts " + ref_));
  EXPECT_THAT(o.out, HasSubstr("more events"));
}

// Every list the API answers comes a page at a time, however long it grows
// (the same class as the alerts above): incidents, messages, the audit log,
// a message's deliveries, failed deliveries, subscribers, affected customers
// and amends. Each RPC's first page holds the default 500 and a token, a
// made-up token is refused by name, and each CLI command gathers every page.
class LongListsTest : public CliTest {
 protected:
  static constexpr int kMany = 1100;  // over the CLI's page of 1000
  static constexpr size_t kReplyBudget = 1024 * 1024;

  void SetUp() override {
    using herald::testing::CommsLead;
    std::vector<v1::Subscriber> customers;
    for (int i = 0; i < kMany; ++i) {
      v1::Subscriber& c = customers.emplace_back();
      c.set_id(absl::StrFormat("cust%05d", i));
      c.set_name(absl::StrCat("Customer ", i));
      c.set_email(absl::StrFormat("cust%05d@example.org", i));
      c.add_component_ids("checkout");
    }
    ASSERT_TRUE(h_.core.subscribers.Import(CommsLead(), customers, {}).ok());
    incident_id_ =
        h_.core.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))
            ->incident_id;
    incident_ = absl::StrCat("INC-", incident_id_);
    const v1::Message draft =
        h_.core.queries.ListMessages(incident_id_, {})->items.at(0);
    auto published = h_.core.workflow.Approve(CommsLead(), draft.id(), 0);
    ASSERT_TRUE(published.ok()) << published.status();
    message_ = draft.ref();
    message_id_ = draft.id();
    ASSERT_TRUE(h_.core.workflow
                    .Resolve(herald::testing::Engineer(), incident_id_, "fixed")
                    .ok());
    // Many incidents with a draft each, audit entries, and failed
    // deliveries, written straight to the store: quicker than the flows.
    ASSERT_TRUE(h_.core.store
                    ->Write([&](StoreTxn& txn) -> absl::Status {
                      for (int i = 0; i < kMany; ++i) {
                        v1::Incident incident;
                        incident.set_title(absl::StrCat("Outage ", i));
                        incident.set_group_key(absl::StrCat("bulk-", i));
                        auto id = txn.InsertIncident(incident);
                        if (!id.ok()) return id.status();
                        v1::Message m;
                        m.set_incident_id(*id);
                        m.set_state(v1::MESSAGE_STATE_DRAFT);
                        m.set_title(absl::StrCat("Draft ", i));
                        if (auto st = txn.InsertMessage(m); !st.ok()) {
                          return st.status();
                        }
                        v1::AuditEntry e;
                        e.set_incident_id(*id);
                        e.set_actor_id("carol");
                        e.set_action("edited");
                        if (auto st = txn.AppendAudit(e); !st.ok()) {
                          return st.status();
                        }
                      }
                      auto sent = txn.ListDeliveries(message_id_, 0);
                      if (!sent.ok()) return sent.status();
                      for (v1::Delivery d : *sent) {
                        d.set_state(v1::DELIVERY_STATE_FAILED);
                        if (auto st = txn.UpdateDelivery(d); !st.ok()) {
                          return st;
                        }
                      }
                      return absl::OkStatus();
                    })
                    .ok());
  }

  template <typename Service>
  std::unique_ptr<typename Service::Stub> Stub() {
    return Service::NewStub(h_.channel);
  }
  // Calls `rpc(ctx, request, reply)` as dave (admin, who may list all).
  template <typename Request, typename Response, typename Rpc>
  grpc::Status Call(const Request& req, Response& resp, Rpc rpc) {
    grpc::ClientContext c;
    c.AddMetadata("authorization", "Bearer " + TokenFor("dave"));
    return rpc(c, req, resp);
  }

  // The first page holds the default 500 and a token that brings different
  // ones; a made-up token and a page of 1001 are refused by name.
  template <typename Request, typename Response, typename Rpc, typename Items,
            typename Key>
  void ExpectPaged(Request req, Rpc rpc, Items items, Key key) {
    SCOPED_TRACE(Request::descriptor()->name());
    Response first, second;
    grpc::Status s = Call(req, first, rpc);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(items(first).size(), 500);
    EXPECT_LT(first.ByteSizeLong(), kReplyBudget);
    ASSERT_FALSE(first.next_page_token().empty());
    req.set_page_token(first.next_page_token());
    ASSERT_TRUE(Call(req, second, rpc).ok());
    ASSERT_FALSE(items(second).empty());
    EXPECT_NE(key(items(second)[0]), key(items(first)[499]));
    for (const auto& item : items(second)) {
      for (const auto& earlier : items(first)) {
        ASSERT_NE(key(item), key(earlier)) << "listed twice";
      }
    }
    req.set_page_token("bm90LWEtdG9rZW4");
    s = Call(req, second, rpc);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
    req.clear_page_token();
    req.set_page_size(1001);
    s = Call(req, second, rpc);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("page_size"));
  }

  // How many `items` a CLI command printed as JSON, each listed once.
  template <typename Response, typename Items, typename Key>
  size_t CliListed(std::vector<std::string> args, Items items, Key key) {
    args.insert(args.end(), {"-o", "json"});
    Outcome o = Run(args, "dave");
    EXPECT_EQ(o.code, kExitOk) << o.err;
    Response resp;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(o.out, &resp).ok());
    EXPECT_TRUE(resp.next_page_token().empty()) << args[0];
    std::set<std::string> keys;
    for (const auto& item : items(resp)) keys.insert(key(item));
    EXPECT_EQ(keys.size(), static_cast<size_t>(items(resp).size()))
        << args[0] << ": listed twice";
    return keys.size();
  }

  int64_t incident_id_ = 0, message_id_ = 0;
  std::string incident_, message_;
};

std::string IdOf(const auto& item) { return absl::StrCat(item.id()); }

TEST_F(LongListsTest, EveryListRpcAnswersAPageAtATime) {
  using v1::AftercareService, v1::IncidentService, v1::MessageService,
      v1::SubscriberService;
  auto incidents = Stub<IncidentService>();
  auto messages = Stub<MessageService>();
  auto subscribers = Stub<SubscriberService>();
  auto aftercare = Stub<AftercareService>();

  v1::ListIncidentsRequest list_incidents;
  list_incidents.set_include_resolved(true);
  ExpectPaged<v1::ListIncidentsRequest, v1::ListIncidentsResponse>(
      list_incidents,
      [&](auto& c, auto& q, auto& r) {
        return incidents->ListIncidents(&c, q, &r);
      },
      [](auto& r) { return r.incidents(); }, IdOf<v1::Incident>);
  ExpectPaged<v1::ListMessagesRequest, v1::ListMessagesResponse>(
      {},
      [&](auto& c, auto& q, auto& r) {
        return messages->ListMessages(&c, q, &r);
      },
      [](auto& r) { return r.messages(); }, IdOf<v1::Message>);
  ExpectPaged<v1::ListAuditRequest, v1::ListAuditResponse>(
      {},
      [&](auto& c, auto& q, auto& r) { return messages->ListAudit(&c, q, &r); },
      [](auto& r) { return r.entries(); }, IdOf<v1::AuditEntry>);
  v1::ListDeliveriesRequest of_message;
  of_message.set_message(message_);
  auto list_deliveries = [&](auto& c, auto& q, auto& r) {
    return messages->ListDeliveries(&c, q, &r);
  };
  auto deliveries = [](auto& r) { return r.deliveries(); };
  ExpectPaged<v1::ListDeliveriesRequest, v1::ListDeliveriesResponse>(
      of_message, list_deliveries, deliveries, IdOf<v1::Delivery>);
  v1::ListDeliveriesRequest failed;
  failed.set_failed(true);
  failed.set_page_size(500);  // the failed list's default page is 100
  ExpectPaged<v1::ListDeliveriesRequest, v1::ListDeliveriesResponse>(
      failed, list_deliveries, deliveries, IdOf<v1::Delivery>);
  ExpectPaged<v1::ListSubscribersRequest, v1::ListSubscribersResponse>(
      {},
      [&](auto& c, auto& q, auto& r) {
        return subscribers->ListSubscribers(&c, q, &r);
      },
      [](auto& r) { return r.subscribers(); },
      [](const v1::Subscriber& s) { return s.id(); });
  v1::ListAffectedCustomersRequest affected;
  affected.set_incident(incident_);
  ExpectPaged<v1::ListAffectedCustomersRequest,
              v1::ListAffectedCustomersResponse>(
      affected,
      [&](auto& c, auto& q, auto& r) {
        return subscribers->ListAffectedCustomers(&c, q, &r);
      },
      [](auto& r) { return r.customers(); },
      [](const v1::AffectedCustomer& a) { return a.subscriber().id(); });
  v1::ListAmendsRequest amends;
  amends.set_incident(incident_);
  ExpectPaged<v1::ListAmendsRequest, v1::ListAmendsResponse>(
      amends,
      [&](auto& c, auto& q, auto& r) {
        return aftercare->ListAmends(&c, q, &r);
      },
      [](auto& r) { return r.amends(); },
      [](const v1::Amends& a) { return a.subscriber_id(); });
}

TEST_F(LongListsTest, EveryListCommandGathersEveryPage) {
  EXPECT_GT((CliListed<v1::ListIncidentsResponse>(
                {"incidents", "--all"}, [](auto& r) { return r.incidents(); },
                IdOf<v1::Incident>)),
            size_t{kMany});
  EXPECT_GE((CliListed<v1::ListMessagesResponse>(
                {"messages"}, [](auto& r) { return r.messages(); },
                IdOf<v1::Message>)),
            size_t{kMany});
  EXPECT_GE((CliListed<v1::ListAuditResponse>(
                {"audit"}, [](auto& r) { return r.entries(); },
                IdOf<v1::AuditEntry>)),
            size_t{kMany});
  auto deliveries = [](auto& r) { return r.deliveries(); };
  const size_t sent = CliListed<v1::ListDeliveriesResponse>(
      {"deliveries", message_}, deliveries, IdOf<v1::Delivery>);
  EXPECT_GE(sent, size_t{kMany});
  EXPECT_EQ((CliListed<v1::ListDeliveriesResponse>(
                {"deliveries", "--failed", "--limit", "0"}, deliveries,
                IdOf<v1::Delivery>)),
            sent);
  EXPECT_GE(
      (CliListed<v1::ListSubscribersResponse>(
          {"subscribers", "list"}, [](auto& r) { return r.subscribers(); },
          [](const v1::Subscriber& s) { return s.id(); })),
      size_t{kMany});
  EXPECT_GE(
      (CliListed<v1::ListAffectedCustomersResponse>(
          {"affected", incident_}, [](auto& r) { return r.customers(); },
          [](const v1::AffectedCustomer& a) { return a.subscriber().id(); })),
      size_t{kMany});
  EXPECT_GE((CliListed<v1::ListAmendsResponse>(
                {"credits", incident_}, [](auto& r) { return r.amends(); },
                [](const v1::Amends& a) { return a.subscriber_id(); })),
            size_t{kMany});
}

TEST_F(LongListsTest, FailedDeliveriesShowTheNewestHundredUnlessAskedForMore) {
  Outcome o = Run({"deliveries", "--failed"}, "dave");
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("100 deliveries: 100 failed"));
  EXPECT_THAT(o.out, HasSubstr("More follow; --limit 0 shows them all."));
  Outcome some =
      Run({"deliveries", "--failed", "--limit", "7", "-o", "json"}, "dave");
  v1::ListDeliveriesResponse json;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(some.out, &json).ok());
  EXPECT_EQ(json.deliveries_size(), 7);
  EXPECT_FALSE(json.next_page_token().empty()) << "more follow";
}

TEST_F(LongListsTest, RetryQueuesFailedDeliveriesAgainAndAuditsIt) {
  Outcome denied = Run({"deliveries", "retry", message_}, "alice");
  EXPECT_EQ(denied.code, kExitError);
  EXPECT_THAT(denied.err, HasSubstr("permission denied: to retry deliveries"));
  EXPECT_EQ(
      Run({"deliveries", "retry", message_, "--since", "2h"}, "dave").code,
      kExitUsage);
  EXPECT_EQ(
      Run({"deliveries", "retry", "--failed", "--channel", "pigeon"}, "dave")
          .code,
      kExitUsage);

  Outcome none =
      Run({"deliveries", "retry", "--failed", "--channel", "sms", "-o", "json"},
          "dave");
  ASSERT_EQ(none.code, kExitOk) << none.err;
  // Nothing failed on SMS; scripts always find the field.
  EXPECT_THAT(none.out, HasSubstr("\"requeued\": 0"));

  Outcome retried = Run({"deliveries", "retry", message_}, "carol");
  ASSERT_EQ(retried.code, kExitOk) << retried.err;
  EXPECT_THAT(retried.out, HasSubstr("failed deliveries queued again"));
  Outcome failed = Run({"deliveries", "--failed"}, "dave");
  EXPECT_THAT(failed.out, HasSubstr("No failed deliveries."));
  const auto requeued = h_.core.Read<std::vector<v1::Delivery>>(
      [&](StoreReader& r) { return r.ListDeliveries(message_id_, 0); });
  ASSERT_FALSE(requeued.empty());
  for (const v1::Delivery& d : requeued) {
    EXPECT_EQ(d.state(), v1::DELIVERY_STATE_QUEUED);
    EXPECT_EQ(d.contact_index(), 0);
  }
  EXPECT_THAT(Run({"audit", incident_}).out, HasSubstr("retried"));
  // Nothing is left to retry.
  EXPECT_THAT(Run({"deliveries", "retry", message_}, "carol").out,
              HasSubstr("0 failed deliveries queued again."));
}

}  // namespace
}  // namespace herald::cli
