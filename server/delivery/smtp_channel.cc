#include "server/delivery/smtp_channel.h"

#include <curl/curl.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/base/text.h"
#include "server/delivery/curl_pool.h"
#include "server/delivery/email_headers.h"

namespace herald {
namespace {

// Bare LF to CRLF, as SMTP requires.
std::string CrLf(absl::string_view body) {
  std::string out;
  out.reserve(body.size() + body.size() / 40);
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r')) out.push_back('\r');
    out.push_back(body[i]);
  }
  return out;
}

}  // namespace

struct SmtpChannel::Impl {
  SmtpOptions options;
  const Clock& clock;
  CurlPool curls;
};

SmtpChannel::SmtpChannel(SmtpOptions options, const Clock& clock)
    : impl_(new Impl{std::move(options), clock, {}}) {}

SmtpChannel::~SmtpChannel() = default;

std::vector<std::string> SmtpChannel::Headers(const Outgoing& d) const {
  const SmtpOptions& o = impl_->options;
  const std::string from_name = o.from_name.empty() ? "herald" : o.from_name;
  // The domain names the Message-ID and List-Id: atext and dots only.
  std::string domain = MessageIdLocalPart(o.from.substr(o.from.find('@') + 1));
  if (domain.empty()) domain = "herald.invalid";
  std::vector<std::string> headers = {
      absl::StrCat("Date: ",
                   absl::FormatTime("%a, %d %b %Y %H:%M:%S +0000",
                                    impl_->clock.Now(), absl::UTCTimeZone())),
      AddressHeader("From", from_name, o.from),
      AddressHeader("To", "", d.address),
      UnstructuredHeader("Subject", d.subject),
      absl::StrCat("Message-ID: <", MessageIdLocalPart(d.idempotency_key), "@",
                   domain, ">"),
  };
  if (!d.reply_to.empty() && IsHeaderSafeAddress(d.reply_to)) {
    headers.push_back(AddressHeader("Reply-To", "", d.reply_to));
  }
  if (!d.unsubscribe_url.empty() &&
      std::all_of(d.unsubscribe_url.begin(), d.unsubscribe_url.end(),
                  [](char c) {
                    return c > 0x20 && c < 0x7f && c != '<' && c != '>';
                  })) {
    // RFC 2919 names the list; RFC 8058 lets the mail client unsubscribe
    // with one POST, without opening a page.
    headers.push_back(
        AddressHeader("List-Id", from_name, absl::StrCat("updates.", domain)));
    headers.push_back(
        absl::StrCat("List-Unsubscribe: <", d.unsubscribe_url, ">"));
    headers.push_back("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
  }
  return headers;
}

SendResult SmtpChannel::Send(const Outgoing& delivery) {
  if (!IsHeaderSafeAddress(delivery.address)) {
    return SendResult::Rejected(absl::StrCat(
        "not a valid email address: \"",
        ScrubText(delivery.address, /*keep_newlines=*/false), "\""));
  }
  const SmtpOptions& o = impl_->options;
  if (!IsHeaderSafeAddress(o.from)) {
    // The configuration's fault, not the recipient's: wait for a fix.
    return SendResult::ChannelDown(
        absl::StrCat("smtp.from \"", ScrubText(o.from, /*keep_newlines=*/false),
                     "\" is not an email address"));
  }
  CurlPool::Handle handle = impl_->curls.Take();
  CURL* curl = handle.get();
  if (curl == nullptr) return SendResult::ChannelDown("curl_easy_init failed");

  const std::string from = absl::StrCat("<", o.from, ">");
  const std::string rcpt = absl::StrCat("<", delivery.address, ">");
  curl_slist* recipients = curl_slist_append(nullptr, rcpt.c_str());
  curl_slist* headers = nullptr;
  for (const std::string& h : Headers(delivery)) {
    headers = curl_slist_append(headers, h.c_str());
  }
  // libcurl writes the MIME structure: the text alone, or text and HTML as
  // multipart/alternative. Quoted-printable keeps every line short and
  // 7-bit clean whatever the templates produce.
  curl_mime* mime = curl_mime_init(curl);
  const auto add_text = [&](curl_mime* to, absl::string_view text,
                            const char* type) {
    curl_mimepart* part = curl_mime_addpart(to);
    const std::string crlf = CrLf(text);
    curl_mime_data(part, crlf.data(), crlf.size());
    curl_mime_type(part, type);
    curl_mime_encoder(part, "quoted-printable");
  };
  if (delivery.html.empty()) {
    add_text(mime, delivery.text, "text/plain; charset=utf-8");
  } else {
    curl_mime* alternative = curl_mime_init(curl);
    add_text(alternative, delivery.text, "text/plain; charset=utf-8");
    add_text(alternative, delivery.html, "text/html; charset=utf-8");
    curl_mimepart* part = curl_mime_addpart(mime);
    curl_mime_subparts(part, alternative);  // `part` owns it now
    curl_mime_type(part, "multipart/alternative");
  }
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, o.url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(o.timeout)));
  curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  if (!o.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, o.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, o.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(curl);
  long response = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response);
  curl_slist_free_all(recipients);
  curl_slist_free_all(headers);
  curl_mime_free(mime);
  if (rc == CURLE_OK) return SendResult::Delivered();

  const std::string detail =
      absl::StrCat("smtp ", UrlForErrors(o.url), ": ",
                   error[0] ? error : curl_easy_strerror(rc),
                   response ? absl::StrCat(" (reply ", response, ")") : "");
  // No reply at all (refused, unreachable, TLS), 421 (the relay is closing
  // the connection), a timeout, or a login refused: the relay is the
  // trouble, not this recipient. Otherwise a 5xx is permanent (the relay
  // refused this message or mailbox), and a 4xx may pass later.
  if (response == 0 || response == 421 || rc == CURLE_OPERATION_TIMEDOUT ||
      rc == CURLE_LOGIN_DENIED) {
    return SendResult::ChannelDown(detail);
  }
  if (response >= 500 && response < 600) return SendResult::Rejected(detail);
  return SendResult::Retry(detail);
}

}  // namespace herald
