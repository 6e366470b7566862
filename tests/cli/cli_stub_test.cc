// The `herald` CLI against the generated Mock*Stubs, with no server behind
// it: the exact requests each command sends (paging, --limit, flags, the
// token) and what it prints for each reply or error.
#include <algorithm>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/cli.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpc/health/v1/health_mock.grpc.pb.h"
#include "grpcpp/test/client_context_test_peer.h"
#include "grpcpp/test/mock_stream.h"
#include "gtest/gtest.h"
#include "herald/v1/herald_mock.grpc.pb.h"

namespace herald::cli {
namespace {

using grpc::health::v1::HealthCheckResponse;
using ::testing::_;
using ::testing::DoAll;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::InSequence;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Return;
using ::testing::SetArgPointee;
using ::testing::StartsWith;
using ::testing::StrictMock;

// The message `text` (protobuf text format) describes.
template <typename M>
M Proto(const std::string& text) {
  M m;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &m)) << text;
  return m;
}

// The request equals the message `text` describes, every field compared.
MATCHER_P(EqualsProto, text, absl::StrCat("equals { ", text, " }")) {
  using M = std::decay_t<arg_type>;
  const M expected = Proto<M>(text);
  google::protobuf::util::MessageDifferencer differ;
  std::string diff;
  differ.ReportDifferencesToString(&diff);
  if (differ.Compare(expected, arg)) return true;
  *result_listener << "differs: " << diff;
  return false;
}

// A unary RPC that answers `reply`.
template <typename M>
auto Reply(const M& reply) {
  return DoAll(SetArgPointee<2>(reply), Return(grpc::Status::OK));
}

auto Fail(grpc::StatusCode code, const std::string& message) {
  return Return(grpc::Status(code, message));
}

// When every command runs: `--at 8h` counts from here.
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

class CliStubTest : public ::testing::Test {
 protected:
  struct Outcome {
    int code;
    std::string out, err;
  };

  // Runs `herald <args>`, once per test: the first connect hands over the
  // mocks, so the test sets its expectations on incidents_, messages_, ...
  // before, and they are checked (and gone) when the command ends.
  Outcome Run(std::vector<std::string> args) {
    args.insert(args.begin(), "herald");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    Connector connect = [this](const ConnectOptions& o) {
      ++connects_;
      connected_to_ = o;
      if (!owned_.incidents) {
        ADD_FAILURE() << "connected twice";
        return StrictStubs();
      }
      return std::move(owned_);
    };
    auto env = [this](const char* name) -> std::string {
      auto it = env_.find(name);
      return it == env_.end() ? "" : it->second;
    };
    std::ostringstream out, err;
    const int code = cli::Run(static_cast<int>(argv.size()), argv.data(),
                              connect, env, out, err, kNow);
    return {code, out.str(), err.str()};
  }

  static Stubs StrictStubs() {
    Stubs s;
    s.incidents = std::make_unique<StrictMock<v1::MockIncidentServiceStub>>();
    s.messages = std::make_unique<StrictMock<v1::MockMessageServiceStub>>();
    s.oncall = std::make_unique<StrictMock<v1::MockOnCallServiceStub>>();
    s.subscribers =
        std::make_unique<StrictMock<v1::MockSubscriberServiceStub>>();
    s.aftercare = std::make_unique<StrictMock<v1::MockAftercareServiceStub>>();
    s.admin = std::make_unique<StrictMock<v1::MockAdminServiceStub>>();
    s.health = std::make_unique<StrictMock<grpc::health::v1::MockHealthStub>>();
    return s;
  }

  template <typename Mock>
  static Mock& As(auto& stub) {
    return static_cast<Mock&>(*stub);
  }

  // Three pages of open and resolved incidents: INC-4 .. INC-1.
  void ExpectIncidentsInThreePages() {
    InSequence pages;
    EXPECT_CALL(incidents_, ListIncidents(_,
                                          EqualsProto("include_resolved: true "
                                                      "page_size: 1000"),
                                          _))
        .WillOnce(Reply(Proto<v1::ListIncidentsResponse>(
            "incidents { ref: 'INC-4' title: 'Checkout errors' } "
            "incidents { ref: 'INC-3' title: 'Slow search' } "
            "next_page_token: 'p2'")));
    EXPECT_CALL(incidents_,
                ListIncidents(_,
                              EqualsProto("include_resolved: true "
                                          "page_size: 1000 page_token: 'p2'"),
                              _))
        .WillOnce(Reply(Proto<v1::ListIncidentsResponse>(
            "incidents { ref: 'INC-2' title: 'Login loop' } "
            "next_page_token: 'p3'")));
    EXPECT_CALL(incidents_,
                ListIncidents(_,
                              EqualsProto("include_resolved: true "
                                          "page_size: 1000 page_token: 'p3'"),
                              _))
        .WillOnce(Reply(Proto<v1::ListIncidentsResponse>(
            "incidents { ref: 'INC-1' title: 'DNS' "
            "resolved_at { seconds: 1 } }")));
  }

  // --limit 3 on failed deliveries: two pages make three, the third is
  // never asked for.
  void ExpectThreeFailedDeliveriesOfMore() {
    InSequence pages;
    EXPECT_CALL(messages_,
                ListDeliveries(_, EqualsProto("failed: true page_size: 3"), _))
        .WillOnce(Reply(Proto<v1::ListDeliveriesResponse>(
            "deliveries { id: 9 state: DELIVERY_STATE_FAILED } "
            "deliveries { id: 8 state: DELIVERY_STATE_FAILED } "
            "next_page_token: 'd2'")));
    EXPECT_CALL(messages_, ListDeliveries(_,
                                          EqualsProto("failed: true "
                                                      "page_size: 1 "
                                                      "page_token: 'd2'"),
                                          _))
        .WillOnce(Reply(Proto<v1::ListDeliveriesResponse>(
            "deliveries { id: 7 state: DELIVERY_STATE_FAILED } "
            "next_page_token: 'd3'")));
  }

  Stubs owned_ = StrictStubs();
  StrictMock<v1::MockIncidentServiceStub>& incidents_ =
      As<StrictMock<v1::MockIncidentServiceStub>>(owned_.incidents);
  StrictMock<v1::MockMessageServiceStub>& messages_ =
      As<StrictMock<v1::MockMessageServiceStub>>(owned_.messages);
  StrictMock<v1::MockOnCallServiceStub>& oncall_ =
      As<StrictMock<v1::MockOnCallServiceStub>>(owned_.oncall);
  StrictMock<grpc::health::v1::MockHealthStub>& health_ =
      As<StrictMock<grpc::health::v1::MockHealthStub>>(owned_.health);
  std::map<std::string, std::string> env_;
  int connects_ = 0;
  ConnectOptions connected_to_;
};

// 1. Paging.

TEST_F(CliStubTest, AllIncidentsFollowsEveryPageTokenAndPrintsEveryRow) {
  ExpectIncidentsInThreePages();
  Outcome o = Run({"incidents", "--all"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  for (const char* ref : {"INC-4", "INC-3", "INC-2", "INC-1"}) {
    EXPECT_THAT(o.out, HasSubstr(ref));
  }
  EXPECT_THAT(o.out, StartsWith("ID "));
  EXPECT_EQ(std::count(o.out.begin(), o.out.end(), '\n'), 5);  // header + 4
  EXPECT_THAT(o.out, HasSubstr("resolved"));
  EXPECT_THAT(o.err, IsEmpty());
}

TEST_F(CliStubTest, AllIncidentsAsJsonIsOneResponseHoldingEveryPage) {
  ExpectIncidentsInThreePages();
  Outcome o = Run({"incidents", "-a", "-o", "json"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  v1::ListIncidentsResponse merged;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(o.out, &merged).ok())
      << o.out;
  ASSERT_EQ(merged.incidents_size(), 4);
  EXPECT_EQ(merged.incidents(0).ref(), "INC-4");
  EXPECT_EQ(merged.incidents(3).ref(), "INC-1");
  EXPECT_THAT(o.out, HasSubstr("\"nextPageToken\": \"\""));
}

TEST_F(CliStubTest, AServerRepeatingAPageTokenStopsThePagingWithAnError) {
  EXPECT_CALL(incidents_, ListIncidents(_, _, _))
      .WillOnce(Reply(Proto<v1::ListIncidentsResponse>(
          "incidents { ref: 'INC-4' } next_page_token: 'p2'")))
      .WillOnce(Reply(Proto<v1::ListIncidentsResponse>(
          "incidents { ref: 'INC-3' } next_page_token: 'p2'")));
  Outcome o = Run({"incidents", "--all"});
  EXPECT_EQ(o.code, kExitError);
  EXPECT_THAT(o.err, HasSubstr("the same page twice"));
}

// 2. Empty lists.

TEST_F(CliStubTest, EmptyListAsJsonStillHasItsKey) {
  EXPECT_CALL(incidents_, ListIncidents(_, EqualsProto("page_size: 1000"), _))
      .WillOnce(Reply(v1::ListIncidentsResponse()));
  Outcome o = Run({"incidents", "-o", "json"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("\"incidents\": []"));
  EXPECT_THAT(o.out, HasSubstr("\"nextPageToken\": \"\""));
}

TEST_F(CliStubTest, EmptyListAsATableSaysSo) {
  EXPECT_CALL(incidents_, ListIncidents(_, EqualsProto("page_size: 1000"), _))
      .WillOnce(Reply(v1::ListIncidentsResponse()));
  Outcome o = Run({"incidents"});
  EXPECT_EQ(o.code, kExitOk);
  EXPECT_EQ(o.out, "No open incidents.\n");
}

TEST_F(CliStubTest, OncallWithoutAssignmentsSaysNoRotas) {
  EXPECT_CALL(oncall_, GetOnCall(_, EqualsProto(""), _))
      .WillOnce(Reply(v1::GetOnCallResponse()));
  Outcome o = Run({"oncall"});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_EQ(o.out, "No rotas.\n");
}

TEST_F(CliStubTest, OncallAtADurationAsksAboutThatTimeFromNow) {
  EXPECT_CALL(oncall_,
              GetOnCall(_,
                        EqualsProto(absl::StrCat(
                            "component: 'checkout' at { seconds: ",
                            absl::ToUnixSeconds(kNow + absl::Hours(8)), " }")),
                        _))
      .WillOnce(Reply(v1::GetOnCallResponse()));
  EXPECT_EQ(Run({"oncall", "checkout", "--at", "8h"}).code, kExitOk);
}

// 3. --limit.

TEST_F(CliStubTest, DeliveriesLimitAsksForNoMoreAndSaysMoreFollow) {
  ExpectThreeFailedDeliveriesOfMore();
  Outcome o = Run({"deliveries", "--failed", "--limit", "3"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  for (const char* id : {"\n9 ", "\n8 ", "\n7 "}) {
    EXPECT_THAT(o.out, HasSubstr(id));
  }
  EXPECT_THAT(o.out, EndsWith("3 deliveries: 3 failed\n"
                              "More follow; --limit 0 shows them all.\n"));
}

TEST_F(CliStubTest, DeliveriesLimitAsJsonKeepsTheNextPageToken) {
  ExpectThreeFailedDeliveriesOfMore();
  Outcome o = Run({"deliveries", "--failed", "--limit", "3", "-o", "json"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  v1::ListDeliveriesResponse merged;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(o.out, &merged).ok())
      << o.out;
  EXPECT_EQ(merged.deliveries_size(), 3);
  EXPECT_EQ(merged.next_page_token(), "d3");
}

TEST_F(CliStubTest, AlertsLimitStopsPagingAndShowsHowManyOfAll) {
  InSequence pages;
  EXPECT_CALL(incidents_,
              ListAlerts(_, EqualsProto("incident: 'INC-3' page_size: 2"), _))
      .WillOnce(Reply(Proto<v1::ListAlertsResponse>(
          "alerts { fingerprint: 'fp1' } next_page_token: 'a2' "
          "total_count: 5")));
  EXPECT_CALL(incidents_, ListAlerts(_,
                                     EqualsProto("incident: 'INC-3' "
                                                 "page_size: 1 "
                                                 "page_token: 'a2'"),
                                     _))
      .WillOnce(Reply(Proto<v1::ListAlertsResponse>(
          "alerts { fingerprint: 'fp2' } next_page_token: 'a3' "
          "total_count: 5")));
  Outcome o = Run({"alerts", "INC-3", "--limit", "2"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("fp1"));
  EXPECT_THAT(o.out, HasSubstr("fp2"));
  EXPECT_THAT(o.out, EndsWith("Showing 2 of 5 alerts (--limit).\n"));
}

// 4. Errors.

TEST_F(CliStubTest, UnreachableServerExitsOneNamingTheServer) {
  EXPECT_CALL(incidents_, ListIncidents(_, _, _))
      .WillOnce(Fail(grpc::StatusCode::UNAVAILABLE,
                     "failed to connect to all addresses"));
  Outcome o = Run({"--server", "heraldd.prod:7601", "incidents"});
  EXPECT_EQ(o.code, kExitError);
  EXPECT_EQ(connected_to_.server, "heraldd.prod:7601");
  EXPECT_EQ(o.err,
            "herald: unavailable: cannot reach heraldd at heraldd.prod:7601 "
            "(--server or HERALD_SERVER); if it serves TLS, pass --ca-cert: "
            "failed to connect to all addresses\n");
  EXPECT_THAT(o.out, IsEmpty());
}

TEST_F(CliStubTest, PermissionDeniedIsOneLineWithTheServersReason) {
  EXPECT_CALL(messages_, ApproveMessage(_, _, _))
      .WillOnce(Fail(grpc::StatusCode::PERMISSION_DENIED,
                     "approving needs the comms_lead role"));
  Outcome o = Run({"approve", "MSG-4"});
  EXPECT_EQ(o.code, kExitError);
  EXPECT_EQ(o.err,
            "herald: permission denied: approving needs the comms_lead role\n");
  EXPECT_THAT(o.out, IsEmpty());
}

TEST_F(CliStubTest, LongMultiLineServerMessageIsCutToOneLine) {
  EXPECT_CALL(messages_, ApproveMessage(_, _, _))
      .WillOnce(Fail(grpc::StatusCode::FAILED_PRECONDITION,
                     "first line\nsecond line\r\n" + std::string(1000, 'x')));
  Outcome o = Run({"approve", "MSG-4"});
  EXPECT_EQ(o.code, kExitError);
  const std::string prefix = "herald: failed precondition: ";
  EXPECT_THAT(o.err, StartsWith(prefix + "first line second line  xxx"));
  EXPECT_THAT(o.err, EndsWith("xxx...\n"));
  EXPECT_EQ(o.err.size(), prefix.size() + 400 + 1);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1);
}

// A cut never leaves half a character (which would print as U+FFFD).
TEST_F(CliStubTest, LongServerMessageIsCutBetweenCharacters) {
  std::string accents;
  for (int i = 0; i < 300; ++i) accents += "\xC3\xA9";  // é, two bytes
  EXPECT_CALL(messages_, ApproveMessage(_, _, _))
      .WillOnce(Fail(grpc::StatusCode::FAILED_PRECONDITION, accents));
  Outcome o = Run({"approve", "MSG-4"});
  EXPECT_EQ(o.code, kExitError);
  EXPECT_THAT(o.err, Not(HasSubstr("\xEF\xBF\xBD")));  // U+FFFD
  EXPECT_THAT(o.err, EndsWith("\xC3\xA9...\n"));
}

// The watch's own error path words the server's message on one line too.
TEST_F(CliStubTest, WatchEndedByTheServerSaysWhyOnOneLine) {
  auto* reader =
      new StrictMock<grpc::testing::MockClientReader<v1::WatchEvent>>;
  EXPECT_CALL(incidents_, WatchRaw(_, EqualsProto("incident: 'INC-3'")))
      .WillOnce(Return(reader));  // the CLI owns it
  EXPECT_CALL(*reader, Read(_)).WillOnce(Return(false));
  EXPECT_CALL(*reader, Finish())
      .WillOnce(Return(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                    "no access\nto INC-3")));
  Outcome o = Run({"watch", "INC-3"});
  EXPECT_EQ(o.code, kExitError);
  EXPECT_EQ(o.err,
            "herald watch: the stream ended: permission denied: no access to "
            "INC-3\n");
}

// 5. The token.

struct TokenCase {
  std::string name;
  std::vector<std::string> args;
  std::string env_token;  // HERALD_TOKEN
  std::string bearer;     // the authorization sent; empty: none
};

class CliStubTokenTest : public CliStubTest,
                         public ::testing::WithParamInterface<TokenCase> {};

// The generated mock receives the real ClientContext, and gRPC's
// ClientContextTestPeer reads what it would send.
TEST_P(CliStubTokenTest, TokenTravelsAsBearerAuthorization) {
  env_["HERALD_TOKEN"] = GetParam().env_token;
  std::multimap<std::string, std::string> sent;
  EXPECT_CALL(incidents_, ListIncidents(_, _, _))
      .WillOnce([&](grpc::ClientContext* ctx, const v1::ListIncidentsRequest&,
                    v1::ListIncidentsResponse*) {
        sent =
            grpc::testing::ClientContextTestPeer(ctx).GetSendInitialMetadata();
        return grpc::Status::OK;
      });
  std::vector<std::string> args = GetParam().args;
  args.push_back("incidents");
  ASSERT_EQ(Run(args).code, kExitOk);
  EXPECT_EQ(connected_to_.token, GetParam().bearer);
  if (GetParam().bearer.empty()) {
    EXPECT_EQ(sent.count("authorization"), 0u);
  } else {
    EXPECT_THAT(sent, ::testing::ElementsAre(::testing::Pair(
                          "authorization", "Bearer " + GetParam().bearer)));
  }
}

INSTANTIATE_TEST_SUITE_P(
    CliStubTokenFlagOrEnvironment, CliStubTokenTest,
    ::testing::Values(
        TokenCase{"FromTheFlag", {"--token", "tok-flag"}, "", "tok-flag"},
        TokenCase{"FromTheEnvironment", {}, "tok-env", "tok-env"},
        TokenCase{"FlagBeatsEnvironment",
                  {"--token=tok-flag"},
                  "tok-env",
                  "tok-flag"},
        TokenCase{"NoneWhenUnset", {}, "", ""}),
    [](const auto& info) { return info.param.name; });

// 6. Commands that change something.

TEST_F(CliStubTest, ResolveSendsTheIncidentAndNoteAndListsTheDrafts) {
  EXPECT_CALL(incidents_,
              ResolveIncident(_,
                              EqualsProto("incident: 'INC-3' "
                                          "note: 'bad deploy rolled back'"),
                              _))
      .Times(1)
      .WillOnce(Reply(Proto<v1::ResolveIncidentResponse>(
          "incident { ref: 'INC-3' } "
          "drafts { ref: 'MSG-7' kind: MESSAGE_KIND_RESOLUTION "
          "title: 'Resolved: checkout' } "
          "drafts { ref: 'MSG-8' kind: MESSAGE_KIND_APOLOGY title: 'Sorry' "
          "}")));
  Outcome o = Run({"resolve", "INC-3", "--note", "bad deploy rolled back"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_EQ(o.out,
            "INC-3 resolved. Drafts waiting for approval:\n"
            "  MSG-7  resolution  Resolved: checkout\n"
            "  MSG-8  apology  Sorry\n");
}

TEST_F(CliStubTest, ApproveSendsTheReviewedVersionAndConfirms) {
  EXPECT_CALL(messages_,
              ApproveMessage(_, EqualsProto("message: 'MSG-4' version: 2"), _))
      .Times(1)
      .WillOnce(Reply(Proto<v1::ApproveMessageResponse>(
          "message { ref: 'MSG-4' version: 2 } deliveries_enqueued: 12")));
  Outcome o = Run({"approve", "MSG-4", "--version", "2"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_EQ(o.out, "MSG-4 approved and published; 12 recipient(s) queued.\n");
}

TEST_F(CliStubTest, ApproveAsJsonPrintsTheResponse) {
  const auto reply = Proto<v1::ApproveMessageResponse>(
      "message { ref: 'MSG-4' version: 2 } deliveries_enqueued: 12");
  EXPECT_CALL(messages_,
              ApproveMessage(_, EqualsProto("message: 'MSG-4' version: 2"), _))
      .Times(1)
      .WillOnce(Reply(reply));
  Outcome o = Run({"-o", "json", "approve", "MSG-4", "--version", "2"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  v1::ApproveMessageResponse printed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(o.out, &printed).ok())
      << o.out;
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(printed, reply));
  EXPECT_THAT(o.out, HasSubstr("\"deliveriesEnqueued\": 12"));
}

// 7. Usage errors.

struct UsageCase {
  std::string name;
  std::vector<std::string> args;
  std::string says;
};

class CliStubUsageTest : public CliStubTest,
                         public ::testing::WithParamInterface<UsageCase> {};

// Every service is a StrictMock with no expectations: any call fails.
TEST_P(CliStubUsageTest, ExitsTwoWithoutCallingTheServer) {
  Outcome o = Run(GetParam().args);
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_EQ(connects_, 0);
  EXPECT_THAT(o.err, HasSubstr(GetParam().says));
  EXPECT_THAT(o.err, EndsWith("(see --help)\n"));
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1);
  EXPECT_THAT(o.out, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    CliStubUsageBadArguments, CliStubUsageTest,
    ::testing::Values(
        UsageCase{"UnknownFlag", {"incidents", "--everything"}, "everything"},
        UsageCase{"UnknownOutput", {"incidents", "-o", "yaml"}, "yaml"},
        UsageCase{"MissingArgument", {"approve"}, "MESSAGE"},
        UsageCase{"NotANumber",
                  {"approve", "MSG-4", "--version", "two"},
                  "--version"},
        UsageCase{"BadEta", {"update", "INC-3", "x", "--eta", "soon"}, "--eta"},
        UsageCase{"BadAt", {"oncall", "--at", "tomorrow"}, "--at"},
        UsageCase{"AlertsOfNothing", {"alerts"}, "--unrouted"},
        UsageCase{
            "ZeroAlertsLimit", {"alerts", "INC-3", "--limit", "0"}, "--limit"},
        UsageCase{"DeliveriesOfNothing", {"deliveries"}, "--failed"},
        UsageCase{"RetrySinceWithoutFailed",
                  {"deliveries", "retry", "MSG-4", "--since", "2h"},
                  "--since and --channel go with --failed"},
        UsageCase{"UnknownState", {"messages", "--state", "bogus"}, "bogus"},
        UsageCase{"BadContact",
                  {"subscribers", "add", "s1", "--component", "api",
                   "--contact", "pigeon:x"},
                  "pigeon"},
        UsageCase{"UnreadableCsv",
                  {"subscribers", "import", "/nonexistent/herald.csv"},
                  "/nonexistent/herald.csv"},
        UsageCase{"NotUtf8", {"update", "INC-3", "\xC3("}, "UTF-8"}),
    [](const auto& info) { return info.param.name; });

// 8. Health.

TEST_F(CliStubTest, HealthServingExitsZero) {
  EXPECT_CALL(health_, Check(_, EqualsProto(""), _))
      .WillOnce(Reply(Proto<HealthCheckResponse>("status: SERVING")));
  Outcome o = Run({"health"});
  EXPECT_EQ(o.code, kExitOk);
  EXPECT_EQ(o.out, "SERVING\n");
}

TEST_F(CliStubTest, HealthNotServingExitsOne) {
  EXPECT_CALL(health_, Check(_, EqualsProto(""), _))
      .WillOnce(Reply(Proto<HealthCheckResponse>("status: NOT_SERVING")));
  Outcome o = Run({"health"});
  EXPECT_EQ(o.code, kExitError);
  EXPECT_EQ(o.out, "NOT_SERVING\n");
  EXPECT_THAT(o.err, IsEmpty());
}

}  // namespace
}  // namespace herald::cli
