// ConsoleApi: the JSON behind the comms console, and for scripts. Each
// unary method of herald's gRPC services is reachable as
//   POST /console/api/herald.v1.MessageService/ApproveMessage
// with the request message in protobuf's JSON mapping as the body, and
// answers with the response message the same way. It is not a second
// implementation: the call goes through an in-process gRPC channel to the
// very services (and interceptors) the CLI uses, authenticated as the
// console session (with the Authorizer's console channel key, without which
// a session's secret is refused), so roles, four-eyes and authority apply
// exactly as in the gRPC API. gRPC status codes map to HTTP ones; an error
// answers
// {"error": ..., "code": ...}. Thread-safe.
#ifndef HERALD_SERVER_HTTP_CONSOLE_API_H_
#define HERALD_SERVER_HTTP_CONSOLE_API_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"
#include "server/http/page_kit.h"

namespace herald {

inline constexpr char kConsoleApiPrefix[] = "/console/api/";

class ConsoleApi {
 public:
  // `console_key`: the Authorizer's console_channel_key(), presented on
  // every call so that the services accept the session's secret.
  ConsoleApi(std::shared_ptr<grpc::Channel> in_process,
             std::string console_key);

  // Calls `method` ("herald.v1.MessageService/ApproveMessage") with the JSON
  // request `json` ("" for an empty request) as the holder of `bearer`.
  // 404 for a method herald does not serve as a unary call, 400 for JSON
  // that is not the request message.
  HttpReply Call(absl::string_view method, absl::string_view json,
                 const std::string& bearer) const;

  // The same call with messages: `request` and `response` must be the
  // method's types. The console's pages use it.
  grpc::Status Invoke(absl::string_view method,
                      const google::protobuf::Message& request,
                      google::protobuf::Message& response,
                      const std::string& bearer) const;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string console_key_;
};

// The API's error reply: {"error": message, "code": code}.
HttpReply ConsoleApiError(int status, absl::string_view code,
                          absl::string_view message);

// The HTTP status for a gRPC status code.
int HttpStatusForGrpc(int grpc_code);

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_CONSOLE_API_H_
