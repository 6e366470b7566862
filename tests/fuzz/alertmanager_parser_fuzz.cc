// libFuzzer target: no input makes the Alertmanager payload parser crash,
// hang or read out of bounds. The first byte picks the Content-Type so the
// type check is explored too; the rest is the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "webhooks/alertmanager_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kTypes[] = {
      "application/json", "application/json; charset=utf-8", "text/plain", ""};
  if (size == 0) return 0;
  const char* type = kTypes[data[0] % 4];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  herald::webhooks::ParsedWebhook parsed =
      herald::webhooks::ParseAlertmanagerWebhook(type, body);
  if (auto* rejection =
          std::get_if<herald::webhooks::WebhookRejection>(&parsed)) {
    // Every rejection is a client error with a message.
    if (rejection->http_status() < 400 || rejection->http_status() >= 500)
      __builtin_trap();
    if (rejection->message.empty()) __builtin_trap();
  }
  return 0;
}
