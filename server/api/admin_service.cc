#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/api/grpc_call_observer.h"
#include "server/api/grpc_services.h"
#include "server/api/handler.h"
#include "server/base/authorization_header.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"
#include "server/base/secret_token.h"
#include "server/core/paging.h"

namespace herald {

namespace {

// Streams the backup file at `path` in chunks, in order, and removes it
// when the call is over, whatever became of it.
class BackupStream final : public grpc::ServerWriteReactor<v1::BackupChunk> {
 public:
  BackupStream(std::string path, int64_t size)
      : path_(std::move(path)), in_(path_, std::ios::binary), size_(size) {
    WriteNext();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::CANCELLED);  // the client went away
    WriteNext();
  }
  void OnDone() override {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
    delete this;
  }

 private:
  static constexpr size_t kChunkBytes = 1 << 20;

  void WriteNext() {
    std::string data(kChunkBytes, '\0');
    in_.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<size_t>(in_.gcount()));
    if (data.empty()) {
      return Finish(in_.bad() ? grpc::Status(grpc::StatusCode::INTERNAL,
                                             "reading the backup failed")
                              : grpc::Status::OK);
    }
    chunk_.set_data(std::move(data));
    chunk_.set_total_bytes(size_);
    StartWrite(&chunk_);
  }

  const std::string path_;
  std::ifstream in_;
  const int64_t size_;
  v1::BackupChunk chunk_;
};

}  // namespace

grpc::ServerWriteReactor<v1::BackupChunk>* AdminServiceImpl::Backup(
    grpc::CallbackServerContext* ctx, const v1::BackupRequest*) {
  const ScopedRequestId scope(RequestIdOf(*ctx));
  absl::StatusOr<Caller> caller =
      AuthorizedCaller(ctx, deps_, Permission::kBackup);
  if (!caller.ok()) {
    return new RefusedStream<v1::BackupChunk>(caller.status());
  }
  if (deps_.store == nullptr) {
    return new RefusedStream<v1::BackupChunk>(
        absl::UnimplementedError("this server cannot take backups"));
  }
  const std::string path =
      (std::filesystem::temp_directory_path() /
       absl::StrCat("herald-backup-", deps_.random.Hex(8), ".db"))
          .string();
  absl::Status copied = deps_.store->BackupTo(path);
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (copied.ok() && error) {
    copied = absl::InternalError(
        absl::StrCat("the backup file vanished: ", error.message()));
  }
  if (!copied.ok()) {
    std::filesystem::remove(path, error);
    return new RefusedStream<v1::BackupChunk>(copied);
  }
  LogInfo("backup taken",
          {{"by", caller->person_id}, {"bytes", absl::StrCat(size)}});
  return new BackupStream(path, static_cast<int64_t>(size));
}

}  // namespace herald
