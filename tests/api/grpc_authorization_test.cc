// Every RPC crossed with every role, through a real in-process gRPC server.
#include <future>
#include <map>
#include <set>

#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "herald/v1/herald.grpc.pb.h"
#include "herald/v1/herald.pb.h"
#include "tests/testing/grpc_harness.h"

namespace herald {
namespace {

using testing::GrpcHarness;
using testing::TokenFor;

// The specification this test holds the server to, written independently of
// the server's own permission choices.
const std::map<std::string, std::set<std::string>>& AllowedPeople() {
  static const auto* const kTable =
      new std::map<std::string, std::set<std::string>>{
          {"/herald.v1.IncidentService/ListIncidents",
           {"alice", "bob", "carol", "dave", "erin"}},
          {"/herald.v1.IncidentService/GetIncident",
           {"alice", "bob", "carol", "dave", "erin"}},
          {"/herald.v1.IncidentService/PostUpdate", {"alice"}},
          {"/herald.v1.IncidentService/ResolveIncident",
           {"alice", "bob", "carol", "erin"}},
          {"/herald.v1.IncidentService/ScheduleMaintenance",
           {"alice", "bob", "carol", "erin"}},
          {"/herald.v1.IncidentService/CancelMaintenance",
           {"alice", "bob", "carol", "erin"}},
          {"/herald.v1.IncidentService/CompleteMaintenance",
           {"alice", "bob", "carol", "erin"}},
          {"/herald.v1.MessageService/ListMessages",
           {"alice", "bob", "carol", "dave", "erin"}},
          // Reaching the method; the rota's authority scope narrows it in core.
          {"/herald.v1.MessageService/ApproveMessage",
           {"bob", "carol", "erin"}},
          {"/herald.v1.MessageService/RejectMessage", {"bob", "carol", "erin"}},
          {"/herald.v1.MessageService/EditMessage", {"bob", "carol", "erin"}},
          {"/herald.v1.MessageService/GetMessage",
           {"alice", "bob", "carol", "dave", "erin"}},
          {"/herald.v1.MessageService/ListDeliveries",
           {"bob", "carol", "dave", "erin"}},
          {"/herald.v1.MessageService/RetryDeliveries",
           {"bob", "carol", "dave", "erin"}},
          {"/herald.v1.MessageService/GetInbox",
           {"alice", "bob", "carol", "dave", "erin"}},
          {"/herald.v1.MessageService/ListAudit",
           {"alice", "bob", "carol", "dave", "erin"}},
          {"/herald.v1.IncidentService/AcknowledgeIncident",
           {"alice", "bob", "carol", "dave", "erin"}},
          {"/herald.v1.IncidentService/ListAlerts",
           {"alice", "bob", "carol", "dave", "erin"}},
          {"/herald.v1.IncidentService/Watch",
           {"alice", "bob", "carol", "dave", "erin"}},
          {"/herald.v1.OnCallService/CreateOverride", {"carol", "dave"}},
          {"/herald.v1.OnCallService/ListOverrides",
           {"alice", "bob", "carol", "dave", "erin"}},
          {"/herald.v1.OnCallService/DeleteOverride", {"carol", "dave"}},
          {"/herald.v1.OnCallService/GetOnCall",
           {"alice", "bob", "carol", "dave", "erin"}},
          // Customers' contact details: comms roles and admin, not engineers.
          {"/herald.v1.SubscriberService/AddSubscriber",
           {"bob", "carol", "dave", "erin"}},
          {"/herald.v1.SubscriberService/ListSubscribers",
           {"bob", "carol", "dave", "erin"}},
          {"/herald.v1.SubscriberService/RemoveSubscriber",
           {"bob", "carol", "dave", "erin"}},
          {"/herald.v1.SubscriberService/ImportSubscribers",
           {"bob", "carol", "dave", "erin"}},
          {"/herald.v1.SubscriberService/ListAffectedCustomers",
           {"bob", "carol", "dave", "erin"}},
          {"/herald.v1.AftercareService/ListAmends",
           {"bob", "carol", "dave", "erin"}},
          // Credits above a rota's authority: admins only.
          {"/herald.v1.AftercareService/ApproveCredits", {"dave"}},
          {"/herald.v1.AftercareService/AttachPostmortem", {"carol", "dave"}},
          {"/herald.v1.AdminService/Backup", {"dave"}},
      };
  return *kTable;
}

std::vector<std::string> AllMethods() {
  std::vector<std::string> out;
  const auto* file = v1::ListIncidentsRequest::descriptor()->file();
  for (int s = 0; s < file->service_count(); ++s) {
    const auto* service = file->service(s);
    for (int m = 0; m < service->method_count(); ++m) {
      out.push_back(absl::StrCat("/", service->full_name(), "/",
                                 service->method(m)->name()));
    }
  }
  return out;
}

// Watch streams until cancelled; its first event says the stream is live.
grpc::Status WatchWithEmptyRequest(GrpcHarness& h, const std::string& token) {
  auto stub = v1::IncidentService::NewStub(h.channel);
  grpc::ClientContext ctx;
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  auto reader = stub->Watch(&ctx, v1::WatchRequest());
  v1::WatchEvent first;
  if (!reader->Read(&first)) return reader->Finish();  // refused
  ctx.TryCancel();
  reader->Finish();  // CANCELLED, as asked
  return grpc::Status::OK;
}

// Backup streams the database; reading it to the end gives its status.
grpc::Status BackupWithEmptyRequest(GrpcHarness& h, const std::string& token) {
  auto stub = v1::AdminService::NewStub(h.channel);
  grpc::ClientContext ctx;
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  auto reader = stub->Backup(&ctx, v1::BackupRequest());
  v1::BackupChunk chunk;
  while (reader->Read(&chunk)) {
  }
  return reader->Finish();
}

grpc::Status CallWithEmptyRequest(GrpcHarness& h, const std::string& method,
                                  const std::string& token) {
  if (method == "/herald.v1.IncidentService/Watch") {
    return WatchWithEmptyRequest(h, token);
  }
  if (method == "/herald.v1.AdminService/Backup") {
    return BackupWithEmptyRequest(h, token);
  }
  grpc::GenericStub stub(h.channel);
  grpc::ClientContext ctx;
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  grpc::Slice empty("", 0);
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

TEST(GrpcAuthorizationTest, EveryMethodHasAnExpectation) {
  for (const std::string& method : AllMethods()) {
    EXPECT_TRUE(AllowedPeople().contains(method))
        << method << " has no authorization expectation";
  }
  EXPECT_EQ(AllMethods().size(), AllowedPeople().size());
}

TEST(GrpcAuthorizationTest, EveryMethodCrossedWithEveryRole) {
  GrpcHarness h;
  for (const std::string& method : AllMethods()) {
    for (const auto& person : h.core.org->config().people()) {
      const bool allowed = AllowedPeople().at(method).contains(person.id());
      grpc::Status s = CallWithEmptyRequest(h, method, TokenFor(person.id()));
      if (allowed) {
        EXPECT_NE(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << method << " as " << person.id() << ": " << s.error_message();
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
      } else {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << method << " as " << person.id();
      }
    }
  }
}

TEST(GrpcAuthorizationTest, EveryMethodRefusesMissingAndUnknownTokens) {
  GrpcHarness h;
  for (const std::string& method : AllMethods()) {
    grpc::Status missing = CallWithEmptyRequest(h, method, "");
    EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << method;
    EXPECT_THAT(missing.error_message(),
                ::testing::HasSubstr("missing credentials"));
    EXPECT_EQ(CallWithEmptyRequest(h, method, "forged").error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << method;
  }
}

// ListIncidents on `channel` with `bearer`, presenting `console_key` unless
// it is empty, as the console's in-process calls do.
grpc::Status ListIncidentsAs(const std::shared_ptr<grpc::Channel>& channel,
                             const std::string& bearer,
                             const std::string& console_key) {
  auto stub = v1::IncidentService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + bearer);
  if (!console_key.empty()) ctx.AddMetadata(kConsoleKeyMetadata, console_key);
  v1::ListIncidentsResponse resp;
  return stub->ListIncidents(&ctx, v1::ListIncidentsRequest(), &resp);
}

TEST(GrpcAuthorizationTest,
     AConsoleSessionsSecretIsRefusedOnTheNetworkAndWorksOnlyForTheConsole) {
  GrpcHarness h;
  // Dave, an admin, signed in to the console. His session acts as him, but
  // only in calls that carry the console channel's key, which never leaves
  // the process: on the gRPC port the cookie is no token, Backup and Watch
  // included.
  const std::string secret =
      h.sessions.Start({"dave", {v1::ROLE_ADMIN}})->secret;
  for (const std::string& method : AllMethods()) {
    grpc::Status s = CallWithEmptyRequest(h, method, secret);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << method << ": " << s.error_message();
  }
  const std::string& key = h.authorizer.console_channel_key();
  auto in_process = h.server->InProcessChannel(grpc::ChannelArguments());
  EXPECT_EQ(ListIncidentsAs(in_process, secret, "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListIncidentsAs(in_process, secret, "guess").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ListIncidentsAs(in_process, secret, key).ok());
  // An API token needs no key, on either channel.
  EXPECT_TRUE(ListIncidentsAs(h.channel, TokenFor("dave"), "").ok());
  // Each Authorizer has its own key.
  Authorizer other(h.core.org, {}, h.core.server->random());
  EXPECT_NE(other.console_channel_key(), key);
  EXPECT_EQ(key.size(), 64u);
}

TEST(GrpcAuthorizationTest, DenialSaysWhichRoleIsNeeded) {
  GrpcHarness h;
  grpc::Status s = CallWithEmptyRequest(
      h, "/herald.v1.MessageService/ApproveMessage", TokenFor("alice"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("comms_lead"));
}

}  // namespace
}  // namespace herald
