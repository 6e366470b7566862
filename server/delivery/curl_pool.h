// libcurl support shared by the channels. CurlPool lends easy handles to
// concurrent senders and keeps the returned ones, so that each handle's open
// connection is reused by the next send to the same host. Thread-safe.
#ifndef HERALD_SERVER_DELIVERY_CURL_POOL_H_
#define HERALD_SERVER_DELIVERY_CURL_POOL_H_

#include <curl/curl.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace herald {

class CurlPool {
 public:
  struct Release {
    CurlPool* pool;
    void operator()(CURL* c) const { pool->Return(c); }
  };
  using Handle = std::unique_ptr<CURL, Release>;

  CurlPool();
  ~CurlPool();
  CurlPool(const CurlPool&) = delete;
  CurlPool& operator=(const CurlPool&) = delete;

  // A handle reset to its defaults, with its connection cache kept; null
  // when libcurl cannot make one.
  Handle Take();

 private:
  void Return(CURL* c);

  absl::Mutex mu_;
  std::vector<CURL*> idle_ ABSL_GUARDED_BY(mu_);
};

// "scheme://host[:port]" of `url`, for errors and logs: user info, paths and
// queries often carry credentials (a Slack webhook's path is its secret).
std::string UrlForErrors(const std::string& url);

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_CURL_POOL_H_
