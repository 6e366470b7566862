// SmtpChannel sends email deliveries over SMTP with libcurl (smtp:// with
// optional STARTTLS, or smtps://). The Message-ID is derived from the
// delivery's idempotency key, so a resent email is recognisably the same.
// A delivery with an HTML body goes out as multipart/alternative.
// It keeps one connection for reuse; sends are serialized. Thread-safe.
#ifndef HERALD_SERVER_DELIVERY_SMTP_CHANNEL_H_
#define HERALD_SERVER_DELIVERY_SMTP_CHANNEL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/core/clock.h"
#include "server/delivery/channel.h"

namespace herald {

struct SmtpOptions {
  std::string url;        // smtp://host:port or smtps://host:port
  std::string from;       // envelope and header sender address
  std::string from_name;  // display name in From:
  std::string username;   // empty: no AUTH
  std::string password;
  absl::Duration timeout = absl::Seconds(30);
};

class SmtpChannel final : public Channel {
 public:
  SmtpChannel(SmtpOptions options, const Clock& clock);
  ~SmtpChannel() override;

  absl::Status Send(const v1::Delivery& delivery) override;

  // The header lines Send() puts on the email (Date, From, To, Subject,
  // Message-ID); libcurl adds the MIME headers. Exposed for tests.
  std::vector<std::string> Headers(const v1::Delivery& delivery) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_SMTP_CHANNEL_H_
