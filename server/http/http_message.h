// The one request and the one reply every HTTP route works with, whatever
// the transport: the Beast sessions (http_session.cc) turn the wire into an
// HttpRequest and an HttpReply back into the wire; the routes (webhooks,
// status documents, self-service, the console) see only these. Plain values.
#ifndef HERALD_SERVER_HTTP_HTTP_MESSAGE_H_
#define HERALD_SERVER_HTTP_HTTP_MESSAGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/core/org/authorizer.h"

namespace herald {

struct HttpRequest {
  std::string method = "GET";  // as sent: GET, HEAD, POST, ...
  std::string path;            // before '?'
  std::string query;           // after '?', still encoded
  std::string content_type;
  std::string body;
  std::string peer;  // the client's network address; "" if unknown
  // The headers the console checks; "" when absent.
  std::string host;
  std::string origin;
  std::string cookie;
  std::string csrf_token;  // X-CSRF-Token
  // The headers public documents and pages answer to.
  std::string accept_encoding;
  std::string accept_language;
  std::string if_none_match;
  std::string if_modified_since;

  bool post() const { return method == "POST"; }
  bool get() const { return method == "GET" || method == "HEAD"; }
};

// A live console event stream a route grants instead of a body.
struct ConsoleEventStream {
  int64_t incident_id = 0;  // 0: every incident
  std::string secret;       // the session's; the stream ends with it
  Caller caller;            // what they may see (VisibleTo)
};

// A reply whose header lines were serialized once for many requests (a
// public document kept in memory): written as they are, with the body,
// without a copy of either. `head` and `body` point into `owner`, which
// the reply keeps alive until it is written.
struct SerializedReply {
  std::shared_ptr<const void> owner;
  // "Name: value\r\n" lines: every header but Connection and the request
  // id, which the connection adds.
  absl::string_view head;
  absl::string_view body;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set: instead of a body, the connection becomes this event stream.
  std::optional<ConsoleEventStream> events;
  // Set: the reply as it goes on the wire, after the status line; then
  // content_type, body and headers are unused.
  std::optional<SerializedReply> serialized;
};

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_HTTP_MESSAGE_H_
