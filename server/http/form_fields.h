// Decoding of application/x-www-form-urlencoded bodies and query strings,
// the one way every HTTP route reads a form field or query parameter, so
// that every such input is checked (valid UTF-8, no control characters,
// bounded) in one place. Stateless; thread-safe.
#ifndef HERALD_SERVER_HTTP_FORM_FIELDS_H_
#define HERALD_SERVER_HTTP_FORM_FIELDS_H_

#include <cstddef>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace herald {

// Form fields by name, in order; a name may repeat.
using FormFields = std::multimap<std::string, std::string>;

// Limits on a form or query string, so that no field name or count grows
// without bound whatever the body size limit allows.
inline constexpr size_t kMaxFormFields = 256;
inline constexpr size_t kMaxFormNameBytes = 128;

// Decodes application/x-www-form-urlencoded ("a=1&b=x+y&b=%C3%A9") as
// browsers write it: '+' is a space, %XX a byte, a field without '=' has an
// empty value, and a '%' not followed by two hex digits stays as it is.
// InvalidArgument naming the field when a decoded name or value is not
// valid UTF-8 or holds a control character other than tab and line breaks
// ("name: not valid UTF-8 ..."), or when there are more than kMaxFormFields
// fields or a name is longer than kMaxFormNameBytes. The message never
// repeats the offending bytes.
absl::StatusOr<FormFields> ParseUrlEncoded(absl::string_view text);

// The first value of field `name` in `fields` (ParseUrlEncoded's); "" when
// absent.
std::string FormField(const FormFields& fields, const std::string& name);

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_FORM_FIELDS_H_
