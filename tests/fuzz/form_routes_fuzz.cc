// libFuzzer target: the form decoder and every self-service route's input.
// The first byte picks the route and GET or POST; the rest is the query
// (GET) or the form body (POST). No input may crash, answer 5xx, or put
// bytes that are not UTF-8 into a page; a decoded form holds only text.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "server/base/text.h"
#include "server/http/form_fields.h"
#include "server/http/self_service_routes.h"
#include "server/statuspage/status_page.h"
#include "tests/testing/harness.h"

namespace {

struct Routes {
  herald::testing::CoreHarness core;
  herald::StatusPage page{core.deps};
  herald::SelfServiceDeps deps{page, &core.portal, &core.follow_ups};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Routes* const routes = new Routes();
  static const char* const kPaths[] = {"/subscribe", "/subscribe/confirm",
                                       "/unsubscribe", "/follow-up"};
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);

  absl::StatusOr<herald::FormFields> form = herald::ParseUrlEncoded(input);
  if (form.ok()) {
    if (form->size() > herald::kMaxFormFields) __builtin_trap();
    for (const auto& [name, value] : *form) {
      if (!herald::CheckText(name, value).ok()) __builtin_trap();
    }
  } else if (!herald::IsValidUtf8(form.status().message())) {
    __builtin_trap();
  }

  herald::HttpRequest request;
  request.method = (data[0] & 4) != 0 ? "POST" : "GET";
  request.content_type = "application/x-www-form-urlencoded";
  (request.post() ? request.body : request.query) = input;
  const herald::HttpReply reply =
      herald::ServeSelfService(routes->deps, kPaths[data[0] % 4], request);
  if (reply.status >= 500 || !herald::IsValidUtf8(reply.body)) {
    __builtin_trap();
  }
  return 0;
}
