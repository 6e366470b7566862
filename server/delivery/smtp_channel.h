// SmtpChannel sends email over SMTP with libcurl (smtp:// with STARTTLS when
// the server offers it, or smtps://). The Message-ID is derived from the
// idempotency key, so a resent email is recognisably the same. An email with
// an HTML body goes out as multipart/alternative; one with an unsubscribe URL
// carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058) and List-Id.
// Every header written from data goes through email_headers.h: no control
// character reaches it, non-ASCII text is RFC 2047-encoded, long ones are
// folded; an address that is not plain printable ASCII is refused.
// A relay that does not answer, answers 421, times out or refuses the login
// is kChannelDown (the relay's trouble, not the recipient's); a 5xx is a
// rejection, a 4xx a retry.
// Thread-safe: concurrent sends each use a connection of their own, and idle
// connections are kept for reuse.
#ifndef HERALD_SERVER_DELIVERY_SMTP_CHANNEL_H_
#define HERALD_SERVER_DELIVERY_SMTP_CHANNEL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/base/clock.h"
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

  SendResult Send(const Outgoing& email) override;

  // The header lines Send() puts on the email (Date, From, To, Subject,
  // Message-ID, and the List-* headers); libcurl adds the MIME headers.
  // Exposed for tests.
  std::vector<std::string> Headers(const Outgoing& email) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_SMTP_CHANNEL_H_
