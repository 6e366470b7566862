#include "tests/cli/cli_fixture.h"

namespace herald::cli {
namespace cli_testing {

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

  Outcome refused = Run({"approve", apology, "--as-written"}, "carol");
  EXPECT_EQ(refused.code, kExitError);
  EXPECT_THAT(refused.err, HasSubstr("an admin must approve the credits"));
  EXPECT_EQ(Run({"credits", "approve", "INC-1"}, "carol").code, kExitError)
      << "a comms lead is not an admin";
  Outcome admin = Run({"credits", "approve", "INC-1"}, "dave");
  ASSERT_EQ(admin.code, kExitOk) << admin.err;
  EXPECT_THAT(admin.out, HasSubstr("approved up to 25%"));
  ASSERT_EQ(Run({"approve", apology, "--as-written"}, "carol").code, kExitOk);

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
  ASSERT_EQ(Run({"approve", apology, "--as-written"}, "carol").code, kExitOk);
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
  ASSERT_EQ(Run({"approve", "MSG-2", "--as-written"}, "carol").code, kExitOk);
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
  EXPECT_EQ(h_.core.queries.GetIncident(1)->incident.postmortem().summary(),
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
  EXPECT_EQ(Run({"approve", msg, "--as-written"}, "carol").code, kExitError);
  ASSERT_EQ(
      Run({"messages", "edit", msg, "--title", "eu-west checkout"}, "bob").code,
      kExitOk);
  ASSERT_EQ(
      Run({"approve", msg, "--version", "2", "--as-written"}, "carol").code,
      kExitOk);
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

}  // namespace cli_testing
}  // namespace herald::cli
