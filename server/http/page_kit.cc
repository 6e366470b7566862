#include "server/http/page_kit.h"

#include "absl/strings/str_cat.h"
#include "server/base/log.h"

namespace herald {

HttpReply HtmlPage(int status, absl::StatusOr<std::string> html,
                   absl::string_view what, absl::string_view referrer_policy,
                   absl::string_view csp) {
  HttpReply reply;
  reply.status = status;
  if (!html.ok()) {
    LogError(absl::StrCat(what, " failed to render"),
             {{"error", html.status().ToString()}});
    reply.status = 500;
    reply.content_type = "text/plain; charset=utf-8";
    reply.body = "internal error\n";
    return reply;
  }
  reply.content_type = "text/html; charset=utf-8";
  reply.body = *std::move(html);
  reply.headers = {
      {"Cache-Control", "no-store"},
      {"Referrer-Policy", std::string(referrer_policy)},
      {"X-Content-Type-Options", "nosniff"},
      {"Content-Security-Policy", std::string(csp)},
  };
  return reply;
}

}  // namespace herald
