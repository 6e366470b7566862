#include "server/http/form_fields.h"

#include <curl/curl.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "server/base/text.h"

namespace herald {
namespace {

std::string Decode(absl::string_view text) {
  const std::string plus_as_space = absl::StrReplaceAll(text, {{"+", " "}});
  int length = 0;
  // libcurl ignores the handle here; it only decodes.
  char* decoded =
      curl_easy_unescape(nullptr, plus_as_space.data(),
                         static_cast<int>(plus_as_space.size()), &length);
  if (decoded == nullptr) return "";
  std::string out(decoded, static_cast<size_t>(length));
  curl_free(decoded);
  return out;
}

}  // namespace

std::string FormField(const FormFields& fields, const std::string& name) {
  auto it = fields.find(name);
  return it == fields.end() ? "" : it->second;
}

absl::StatusOr<FormFields> ParseUrlEncoded(absl::string_view text) {
  FormFields out;
  for (absl::string_view field : absl::StrSplit(text, '&', absl::SkipEmpty())) {
    if (out.size() == kMaxFormFields) {
      return absl::InvalidArgumentError(
          absl::StrCat("form: more than ", kMaxFormFields, " fields"));
    }
    const size_t eq = field.find('=');
    std::string name = Decode(field.substr(0, eq));
    std::string value =
        eq == absl::string_view::npos ? "" : Decode(field.substr(eq + 1));
    if (name.size() > kMaxFormNameBytes || !IsValidUtf8(name)) {
      return absl::InvalidArgumentError(
          "form: a field name is too long or not valid UTF-8");
    }
    if (absl::Status s = CheckText(name, value); !s.ok()) return s;
    out.emplace(std::move(name), std::move(value));
  }
  return out;
}

}  // namespace herald
