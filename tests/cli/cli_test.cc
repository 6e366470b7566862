#include "tests/cli/cli_fixture.h"

namespace herald::cli {
namespace cli_testing {

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
  // The draft still says what the engineer wrote: preview marks it, and
  // approving it unedited is a choice.
  EXPECT_THAT(Run({"messages", "preview", msg}, "carol").out,
              HasSubstr("still in an engineer's words"));
  Outcome refused = Run({"approve", msg}, "carol");
  EXPECT_EQ(refused.code, kExitError);
  EXPECT_THAT(refused.err, HasSubstr("--as-written"));
  Outcome o = Run({"approve", msg, "--as-written"}, "carol");
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

// Scripts can rely on the keys: an empty list is [], never left out.
TEST_F(CliTest, JsonOutputPrintsEveryListKeyEvenWhenEmpty) {
  for (const auto& [args, key] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"incidents", "-o", "json"}, "\"incidents\": []"},
           {{"messages", "-o", "json"}, "\"messages\": []"},
           {{"oncall", "override", "list", "-o", "json"},
            "\"overrides\": []"}}) {
    Outcome o = Run(args, "carol");
    ASSERT_EQ(o.code, kExitOk) << o.err;
    EXPECT_THAT(o.out, HasSubstr(key)) << o.out;
  }
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

TEST_F(CliTest, ATranslationIsEditedPreviewedAndRemovedByLanguage) {
  const std::string msg = Draft();
  ASSERT_EQ(Run({"subscribers", "add", "hans", "--email", "hans@example.de",
                 "--component", "checkout", "--locale", "de"},
                "bob")
                .code,
            kExitOk);
  Outcome before = Run({"messages", "preview", msg}, "carol");
  EXPECT_THAT(before.out, HasSubstr("in de (1 reader(s) among the first looked "
                                    "at): NOT TRANSLATED"));

  const std::string body = ::testing::TempDir() + "/herald-cli-german.txt";
  std::ofstream(body) << "Wir haben die Änderung zurückgenommen.\n";
  Outcome o = Run({"messages", "edit", msg, "--language", "de", "--title",
                   "Fehler im Checkout", "--body-file", body},
                  "bob");
  ASSERT_EQ(o.code, kExitOk) << o.err;
  Outcome after = Run({"messages", "preview", msg}, "carol");
  EXPECT_THAT(after.out, HasSubstr("in de (1 reader(s) among the first looked "
                                   "at): translated"));
  EXPECT_THAT(after.out, HasSubstr("Wir haben die Änderung zurückgenommen."));
  EXPECT_THAT(Run({"messages", "preview", msg, "-o", "json"}, "carol").out,
              HasSubstr("\"translated\": true"));

  // A language herald cannot write in is refused with the flag's value named.
  Outcome french = Run({"messages", "edit", msg, "--language", "fr", "--title",
                        "Erreurs", "--body-file", body},
                       "bob");
  EXPECT_NE(french.code, kExitOk);
  EXPECT_THAT(french.err, HasSubstr("translations[fr]"));
  EXPECT_EQ(Run({"messages", "edit", msg, "--remove-translation"}, "bob").code,
            kExitUsage);

  ASSERT_EQ(
      Run({"messages", "edit", msg, "--language", "de", "--remove-translation"},
          "bob")
          .code,
      kExitOk);
  EXPECT_THAT(Run({"messages", "preview", msg}, "carol").out,
              HasSubstr("NOT TRANSLATED"));
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
  // The notices its approval covers are named, each to be edited first.
  EXPECT_THAT(o.out, HasSubstr("Its approval also approves"));
  EXPECT_THAT(o.out, HasSubstr("started: Maintenance of Checkout has started"));
  const std::string msg = DraftRef(o);
  Outcome preview = Run({"messages", "preview", msg}, "carol");
  EXPECT_THAT(preview.out, HasSubstr("maintenance on Checkout."));
  EXPECT_THAT(preview.out, HasSubstr("approving it also approves"));
  // The list says which notice each is, and whose approval covers it.
  Outcome list = Run({"messages", "--incident", "INC-1"}, "carol");
  EXPECT_THAT(list.out, HasSubstr("maintenance: announcement"));
  EXPECT_THAT(list.out,
              HasSubstr(absl::StrCat("maintenance: started, with ", msg)));
  // Before its window it cannot be completed; the error says what to do.
  Outcome early = Run({"maintenance", "complete", "INC-1"});
  EXPECT_NE(early.code, kExitOk);
  EXPECT_THAT(early.err, HasSubstr("herald maintenance cancel"));
  ASSERT_EQ(Run({"approve", msg, "--as-written"}, "carol").code, kExitOk);
  Outcome cancel =
      Run({"maintenance", "cancel", "INC-1", "--reason", "postponed"});
  EXPECT_EQ(cancel.code, kExitOk) << cancel.err;
  // Customers were told: the cancellation waits for approval.
  EXPECT_THAT(cancel.out, HasSubstr("the cancellation notice MSG-"));
  Outcome again = Run({"maintenance", "cancel", "INC-1"});
  EXPECT_NE(again.code, kExitOk);
  EXPECT_THAT(again.err, HasSubstr("INC-1 has already ended"));
}

TEST_F(CliTest, DeliveriesShowEachRecipientsProgressToCommsOnly) {
  const std::string msg = Draft();
  ASSERT_EQ(Run({"approve", msg, "--as-written"}, "carol").code, kExitOk);
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
          ->incident.ref();
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

}  // namespace cli_testing
}  // namespace herald::cli
