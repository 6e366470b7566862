// ScrubbingStreambuf passes everything herald prints through ScrubText
// (server/base/text.h): text from the server (alert names, engineers'
// notes, customers' names) may carry terminal escape sequences, C1
// controls or stray carriage returns, and none of them may reach the
// terminal. Each is shown as U+FFFD. Output is passed on a line at a time,
// on each newline and on flush. Not thread-safe: one per stream, used by
// one thread.
#ifndef HERALD_CLI_SAFE_OUTPUT_H_
#define HERALD_CLI_SAFE_OUTPUT_H_

#include <ostream>
#include <streambuf>
#include <string>

namespace herald::cli {

class ScrubbingStreambuf : public std::streambuf {
 public:
  explicit ScrubbingStreambuf(std::ostream& target) : target_(target) {}
  ~ScrubbingStreambuf() override { sync(); }
  ScrubbingStreambuf(const ScrubbingStreambuf&) = delete;
  ScrubbingStreambuf& operator=(const ScrubbingStreambuf&) = delete;

 protected:
  int_type overflow(int_type ch) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  // Writes the complete lines held so far (everything, with `all`).
  void Pass(bool all);

  std::ostream& target_;
  std::string pending_;
};

}  // namespace herald::cli

#endif  // HERALD_CLI_SAFE_OUTPUT_H_
