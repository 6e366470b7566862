// CoreDeps: what herald's domain logic needs from the outside, in one place.
// main.cc chooses the real implementations; tests hand in fakes. Nothing here
// is owned: each referent must outlive every object built from the deps.
#ifndef HERALD_SERVER_CORE_CORE_DEPS_H_
#define HERALD_SERVER_CORE_CORE_DEPS_H_

#include <memory>

#include "server/core/clock.h"
#include "server/core/metrics.h"
#include "server/core/organisation.h"
#include "server/core/renderer.h"
#include "server/store/store.h"

namespace herald {

struct CoreDeps {
  Store& store;
  const Clock& clock;
  const Renderer& renderer;
  std::shared_ptr<const Organisation> org;
  HeraldMetrics& metrics;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_CORE_DEPS_H_
