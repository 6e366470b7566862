#include "server/delivery/email_headers.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/base/text.h"

namespace herald {
namespace {

constexpr size_t kFoldAt = 78;      // RFC 5322 2.1.1: "SHOULD"
constexpr size_t kMaxWordLen = 75;  // RFC 2047 2: an encoded-word
constexpr absl::string_view kWordStart = "=?UTF-8?B?";
constexpr absl::string_view kWordEnd = "?=";

// Builds "Name: token token ..." and folds before a token that would take
// the line past kFoldAt (never before the first token of a line).
class FoldedField {
 public:
  explicit FoldedField(absl::string_view name)
      : out_(absl::StrCat(name, ":")), line_(out_.size()) {}

  // Characters left on this line for a token after its leading space.
  size_t Room() const { return line_ + 1 >= kFoldAt ? 0 : kFoldAt - line_ - 1; }
  bool LineHasToken() const { return tokens_on_line_ > 0; }

  void Fold() {
    out_ += "\r\n";
    line_ = 0;
    tokens_on_line_ = 0;
  }
  void Add(absl::string_view token) {
    if (token.size() > Room() && LineHasToken()) Fold();
    absl::StrAppend(&out_, " ", token);
    line_ += 1 + token.size();
    ++tokens_on_line_;
  }
  std::string Take() && { return std::move(out_); }

 private:
  std::string out_;
  size_t line_;
  int tokens_on_line_ = 0;
};

// The length of the UTF-8 sequence that `lead` starts (valid text only).
size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Appends `text` (valid UTF-8) to `field` as encoded-words, each as long as
// the line allows, split between code points. Encoded-words separated by
// folding white space decode as one text (RFC 2047 6.2), spaces included.
void AddEncodedWords(absl::string_view text, FoldedField& field) {
  const size_t overhead = kWordStart.size() + kWordEnd.size();
  size_t i = 0;
  while (i < text.size()) {
    // Base64 of n bytes takes 4 * ceil(n / 3) characters.
    size_t room = std::min(field.Room(), kMaxWordLen);
    const size_t first = SequenceLength(text[i]);
    const auto fits = [&](size_t bytes, size_t space) {
      return overhead + 4 * ((bytes + 2) / 3) <= space;
    };
    if (!fits(first, room) || (field.LineHasToken() && !fits(12, room))) {
      // Not even a short word fits here: start a new line rather than
      // write a run of tiny words.
      field.Fold();
      room = std::min(field.Room(), kMaxWordLen);
    }
    size_t end = i;
    while (end < text.size()) {
      const size_t n = SequenceLength(text[end]);
      if (!fits(end + n - i, room)) break;
      end += n;
    }
    if (end == i) end = i + first;  // cannot happen on a fresh line
    field.Add(absl::StrCat(
        kWordStart, absl::Base64Escape(text.substr(i, end - i)), kWordEnd));
    i = end;
  }
}

// `text` scrubbed of control characters and on one line, with whitespace
// runs as one space and none at the ends.
std::string OneLine(absl::string_view text) {
  const std::string scrubbed = ScrubText(text, /*keep_newlines=*/false);
  return absl::StrJoin(absl::StrSplit(scrubbed, ' ', absl::SkipWhitespace()),
                       " ");
}

bool IsPrintableAscii(absl::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c >= 0x20 && c < 0x7f; });
}

// Whether one-line `text` must be encoded: it is not plain ASCII, it could
// be mistaken for an encoded-word, or it holds a word too long to fold.
bool NeedsEncoding(absl::string_view text) {
  if (!IsPrintableAscii(text) || absl::StrContains(text, "=?")) return true;
  for (absl::string_view word : absl::StrSplit(text, ' ')) {
    if (word.size() > kFoldAt - 1) return true;
  }
  return false;
}

// RFC 5322 3.2.3: atext.
bool IsAtext(char c) {
  return absl::ascii_isalnum(c) ||
         absl::string_view("!#$%&'*+-/=?^_`{|}~").find(c) !=
             absl::string_view::npos;
}

}  // namespace

std::string UnstructuredHeader(absl::string_view name, absl::string_view text) {
  const std::string line = OneLine(text);
  FoldedField field(name);
  if (NeedsEncoding(line)) {
    AddEncodedWords(line, field);
  } else {
    for (absl::string_view word :
         absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      field.Add(word);
    }
  }
  return std::move(field).Take();
}

std::string AddressHeader(absl::string_view name, absl::string_view display,
                          absl::string_view angle) {
  const std::string phrase = OneLine(display);
  FoldedField field(name);
  if (phrase.empty()) {
    // Nothing to show.
  } else if (NeedsEncoding(phrase)) {
    AddEncodedWords(phrase, field);
  } else if (std::all_of(phrase.begin(), phrase.end(),
                         [](char c) { return c == ' ' || IsAtext(c); })) {
    for (absl::string_view atom : absl::StrSplit(phrase, ' ')) field.Add(atom);
  } else {
    // Specials such as "," or "." need a quoted string (RFC 5322 3.2.4).
    std::string quoted = "\"";
    for (char c : phrase) {
      if (c == '"' || c == '\\') quoted.push_back('\\');
      quoted.push_back(c);
    }
    quoted.push_back('"');
    if (quoted.size() <= kFoldAt - 1) {
      field.Add(quoted);
    } else {
      AddEncodedWords(phrase, field);
    }
  }
  field.Add(absl::StrCat("<", angle, ">"));
  return std::move(field).Take();
}

bool IsHeaderSafeAddress(absl::string_view address) {
  const size_t at = address.rfind('@');
  return !address.empty() && address.size() <= 254 &&
         at != absl::string_view::npos && at > 0 && at + 1 < address.size() &&
         std::all_of(address.begin(), address.end(), [](char c) {
           return c > 0x20 && c < 0x7f && c != '<' && c != '>';
         });
}

std::string MessageIdLocalPart(absl::string_view id) {
  std::string out;
  out.reserve(id.size());
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool dot_ok =
        c == '.' && i > 0 && i + 1 < id.size() && id[i - 1] != '.';
    if ((IsAtext(c) && c != '=') || dot_ok) {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "=%02X", static_cast<unsigned char>(c));
    }
  }
  return out;
}

}  // namespace herald
