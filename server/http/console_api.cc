#include "server/http/console_api.h"

#include <future>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "herald/json_output.h"
#include "server/core/org/authorizer.h"

namespace herald {
namespace {

namespace pb = google::protobuf;

HttpReply Json(int status, std::string body) {
  HttpReply reply;
  reply.status = status;
  reply.content_type = "application/json";
  reply.body = std::move(body);
  reply.headers = {{"Cache-Control", "no-store"},
                   {"X-Content-Type-Options", "nosniff"}};
  return reply;
}

}  // namespace

HttpReply ConsoleApiError(int status, absl::string_view code,
                          absl::string_view message) {
  pb::Struct error;
  (*error.mutable_fields())["error"].set_string_value(std::string(message));
  (*error.mutable_fields())["code"].set_string_value(std::string(code));
  return Json(status, ToReplyJson(error));
}

namespace {

// The unary herald.v1 method `method` names, or null.
const pb::MethodDescriptor* FindUnaryMethod(absl::string_view method) {
  if (!absl::StartsWith(method, "herald.v1.")) return nullptr;
  const pb::MethodDescriptor* found =
      pb::DescriptorPool::generated_pool()->FindMethodByName(
          absl::StrReplaceAll(method, {{"/", "."}}));
  if (found == nullptr || found->client_streaming() ||
      found->server_streaming()) {
    return nullptr;
  }
  return found;
}

}  // namespace

int HttpStatusForGrpc(int grpc_code) {
  switch (static_cast<absl::StatusCode>(grpc_code)) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;  // e.g. approving a version someone has since edited
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

ConsoleApi::ConsoleApi(std::shared_ptr<grpc::Channel> in_process,
                       std::string console_key)
    : channel_(std::move(in_process)), console_key_(std::move(console_key)) {}

HttpReply ConsoleApi::Call(absl::string_view method, absl::string_view json,
                           const std::string& bearer) const {
  const pb::MethodDescriptor* descriptor = FindUnaryMethod(method);
  if (descriptor == nullptr) {
    return ConsoleApiError(404, "NOT_FOUND",
                           absl::StrCat("no such API method \"", method,
                                        "\": use e.g. herald.v1.MessageService/"
                                        "ListMessages"));
  }
  pb::MessageFactory* factory = pb::MessageFactory::generated_factory();
  std::unique_ptr<pb::Message> request(
      factory->GetPrototype(descriptor->input_type())->New());
  if (!json.empty()) {
    const auto parsed = pb::util::JsonStringToMessage(
        pb::StringPiece(json.data(), json.size()), request.get());
    if (!parsed.ok()) {
      return ConsoleApiError(400, "INVALID_ARGUMENT",
                             absl::StrCat("the body is not a ",
                                          descriptor->input_type()->full_name(),
                                          ": ", parsed.message().as_string()));
    }
  }
  std::unique_ptr<pb::Message> response(
      factory->GetPrototype(descriptor->output_type())->New());
  const grpc::Status status = Invoke(method, *request, *response, bearer);
  if (!status.ok()) {
    return ConsoleApiError(
        HttpStatusForGrpc(status.error_code()),
        absl::StatusCodeToString(
            static_cast<absl::StatusCode>(status.error_code())),
        status.error_message());
  }
  return Json(200, ToReplyJson(*response));
}

grpc::Status ConsoleApi::Invoke(absl::string_view method,
                                const pb::Message& request,
                                pb::Message& response,
                                const std::string& bearer) const {
  const pb::MethodDescriptor* descriptor = FindUnaryMethod(method);
  if (descriptor == nullptr ||
      descriptor->input_type() != request.GetDescriptor() ||
      descriptor->output_type() != response.GetDescriptor()) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        absl::StrCat("no unary method \"", method,
                                     "\" with these message types"));
  }
  std::string wire;
  request.SerializeToString(&wire);
  grpc::Slice slice(wire);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", bearer));
  ctx.AddMetadata(kConsoleKeyMetadata, console_key_);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  std::promise<grpc::Status> done;
  grpc::GenericStub stub(channel_);
  stub.UnaryCall(&ctx,
                 absl::StrCat("/", descriptor->service()->full_name(), "/",
                              descriptor->name()),
                 grpc::StubOptions(), &request_buffer, &response_buffer,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  const grpc::Status status = done.get_future().get();
  if (!status.ok()) return status;
  std::vector<grpc::Slice> slices;
  if (!response_buffer.Dump(&slices).ok()) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "unreadable response");
  }
  std::string response_wire;
  for (const grpc::Slice& s : slices) {
    response_wire.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  if (!response.ParseFromString(response_wire)) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "unparsable response");
  }
  return grpc::Status::OK;
}

}  // namespace herald
