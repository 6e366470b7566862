#include "cli/editor.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dtl/dtl.hpp>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/base/text.h"

namespace herald::cli {
namespace {

std::vector<std::string> Lines(const std::string& title,
                               const std::string& body) {
  std::vector<std::string> out =
      absl::StrSplit(EditableText(title, body), '\n');
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     absl::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read \"", path, "\""));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  if (absl::Status s =
          CheckText(absl::StrCat(flag, " (", path, ")"), buf.str());
      !s.ok()) {
    return s;
  }
  return buf.str();
}

std::string EditableText(const std::string& title, const std::string& body) {
  return absl::StrCat(title, "\n\n", body, "\n");
}

std::pair<std::string, std::string> ParseEditableText(const std::string& text) {
  const size_t end_of_title = text.find('\n');
  std::string title(absl::StripAsciiWhitespace(text.substr(0, end_of_title)));
  std::string body;
  if (end_of_title != std::string::npos) {
    body = std::string(absl::StripAsciiWhitespace(text.substr(end_of_title)));
  }
  return {std::move(title), std::move(body)};
}

absl::StatusOr<std::pair<std::string, std::string>> EditInEditor(
    const std::string& editor, const v1::Message& m) {
  if (editor.empty()) {
    return absl::FailedPreconditionError(
        "set $EDITOR, or pass --title and/or --body-file");
  }
  char path[] = "/tmp/herald-edit-XXXXXX.txt";
  const int fd = mkstemps(path, 4);
  if (fd < 0) return absl::InternalError("cannot create a temporary file");
  const std::string text = EditableText(m.title(), m.body());
  const bool written =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (!written) {
    unlink(path);
    return absl::InternalError("cannot write the temporary file");
  }
  // Through the shell, as git does, so that EDITOR="code --wait" works.
  const std::string script = absl::StrCat(editor, " \"$1\"");
  const char* argv[] = {"/bin/sh",       "-c", script.c_str(),
                        "herald-editor", path, nullptr};
  pid_t pid = 0;
  int status = 0;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr,
                  const_cast<char* const*>(argv), environ) != 0 ||
      waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    unlink(path);
    return absl::AbortedError(
        absl::StrCat("the editor (", editor, ") failed; nothing was changed"));
  }
  absl::StatusOr<std::string> edited = ReadFile(path, "the edited file");
  unlink(path);
  if (!edited.ok()) return edited.status();
  return ParseEditableText(*edited);
}

std::string UnifiedDiff(const std::string& title_a, const std::string& body_a,
                        const std::string& title_b, const std::string& body_b) {
  dtl::Diff<std::string, std::vector<std::string>> diff(Lines(title_a, body_a),
                                                        Lines(title_b, body_b));
  diff.compose();
  diff.composeUnifiedHunks();
  std::ostringstream out;
  diff.printUnifiedFormat(out);
  std::string text = out.str();
  return text.empty() ? "(no differences)\n" : text;
}

}  // namespace herald::cli
