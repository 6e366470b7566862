// How `herald` prints: times, money and durations for people, aligned
// tables, and the protobuf JSON mapping for `-o json`. Stateless.
#ifndef HERALD_CLI_OUTPUT_H_
#define HERALD_CLI_OUTPUT_H_

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/grpcpp.h"

namespace herald::cli {

std::string When(const google::protobuf::Timestamp& ts);

// RFC 3339, or a duration from now ("8h", "90m").
absl::StatusOr<absl::Time> ParseWhen(const std::string& text,
                                     absl::string_view flag, absl::Time now);

std::string Money(int64_t cents, const std::string& currency);

// "1h35m" between two timestamps; "-" when either is unset.
std::string Duration(const google::protobuf::Timestamp& from,
                     const google::protobuf::Timestamp& to);

std::string OneLine(const std::string& s, size_t max);

// A plain aligned table.
class Table {
 public:
  explicit Table(std::vector<std::string> header) {
    rows_.push_back(std::move(header));
  }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const {
    std::vector<size_t> width(rows_[0].size(), 0);
    for (const auto& r : rows_) {
      for (size_t i = 0; i < r.size(); ++i)
        width[i] = std::max(width[i], r[i].size());
    }
    for (const auto& r : rows_) {
      std::string line;
      for (size_t i = 0; i < r.size(); ++i) {
        line += r[i];
        if (i + 1 < r.size())
          line += std::string(width[i] - r[i].size() + 2, ' ');
      }
      out << line << "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Prints `m` as JSON, every field present (lists as [] when empty).
void PrintJson(const google::protobuf::Message& m, std::ostream& out);

// Prints `m` as JSON on one line (every field present), for streams.
void PrintJsonLine(const google::protobuf::Message& m, std::ostream& out);

// The gRPC status code as the CLI words it ("permission denied").
std::string CodeName(grpc::StatusCode code);

}  // namespace herald::cli

#endif  // HERALD_CLI_OUTPUT_H_
