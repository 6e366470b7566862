// HttpChannel POSTs JSON to an http(s) URL with libcurl: outbound webhooks,
// Slack-compatible incoming webhooks and the SMS gateway all go this way.
// With signing secrets, the request is signed per Standard Webhooks v1
// (`webhook-id` is the idempotency key, `webhook-timestamp` the clock's
// Unix seconds, `webhook-signature` one "v1,<base64>" per secret).
//   2xx within the timeout  delivered
//   410                     gone: the outbox disables the contact
//   408, 429, 5xx           retried, after the receiver's Retry-After if any
//   other 3xx and 4xx       rejected (redirects are not followed)
//   network trouble         retried
// With `shared_endpoint` (the SMS gateway: one provider for every
// recipient), network trouble, 408, 429 and 5xx are the channel's:
// kChannelDown, and no recipient's attempt is used up.
// Errors name the URL's scheme and host only: paths often carry tokens.
// Thread-safe: concurrent sends each use a connection of their own.
#ifndef HERALD_SERVER_DELIVERY_HTTP_CHANNEL_H_
#define HERALD_SERVER_DELIVERY_HTTP_CHANNEL_H_

#include <string>

#include "absl/time/time.h"
#include "server/base/clock.h"
#include "server/delivery/channel.h"
#include "server/delivery/curl_pool.h"

namespace herald {

struct HttpChannelOptions {
  absl::Duration timeout = absl::Seconds(10);
  std::string user_agent = "herald";
  bool shared_endpoint = false;  // see above
};

class HttpChannel final : public Channel {
 public:
  HttpChannel(HttpChannelOptions options, const Clock& clock);

  SendResult Send(const Outgoing& request) override;

 private:
  const HttpChannelOptions options_;
  const Clock& clock_;
  CurlPool curls_;
};

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_HTTP_CHANNEL_H_
