// Email header fields written from data (a subject, a display name, an id),
// safe whatever the data holds: control characters are scrubbed
// (ScrubText, so a NUL or a CR LF can never end or add a header), text that
// is not plain ASCII becomes RFC 2047 encoded-words (UTF-8, B encoding, each
// at most 75 characters, split between code points), and long fields are
// folded (RFC 5322) so that lines stay within 78 characters where the text
// allows and always within 998. Each function returns one complete field,
// "Name: value", with folds as CRLF followed by a space and no final CRLF.
// Stateless and thread-safe.
#ifndef HERALD_SERVER_DELIVERY_EMAIL_HEADERS_H_
#define HERALD_SERVER_DELIVERY_EMAIL_HEADERS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace herald {

// An unstructured field such as Subject: `text` on one logical line, with
// runs of whitespace (line breaks and tabs included) as one space and none
// at either end.
std::string UnstructuredHeader(absl::string_view name, absl::string_view text);

// A field that names a mailbox or list, "Name: display <angle>" (From,
// To, Reply-To, List-Id): `display` as an RFC 5322 phrase (atoms, a
// quoted string, or encoded-words), and just "Name: <angle>" when `display`
// is empty after scrubbing. `angle` must satisfy IsHeaderSafeAddress.
std::string AddressHeader(absl::string_view name, absl::string_view display,
                          absl::string_view angle);

// Whether `address` can go between angle brackets in a header and in an
// SMTP command as it is: printable ASCII without spaces, '<' or '>',
// with an '@' that has text on both sides, at most 254 characters.
bool IsHeaderSafeAddress(absl::string_view address);

// `id` made into the dot-atom text an RFC 5322 msg-id needs on the left of
// its '@' (Message-ID): bytes outside atext, and dots that would start,
// end or double, become "=XX" (hex). The same `id` always gives the same
// text, and different ids different texts.
std::string MessageIdLocalPart(absl::string_view id);

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_EMAIL_HEADERS_H_
