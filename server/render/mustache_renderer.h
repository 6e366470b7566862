// MustacheRenderer renders Mustache templates (mstch) held in memory: the
// embedded defaults, overlaid file by file by an operator's directory.
// Templates named `partial_*` are also offered to every template as Mustache
// partials (`{{> partial_subscriber_email_text}}`), so that per-state
// templates can share a layout and operators can override either.
// Languages: a template named "de/apology.body" is the German
// "apology.body"; the unprefixed ones are the built-in English set. Each
// template and partial falls back on its own, as Renderer::Render says.
// Thread-safe; its only mutable state is a cache of what each requested
// locale resolves to and of each language's partials, behind a mutex.
#ifndef HERALD_SERVER_RENDER_MUSTACHE_RENDERER_H_
#define HERALD_SERVER_RENDER_MUSTACHE_RENDERER_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/core/renderer.h"

namespace herald {

class MustacheRenderer final : public Renderer {
 public:
  // `templates` maps a template name ("investigating.body",
  // "de/investigating.body") to its source. `default_locale` is the
  // language of readers who asked for none, or for one herald does not
  // write; "en" when empty.
  explicit MustacheRenderer(std::map<std::string, std::string> templates,
                            std::string default_locale = "en");

  // The embedded defaults, with every `*.mustache` file in `override_dir`
  // (when not empty), and in its language folders (`de/*.mustache`),
  // replacing the default of the same name. Returns InvalidArgument when
  // the directory cannot be read or a folder is not named by a language
  // tag.
  static absl::StatusOr<std::unique_ptr<MustacheRenderer>> WithOverrides(
      const std::string& override_dir,
      const std::string& default_locale = "en");

  absl::StatusOr<std::string> Render(
      absl::string_view name, const TemplateContext& context) const override;
  std::string SpokenLocale(absl::string_view locale) const override;
  std::vector<std::string> Languages() const override;
  std::vector<std::string> LanguagesWith(absl::string_view name) const override;

 private:
  using Sources = std::map<std::string, std::string>;
  // The folders to look in for `locale`, most specific first, ending with
  // "" (the built-ins): only folders that exist.
  std::vector<std::string> Folders(absl::string_view locale) const;
  const std::string* Find(const std::vector<std::string>& folders,
                          absl::string_view name) const;
  // The partials as `folders` see them, built once per list of folders.
  std::shared_ptr<const Sources> PartialsFor(
      const std::vector<std::string>& folders) const;
  // What a requested locale comes to, worked out once per tag: ICU's
  // parsing is not free, and every render and every draft asks.
  struct Language {
    std::string spoken;                // SpokenLocale
    std::vector<std::string> folders;  // Folders
    std::shared_ptr<const Sources> partials;
  };
  std::shared_ptr<const Language> LanguageFor(absl::string_view locale) const;

  const Sources templates_;
  const std::string default_locale_;
  std::set<std::string> folders_;        // language folders present
  std::set<std::string> partial_names_;  // "partial_*", any folder
  mutable absl::Mutex mu_;
  mutable std::map<std::string, std::shared_ptr<const Sources>> partials_
      ABSL_GUARDED_BY(mu_);
  // Bounded: cleared when a stream of odd tags fills it.
  mutable std::map<std::string, std::shared_ptr<const Language>> languages_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace herald

#endif  // HERALD_SERVER_RENDER_MUSTACHE_RENDERER_H_
