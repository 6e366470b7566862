#include "server/delivery/http_channel.h"

#include <curl/curl.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/delivery/webhook_signature.h"

namespace herald {
namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

HttpChannel::HttpChannel(HttpChannelOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

SendResult HttpChannel::Send(const Outgoing& request) {
  const std::string where = UrlForErrors(request.address);
  if (!absl::StartsWith(request.address, "https://") &&
      !absl::StartsWith(request.address, "http://")) {
    return SendResult::Rejected(absl::StrCat("not an http(s) URL: ", where));
  }
  std::vector<std::string> lines = {
      "Content-Type: application/json",
      absl::StrCat("User-Agent: ", options_.user_agent),
  };
  if (!request.signing_secrets.empty()) {
    const int64_t timestamp = absl::ToUnixSeconds(clock_.Now());
    absl::StatusOr<std::string> signature = StandardWebhookSignature(
        request.signing_secrets, request.idempotency_key, timestamp,
        request.json);
    if (!signature.ok()) {
      return SendResult::Rejected(std::string(signature.status().message()));
    }
    lines.push_back(absl::StrCat("webhook-id: ", request.idempotency_key));
    lines.push_back(absl::StrCat("webhook-timestamp: ", timestamp));
    lines.push_back(absl::StrCat("webhook-signature: ", *signature));
  }

  CurlPool::Handle handle = curls_.Take();
  CURL* curl = handle.get();
  if (curl == nullptr) return SendResult::ChannelDown("curl_easy_init failed");
  curl_slist* headers = nullptr;
  for (const std::string& line : lines) {
    headers = curl_slist_append(headers, line.c_str());
  }
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, request.address.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.json.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(request.json.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(
      curl, CURLOPT_TIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_off_t retry_after = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after);
  curl_slist_free_all(headers);

  if (rc != CURLE_OK) {
    std::string detail = absl::StrCat(
        "POST ", where, ": ", error[0] ? error : curl_easy_strerror(rc));
    return options_.shared_endpoint ? SendResult::ChannelDown(std::move(detail))
                                    : SendResult::Retry(std::move(detail));
  }
  if (status >= 200 && status < 300) return SendResult::Delivered();
  const std::string detail = absl::StrCat("POST ", where, ": HTTP ", status);
  if (status == 410) return SendResult::Gone(detail);
  if (status == 408 || status == 429 || status >= 500) {
    return options_.shared_endpoint
               ? SendResult::ChannelDown(detail)
               : SendResult::Retry(detail, absl::Seconds(retry_after));
  }
  if (status >= 300 && status < 400) {
    return SendResult::Rejected(
        absl::StrCat(detail, " (redirects are not followed)"));
  }
  return SendResult::Rejected(detail);
}

}  // namespace herald
