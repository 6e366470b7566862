#include "server/base/private_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace herald {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path, int err) {
  return absl::UnavailableError(
      absl::StrCat("cannot ", what, " \"", path, "\": ", std::strerror(err)));
}

}  // namespace

absl::Status EnsurePrivateDirectory(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create directory \"", path, "\": ", ec.message()));
  }
  if (::chmod(path.c_str(), 0700) != 0) {
    return Errno("set mode 0700 on directory", path, errno);
  }
  return absl::OkStatus();
}

absl::Status CreatePrivateFile(const std::string& path) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat("\"", path, "\" exists"));
    }
    return Errno("create", path, errno);
  }
  // The umask may have taken bits away, never added any; make it exact.
  const int err = ::fchmod(fd, 0600) == 0 ? 0 : errno;
  ::close(fd);
  return err == 0 ? absl::OkStatus() : Errno("set mode 0600 on", path, err);
}

absl::Status RestrictToOwner(std::initializer_list<std::string> paths) {
  for (const std::string& path : paths) {
    if (::chmod(path.c_str(), 0600) != 0 && errno != ENOENT) {
      return Errno("set mode 0600 on", path, errno);
    }
  }
  return absl::OkStatus();
}

}  // namespace herald
