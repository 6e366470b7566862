#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <dtl/dtl.hpp>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/editor.h"
#include "cli/safe_output.h"
#include "cli/subscriber_csv.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "herald/enum_labels.h"
#include "server/base/private_files.h"
#include "server/base/text.h"

namespace herald::cli {

int Commands::Health() {
  using grpc::health::v1::HealthCheckResponse;
  HealthCheckResponse resp;
  if (int rc = CallMethod(&HealthStub::Check,
                          grpc::health::v1::HealthCheckRequest(), resp)) {
    return rc;
  }
  if (json()) {
    PrintJson(resp, out_);
  } else {
    out_ << HealthCheckResponse::ServingStatus_Name(resp.status()) << "\n";
  }
  return resp.status() == HealthCheckResponse::SERVING ? kExitOk : kExitError;
}

int Commands::Backup(const std::string& file) {
  if (std::filesystem::exists(file)) {
    return UsageError(absl::InvalidArgumentError(absl::StrCat(
        "FILE: ", file, " exists; remove it or choose another name")));
  }
  const std::string partial = file + ".partial";
  int64_t written = 0, total = -1;
  int rc = Call([&](grpc::ClientContext& c, Stubs& s) {
    // The copy holds every secret the server has: owner-only (0600) from
    // its first byte, whatever the umask.
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);  // a stale one; not followed
    if (absl::Status made = CreatePrivateFile(partial); !made.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          std::string(made.message()));
    }
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("cannot write ", partial));
    }
    auto reader = s.admin->Backup(&c, v1::BackupRequest());
    v1::BackupChunk chunk;
    while (reader->Read(&chunk)) {
      out.write(chunk.data().data(),
                static_cast<std::streamsize>(chunk.data().size()));
      written += static_cast<int64_t>(chunk.data().size());
      total = chunk.total_bytes();
    }
    grpc::Status status = reader->Finish();
    out.close();
    if (status.ok() && (!out || written != total)) {
      status = grpc::Status(
          grpc::StatusCode::DATA_LOSS,
          absl::StrCat("received ", written, " of ", total, " bytes"));
    }
    return status;
  });
  if (rc != kExitOk) {
    std::filesystem::remove(partial);
    return rc;
  }
  std::filesystem::rename(partial, file);
  if (json()) {
    out_ << "{\"file\": \"" << absl::CEscape(file)
         << "\", \"bytes\": " << written << "}\n";
    return kExitOk;
  }
  out_ << "Backed up " << written << " bytes to " << file
       << ". To restore: stop heraldd, copy it to DATA_DIR/herald.db, "
          "start heraldd.\n";
  return kExitOk;
}

}  // namespace herald::cli
