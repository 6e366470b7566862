// Checks and repairs for text that enters herald from outside: request
// fields, forms, alert payloads, imports and config. Protocol Buffers can
// neither store nor read back a `string` field that is not valid UTF-8, and
// control characters break the formats herald writes (XML, email headers,
// terminals), so every edge goes through these. Stateless and thread-safe.
#ifndef HERALD_SERVER_BASE_TEXT_H_
#define HERALD_SERVER_BASE_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace herald {

// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates).
bool IsValidUtf8(absl::string_view text);

// InvalidArgument "<field>: not valid UTF-8 ..." when `text` is not; OK
// otherwise. `field` is the name the sender knows the value by.
absl::Status CheckUtf8(absl::string_view field, absl::string_view text);

// CheckUtf8, and InvalidArgument "<field>: holds a control character ..."
// when `text` holds a forbidden code point (IsForbiddenCodePoint): the check
// for text a person typed (forms, arguments, imported files).
absl::Status CheckText(absl::string_view field, absl::string_view text);

// InvalidArgument "<field>: at most <max> bytes (got <size>)" when `text`
// is longer than `max_bytes`.
absl::Status CheckLength(absl::string_view field, absl::string_view text,
                         size_t max_bytes);

// Whether `c` (a code point) is a control or non-character that no text
// herald shows may carry: C0 controls but tab, line feed and carriage return,
// DEL, C1 controls, and U+FFFE/U+FFFF.
bool IsForbiddenCodePoint(char32_t c);

// `text` with every byte sequence that is not valid UTF-8 and every
// forbidden code point (IsForbiddenCodePoint) replaced by U+FFFD, so that the
// result is safe for XML 1.0, email and a terminal. With `keep_newlines`
// false, line breaks and tabs become spaces too (for one-line fields such
// as titles, subjects and labels).
std::string ScrubText(absl::string_view text, bool keep_newlines = true);

// `text` with every line break as "\n": browsers send a textarea's lines
// with "\r\n", and old Mac files end them with "\r".
std::string UnixNewlines(absl::string_view text);

// Plain text as a person types a letter: each line longer than `width`
// characters (code points) is broken at the last space that fits. Lines
// that start with a space (indented lists) are kept whole; a link ("://")
// or a word longer than a line stays beside the words before it, so that
// every copy breaks the same way whatever its link; existing line breaks
// stay.
std::string WrapParagraphs(absl::string_view text, size_t width);

// `text` cut to at most `max_bytes` bytes at a code point boundary, with
// `marker` appended when anything was cut (the result is then at most
// `max_bytes` + marker's size).
std::string TruncateUtf8(absl::string_view text, size_t max_bytes,
                         absl::string_view marker = "…[truncated]");

// Walks every string field of `message`, nested messages, repeated fields
// and map values included. InvalidArgument naming the field's path
// ("contacts[1].address: not valid UTF-8") for the first string that is not
// valid UTF-8; OK when all are. `prefix` is prepended to the path.
absl::Status CheckUtf8Fields(const google::protobuf::Message& message,
                             absl::string_view prefix = "");

// Whether every string field in `bytes`, a serialized message of type
// `type`, is valid UTF-8 (nested messages and map entries included): the
// same verdict as CheckUtf8Fields on the parsed message, read straight off
// the wire without parsing or allocating, for hot write paths. False, too,
// for bytes that are not a well-formed message.
bool SerializedTextIsUtf8(absl::string_view bytes,
                          const google::protobuf::Descriptor& type);

}  // namespace herald

#endif  // HERALD_SERVER_BASE_TEXT_H_
