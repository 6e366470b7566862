// StoreBroadcast: how the processes sharing one store tell each other what
// happened, so that a watcher on one heraldd sees what another did (herald
// watch, the console's live updates) and caches built from the store know
// to read it again. Best effort and bounded: a message may be lost (a
// dropped connection, a full queue), and a receiver is then told that it
// may have missed some. A store that one process serves needs none.
// Thread-safe.
#ifndef HERALD_SERVER_STORE_BROADCAST_H_
#define HERALD_SERVER_STORE_BROADCAST_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"

namespace herald {

class StoreBroadcast {
 public:
  virtual ~StoreBroadcast() = default;

  // Queues `message` (printable, one line: no '\n') for every other process
  // on the store, and returns at once.
  virtual void Send(std::string message) = 0;

  // Starts passing every message another process sent to `receive`, on a
  // thread of the broadcast's; an empty message means some may have been
  // missed (after a reconnection). Call once, before Send.
  virtual void Listen(std::function<void(absl::string_view)> receive) = 0;
};

}  // namespace herald

#endif  // HERALD_SERVER_STORE_BROADCAST_H_
