#include "cli/safe_output.h"

#include "absl/strings/str_replace.h"
#include "server/base/text.h"

namespace herald::cli {

ScrubbingStreambuf::int_type ScrubbingStreambuf::overflow(int_type ch) {
  if (traits_type::eq_int_type(ch, traits_type::eof())) return 0;
  pending_.push_back(traits_type::to_char_type(ch));
  if (ch == '\n') Pass(false);
  return ch;
}

std::streamsize ScrubbingStreambuf::xsputn(const char* s, std::streamsize n) {
  pending_.append(s, static_cast<size_t>(n));
  Pass(false);
  return n;
}

int ScrubbingStreambuf::sync() {
  Pass(true);
  target_.flush();
  return target_ ? 0 : -1;
}

void ScrubbingStreambuf::Pass(bool all) {
  // rfind's npos + 1 is 0: no complete line yet.
  const size_t end = all ? pending_.size() : pending_.rfind('\n') + 1;
  if (end == 0) return;
  // A carriage return alone would let a line overwrite what came before it.
  target_ << absl::StrReplaceAll(ScrubText(pending_.substr(0, end)),
                                 {{"\r", ""}});
  pending_.erase(0, end);
}

}  // namespace herald::cli
