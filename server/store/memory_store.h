// MemoryStore keeps herald's state in memory: the fake Store for tests and
// the reference the SQLite store's contract suite is held to. Write() works on
// a copy and swaps it in on success, so a failed Write leaves no trace.
// Thread-safe.
#ifndef HERALD_SERVER_STORE_MEMORY_STORE_H_
#define HERALD_SERVER_STORE_MEMORY_STORE_H_

#include <memory>

#include "server/store/store.h"

namespace herald {

std::unique_ptr<Store> NewMemoryStore();

}  // namespace herald

#endif  // HERALD_SERVER_STORE_MEMORY_STORE_H_
