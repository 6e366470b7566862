// Editing a message's text from the CLI: reading files people name, the
// $EDITOR round trip and a unified diff of two versions. Stateless.
#ifndef HERALD_CLI_EDITOR_H_
#define HERALD_CLI_EDITOR_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "herald/v1/domain.pb.h"

namespace herald::cli {

// The file at `path` as text (valid UTF-8, no control characters); errors
// name `flag`.
absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     absl::string_view flag);

// The text a message is edited as: the title, a blank line, the body.
std::string EditableText(const std::string& title, const std::string& body);

// The title (first line) and body (the rest) of edited text.
std::pair<std::string, std::string> ParseEditableText(const std::string& text);

// Opens `editor` (a shell command, like $EDITOR) on the message's text and
// returns the edited title and body.
absl::StatusOr<std::pair<std::string, std::string>> EditInEditor(
    const std::string& editor, const v1::Message& m);

// A unified diff of two versions, title first.
std::string UnifiedDiff(const std::string& title_a, const std::string& body_a,
                        const std::string& title_b, const std::string& body_b);

}  // namespace herald::cli

#endif  // HERALD_CLI_EDITOR_H_
