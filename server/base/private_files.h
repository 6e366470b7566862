// Files and directories that hold secrets (the database and its backups:
// the link-signing key, token hashes, customers' personal data) are for
// heraldd's own user only: directories 0700, files 0600, whatever the
// umask. These helpers create them so, and tighten those an older heraldd
// left readable. Stateless; thread-safe.
#ifndef HERALD_SERVER_BASE_PRIVATE_FILES_H_
#define HERALD_SERVER_BASE_PRIVATE_FILES_H_

#include <initializer_list>
#include <string>

#include "absl/status/status.h"

namespace herald {

// Creates `path` (and missing parents) if needed and sets its mode to 0700.
// Unavailable, naming the path and the reason, when either fails.
absl::Status EnsurePrivateDirectory(const std::string& path);

// Creates `path` as an empty file with mode 0600. AlreadyExists when it
// exists (nothing is changed then); Unavailable for any other failure.
absl::Status CreatePrivateFile(const std::string& path);

// Sets the mode of each of `paths` that exists to 0600; absent ones are
// skipped. Unavailable for a path that exists but cannot be changed.
absl::Status RestrictToOwner(std::initializer_list<std::string> paths);

}  // namespace herald

#endif  // HERALD_SERVER_BASE_PRIVATE_FILES_H_
