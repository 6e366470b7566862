// CoreDeps: what herald's domain logic needs from the outside, in one place.
// HeraldServer (server/app/) chooses the real implementations; tests hand in
// fakes. Nothing here is owned: each referent must outlive every object built
// from the deps.
#ifndef HERALD_SERVER_CORE_CORE_DEPS_H_
#define HERALD_SERVER_CORE_CORE_DEPS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "server/base/clock.h"
#include "server/base/random.h"
#include "server/core/event_hub.h"
#include "server/core/metrics.h"
#include "server/core/org/organisation.h"
#include "server/core/renderer.h"
#include "server/store/store.h"

namespace herald {

struct CoreDeps {
  Store& store;
  const Clock& clock;
  // Secrets, ids, voucher codes: every random draw.
  Random& random;
  const Renderer& renderer;
  std::shared_ptr<const Organisation> org;
  CoreMetrics& metrics;
  // Live watchers; null when nobody can watch (most tests).
  EventHub* events = nullptr;

  // Whether anyone watches; events need not be built otherwise.
  bool watched() const { return events != nullptr && events->watched(); }

  // Counts a committed change and tells watchers about it.
  void Emit(int64_t incident_id, absl::string_view kind,
            absl::string_view actor, absl::string_view text,
            absl::string_view message_ref = "") const {
    if (events == nullptr) return;
    events->CountChange();
    if (!events->watched()) return;
    events->Publish({.at = clock.Now(),
                     .incident_id = incident_id,
                     .kind = std::string(kind),
                     .actor = std::string(actor),
                     .text = std::string(text),
                     .message_ref = std::string(message_ref)});
  }
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_CORE_DEPS_H_
