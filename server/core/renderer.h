// Renderer turns a named template and a context into text. The seam between
// herald's logic and its template engine; implementations are thread-safe.
#ifndef HERALD_SERVER_CORE_RENDERER_H_
#define HERALD_SERVER_CORE_RENDERER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace herald {

// The values a template sees: strings, section flags, and lists of
// sub-contexts. Templates/README.md documents the names each template gets.
struct TemplateContext {
  std::map<std::string, std::string> values;
  std::map<std::string, bool> flags;
  std::map<std::string, std::vector<TemplateContext>> lists;
  // The language to write in, a BCP 47 tag ("de", "en-GB"); empty: the
  // organisation's default. Lists' sub-contexts ignore it.
  std::string locale;
};

class Renderer {
 public:
  virtual ~Renderer() = default;

  // Renders template `name` ("investigating.body", "status_page.html") in
  // `context.locale`: the first template found of `<tag>/<name>` for the
  // locale and then its less specific tags ("de-AT", "de"), the same for
  // the default locale, and the built-in (English) `<name>`; partials are
  // looked up the same way. Templates whose name ends in ".html" or ".xml"
  // escape values for HTML and XML; the others produce plain text with
  // surrounding white space trimmed. Either way the result is valid UTF-8
  // without the characters XML and mail cannot carry (see ScrubText). Returns
  // NotFound for an unknown template name.
  virtual absl::StatusOr<std::string> Render(
      absl::string_view name, const TemplateContext& context) const = 0;

  // The locale a reader who asked for `locale` is written to in: `locale`
  // itself (canonical case) when there are templates in its language or it
  // is English, the language of the built-ins; the default locale when
  // `locale` is empty, not a language tag, or a language without
  // templates. Dates and durations are formatted in the same locale, so
  // that they agree with the sentence around them.
  virtual std::string SpokenLocale(absl::string_view locale) const = 0;

  // The languages readers can be written to in, for a language picker:
  // English (the built-ins) and each language with templates, as tags
  // ("de", "en", "pt-BR"), sorted.
  virtual std::vector<std::string> Languages() const = 0;

  // Those of Languages() in which template `name` has words of its own:
  // English (the built-ins) and each whose folder, or a less specific
  // one's ("de" for "de-AT"), holds `name`. Elsewhere `name` would read in
  // another language under this one's name.
  virtual std::vector<std::string> LanguagesWith(
      absl::string_view name) const = 0;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_RENDERER_H_
