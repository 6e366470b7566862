// Reads subscribers from CSV for `herald subscribers import`. The first row
// names the columns, in any order: `id` and `components` are required;
// `name`, `preferred_name`, `email`, `account`, `plan`, `locale` (a language
// tag), `time_zone` (an IANA name) and `contacts` are optional,
// and unknown columns are refused so that a typo never drops data silently.
//   components  component ids separated by spaces or ';'
//   contacts    "<channel>:<address>" in order of preference, separated by
//               spaces: email:ann@example.com sms:+4915112345678
//               webhook:https://hooks.example.com/x|whsec_... (secrets after
//               '|', more than one while rotating)
// Quoting follows RFC 4180. Errors name the file and line. Stateless.
#ifndef HERALD_CLI_SUBSCRIBER_CSV_H_
#define HERALD_CLI_SUBSCRIBER_CSV_H_

#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "herald/v1/domain.pb.h"

namespace herald::cli {

struct CsvSubscribers {
  std::vector<v1::Subscriber> subscribers;
  std::vector<std::string> sources;  // "file.csv:<line>", one per subscriber
};

absl::StatusOr<CsvSubscribers> ReadSubscriberCsv(const std::string& name,
                                                 std::istream& in);

// One "<channel>:<address>[|secret...]" contact, as in the contacts column
// and `subscribers add --contact`.
absl::StatusOr<v1::Contact> ParseContact(const std::string& text);

}  // namespace herald::cli

#endif  // HERALD_CLI_SUBSCRIBER_CSV_H_
