#include "server/base/text.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

namespace herald {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Decodes the code point at `text[i]`. Returns its length in bytes and sets
// `c`; returns 0 for a sequence that is not valid UTF-8.
size_t DecodeAt(absl::string_view text, size_t i, char32_t& c) {
  const auto byte = [&](size_t k) {
    return static_cast<unsigned char>(text[i + k]);
  };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) {
    c = b0;
    return 1;
  }
  size_t n = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, c = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, c = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, c = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
    c = (c << 6) | (byte(k) & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  return n;
}

absl::Status CheckFields(const Message& message, const std::string& prefix) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string name = absl::StrCat(prefix, field->name());
    const bool is_string = field->type() == FieldDescriptor::TYPE_STRING;
    const bool is_message =
        field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if (!is_string && !is_message) continue;
    if (!field->is_repeated()) {
      if (is_string) {
        std::string scratch;
        const std::string& value =
            reflection->GetStringReference(message, field, &scratch);
        if (auto s = CheckUtf8(name, value); !s.ok()) return s;
      } else {
        if (auto s = CheckFields(reflection->GetMessage(message, field),
                                 absl::StrCat(name, "."));
            !s.ok()) {
          return s;
        }
      }
      continue;
    }
    const int n = reflection->FieldSize(message, field);
    for (int i = 0; i < n; ++i) {
      const std::string item = absl::StrCat(name, "[", i, "]");
      if (is_string) {
        std::string scratch;
        const std::string& value =
            reflection->GetRepeatedStringReference(message, field, i, &scratch);
        if (auto s = CheckUtf8(item, value); !s.ok()) return s;
      } else if (auto s = CheckFields(
                     reflection->GetRepeatedMessage(message, field, i),
                     absl::StrCat(item, "."));
                 !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidUtf8(absl::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

absl::Status CheckUtf8(absl::string_view field, absl::string_view text) {
  if (IsValidUtf8(text)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": not valid UTF-8 (send text encoded as UTF-8)"));
}

absl::Status CheckText(absl::string_view field, absl::string_view text) {
  if (absl::Status s = CheckUtf8(field, text); !s.ok()) return s;
  for (size_t i = 0; i < text.size();) {
    char32_t c = 0;
    const size_t n = DecodeAt(text, i, c);
    i += n == 0 ? 1 : n;
    if (n == 0 || IsForbiddenCodePoint(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field,
                       ": holds a control character (only tabs and line breaks "
                       "may be sent)"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckLength(absl::string_view field, absl::string_view text,
                         size_t max_bytes) {
  if (text.size() <= max_bytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": at most ", max_bytes, " bytes (got ", text.size(), ")"));
}

bool IsForbiddenCodePoint(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0xFFFE || c == 0xFFFF;
}

std::string UnixNewlines(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\r\n", "\n"}, {"\r", "\n"}});
}

std::string ScrubText(absl::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char32_t c = 0;
    const size_t n = DecodeAt(text, i, c);
    if (n == 0) {
      out.append(kReplacement.data(), kReplacement.size());
      ++i;
      continue;
    }
    if (IsForbiddenCodePoint(c)) {
      out.append(kReplacement.data(), kReplacement.size());
    } else if (!keep_newlines && (c == '\t' || c == '\n' || c == '\r')) {
      out.push_back(' ');
    } else {
      out.append(text.data() + i, n);
    }
    i += n;
  }
  return out;
}

std::string TruncateUtf8(absl::string_view text, size_t max_bytes,
                         absl::string_view marker) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  // Back up to the start of a code point: continuation bytes are 10xxxxxx.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return absl::StrCat(text.substr(0, cut), marker);
}

absl::Status CheckUtf8Fields(const Message& message, absl::string_view prefix) {
  return CheckFields(message, std::string(prefix));
}

namespace {

// Reads a base-128 varint at `*p`, advancing it; false past `end`.
bool ReadVarint(const char*& p, const char* end, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const auto byte = static_cast<unsigned char>(*p++);
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

bool SerializedTextIsUtf8(absl::string_view bytes,
                          const google::protobuf::Descriptor& type) {
  const char* p = bytes.data();
  const char* const end = bytes.data() + bytes.size();
  while (p < end) {
    uint64_t tag = 0;
    if (!ReadVarint(p, end, tag)) return false;
    switch (tag & 7) {
      case 0: {  // varint
        uint64_t ignored = 0;
        if (!ReadVarint(p, end, ignored)) return false;
        break;
      }
      case 1:  // fixed64
        if (end - p < 8) return false;
        p += 8;
        break;
      case 5:  // fixed32
        if (end - p < 4) return false;
        p += 4;
        break;
      case 2: {  // length-delimited: a string, bytes, a message or packed
        uint64_t length = 0;
        if (!ReadVarint(p, end, length) ||
            length > static_cast<uint64_t>(end - p)) {
          return false;
        }
        const absl::string_view value(p, static_cast<size_t>(length));
        p += length;
        const FieldDescriptor* field =
            type.FindFieldByNumber(static_cast<int>(tag >> 3));
        if (field == nullptr) break;  // unknown: kept as bytes
        if (field->type() == FieldDescriptor::TYPE_STRING &&
            !IsValidUtf8(value)) {
          return false;
        }
        if (field->type() == FieldDescriptor::TYPE_MESSAGE &&
            !SerializedTextIsUtf8(value, *field->message_type())) {
          return false;
        }
        break;
      }
      default:  // groups: never in proto3
        return false;
    }
  }
  return true;
}

std::string WrapParagraphs(absl::string_view text, size_t width) {
  // Code points, not bytes: continuation bytes do not count.
  const auto columns = [](absl::string_view s) {
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
  };
  std::string out;
  out.reserve(text.size() + text.size() / 64);
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::string wrapped;
    if (line.empty() || line.front() == ' ' || columns(line) <= width) {
      wrapped = std::string(line);
    } else {
      size_t used = 0;
      for (absl::string_view word :
           absl::StrSplit(line, ' ', absl::SkipEmpty())) {
        const size_t w = columns(word);
        // A link stays beside its label, and so does a word no line holds.
        const bool movable = w <= width && !absl::StrContains(word, "://");
        if (used > 0 && used + 1 + w > width && movable) {
          wrapped += '\n';
          used = 0;
        } else if (used > 0) {
          wrapped += ' ';
          ++used;
        }
        wrapped.append(word.data(), word.size());
        used += w;
      }
    }
    absl::StrAppend(&out, wrapped, "\n");
  }
  out.pop_back();  // the split gave one line more than there were breaks
  return out;
}

}  // namespace herald
