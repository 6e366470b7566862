#include "cli/subscriber_csv.h"

#include <iterator>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "herald/enum_labels.h"
#include "libfccp/csv.h"
#include "server/base/text.h"

namespace herald::cli {
namespace {

constexpr const char* kColumns[] = {
    "id",     "name",       "email",    "account",        "plan",
    "locale", "components", "contacts", "preferred_name", "time_zone"};

std::vector<std::string> Words(const std::string& text,
                               const char* separators) {
  return absl::StrSplit(text, absl::ByAnyChar(separators),
                        absl::SkipWhitespace());
}

}  // namespace

absl::StatusOr<v1::Contact> ParseContact(const std::string& text) {
  const size_t colon = text.find(':');
  v1::ChannelKind channel;
  if (colon == std::string::npos ||
      !ParseEnumLabel(absl::AsciiStrToLower(text.substr(0, colon)), &channel)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "contact \"", text,
        "\": expected <channel>:<address> with channel email, webhook, slack "
        "or sms"));
  }
  std::vector<std::string> parts = absl::StrSplit(text.substr(colon + 1), '|');
  v1::Contact c;
  c.set_channel(channel);
  c.set_address(parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) c.add_signing_secrets(parts[i]);
  return c;
}

absl::StatusOr<CsvSubscribers> ReadSubscriberCsv(const std::string& name,
                                                 std::istream& in) {
  const std::string data(std::istreambuf_iterator<char>(in), {});
  CsvSubscribers out;
  try {
    io::CSVReader<10, io::trim_chars<' ', '\t'>,
                  io::double_quote_escape<',', '"'>>
        csv(name, data.data(), data.data() + data.size());
    csv.read_header(io::ignore_missing_column, kColumns[0], kColumns[1],
                    kColumns[2], kColumns[3], kColumns[4], kColumns[5],
                    kColumns[6], kColumns[7], kColumns[8], kColumns[9]);
    for (const char* required : {"id", "components"}) {
      if (!csv.has_column(required)) {
        return absl::InvalidArgumentError(absl::StrCat(
            name, ":1: the header has no \"", required, "\" column"));
      }
    }
    std::string id, full_name, email, account, plan, locale, components,
        contacts, preferred_name, time_zone;
    while (csv.read_row(id, full_name, email, account, plan, locale, components,
                        contacts, preferred_name, time_zone)) {
      const std::string where = absl::StrCat(name, ":", csv.get_file_line());
      for (const auto& [column, value] :
           {std::pair<const char*, const std::string&>{"id", id},
            {"name", full_name},
            {"email", email},
            {"account", account},
            {"plan", plan},
            {"locale", locale},
            {"components", components},
            {"contacts", contacts},
            {"preferred_name", preferred_name},
            {"time_zone", time_zone}}) {
        if (absl::Status st = CheckText(column, value); !st.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": ", st.message()));
        }
      }
      v1::Subscriber s;
      s.set_id(id);
      s.set_name(full_name);
      s.set_email(email);
      s.set_account(account);
      s.set_plan(plan);
      s.set_locale(locale);
      s.set_preferred_name(preferred_name);
      s.set_time_zone(time_zone);
      for (const std::string& c : Words(components, " ;"))
        s.add_component_ids(c);
      for (const std::string& c : Words(contacts, " ")) {
        absl::StatusOr<v1::Contact> contact = ParseContact(c);
        if (!contact.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": contacts: ", contact.status().message()));
        }
        *s.add_contacts() = *std::move(contact);
      }
      out.subscribers.push_back(std::move(s));
      out.sources.push_back(where);
      id = full_name = email = account = plan = locale = components = contacts =
          preferred_name = time_zone = "";
    }
  } catch (const io::error::base& e) {
    // The reader's message quotes the file, which may not be text.
    return absl::InvalidArgumentError(ScrubText(e.what()));
  }
  return out;
}

}  // namespace herald::cli
