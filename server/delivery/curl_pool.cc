#include "server/delivery/curl_pool.h"

#include <mutex>

namespace herald {

CurlPool::CurlPool() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CurlPool::~CurlPool() {
  absl::MutexLock lock(&mu_);
  for (CURL* c : idle_) curl_easy_cleanup(c);
}

CurlPool::Handle CurlPool::Take() {
  CURL* c = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      c = idle_.back();
      idle_.pop_back();
    }
  }
  if (c == nullptr) c = curl_easy_init();
  if (c != nullptr) curl_easy_reset(c);
  return Handle(c, Release{this});
}

std::string UrlForErrors(const std::string& url) {
  CURLU* u = curl_url();
  std::string out = "(unparsable URL)";
  if (u != nullptr &&
      curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* scheme = nullptr;
    char* host = nullptr;
    char* port = nullptr;
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    out = std::string(scheme ? scheme : "") + "://" + (host ? host : "") +
          (port ? std::string(":") + port : "");
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return out;
}

void CurlPool::Return(CURL* c) {
  if (c == nullptr) return;
  absl::MutexLock lock(&mu_);
  idle_.push_back(c);
}

}  // namespace herald
