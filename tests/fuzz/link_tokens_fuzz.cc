// libFuzzer target: the signed tokens in the links herald emails. No input
// may crash a check; a token made for the input as its subject checks back
// to that subject, for its own purpose only, and expires when it says.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "server/core/subscribers/link_tokens.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const herald::LinkTokens* const links =
      new herald::LinkTokens(std::string(64, 'k'));
  const std::string input(reinterpret_cast<const char*>(data), size);
  const absl::Time now = absl::FromUnixSeconds(1795428000);

  // Whatever the input is, checking it is safe.
  (void)links->CheckConfirm(input, now);
  (void)links->CheckUnsubscribe(input);
  (void)links->CheckAnswer(input);

  // Round trips: the input as a subject, as long as a subscriber id may be.
  if (input.empty() || input.size() > 128) return 0;
  const auto unsubscribe = links->CheckUnsubscribe(links->Unsubscribe(input));
  if (!unsubscribe.ok() || *unsubscribe != input) __builtin_trap();
  const auto confirm =
      links->CheckConfirm(links->Confirm(input, now + absl::Hours(1)), now);
  if (!confirm.ok() || *confirm != input) __builtin_trap();
  if (links->CheckConfirm(links->Confirm(input, now - absl::Seconds(1)), now)
          .status()
          .code() != absl::StatusCode::kFailedPrecondition) {
    __builtin_trap();
  }
  // A token for one purpose never passes as another.
  if (links->CheckConfirm(links->Unsubscribe(input), now).ok()) {
    __builtin_trap();
  }
  return 0;
}
