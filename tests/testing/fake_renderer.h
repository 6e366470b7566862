// FakeRenderer stands in for the template engine (Renderer): it records
// every render, template name and context, and answers with predictable
// text, "[<name>]" unless told otherwise for that name, so a test can
// assert on what its subject asked to be rendered rather than on what a
// template happens to say. Thread-safe, as every Renderer must be.
#ifndef HERALD_TESTS_TESTING_FAKE_RENDERER_H_
#define HERALD_TESTS_TESTING_FAKE_RENDERER_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/core/renderer.h"

namespace herald::testing {

class FakeRenderer final : public Renderer {
 public:
  struct Call {
    std::string name;
    TemplateContext context;
  };

  absl::StatusOr<std::string> Render(
      absl::string_view name, const TemplateContext& context) const override {
    absl::MutexLock lock(&mu_);
    calls_.push_back({std::string(name), context});
    auto it = answers_.find(std::string(name));
    if (it != answers_.end()) return it->second;
    return absl::StrCat("[", name, "]");
  }

  // The locale asked for, or "en" for none: the fake has every language.
  std::string SpokenLocale(absl::string_view locale) const override {
    return locale.empty() ? "en" : std::string(locale);
  }
  std::vector<std::string> Languages() const override { return {"de", "en"}; }
  std::vector<std::string> LanguagesWith(absl::string_view) const override {
    return Languages();
  }

  // From now on template `name` renders as `answer`: a text, or an error
  // (NotFound for a template the engine does not have).
  void Answer(const std::string& name, absl::StatusOr<std::string> answer) {
    absl::MutexLock lock(&mu_);
    answers_.insert_or_assign(name, std::move(answer));
  }

  // Every render so far, oldest first.
  std::vector<Call> Calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // The template names rendered so far, oldest first.
  std::vector<std::string> Names() const {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const Call& c : calls_) out.push_back(c.name);
    return out;
  }
  // The context of the last render of `name`; empty when never rendered.
  TemplateContext LastContext(absl::string_view name) const {
    absl::MutexLock lock(&mu_);
    for (auto it = calls_.rbegin(); it != calls_.rend(); ++it) {
      if (it->name == name) return it->context;
    }
    return {};
  }

 private:
  mutable absl::Mutex mu_;
  mutable std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::StatusOr<std::string>> answers_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace herald::testing

#endif  // HERALD_TESTS_TESTING_FAKE_RENDERER_H_
