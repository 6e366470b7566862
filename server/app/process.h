// What heraldd asks of its process before it serves: stop signals that only
// the main thread receives, and as many open files as the system allows.
// Call from the main thread, before any other thread starts.
#ifndef HERALD_SERVER_APP_PROCESS_H_
#define HERALD_SERVER_APP_PROCESS_H_

#include <cstdint>
#include <string>

namespace herald {

// Blocks SIGINT and SIGTERM in this thread and every thread it starts
// later, so that WaitForStopSignal receives them.
void BlockStopSignals();

// Waits for SIGINT or SIGTERM and returns its name ("SIGTERM").
std::string WaitForStopSignal();

// Raises the soft limit on open files to the hard one (a connection is a
// file) and returns the limit in force; 0 when unlimited.
uint64_t RaiseOpenFileLimit();

}  // namespace herald

#endif  // HERALD_SERVER_APP_PROCESS_H_
