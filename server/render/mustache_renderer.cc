#include "server/render/mustache_renderer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "herald/embedded_templates.h"
#include "mstch/mstch.hpp"
#include "server/base/locale_text.h"
#include "server/base/text.h"

namespace herald {
namespace {

constexpr absl::string_view kSuffix = ".mustache";
constexpr absl::string_view kPartialPrefix = "partial_";

// mstch escapes through one process-wide hook. It is installed once and reads
// a per-thread flag, so concurrent renders of HTML and text never interfere.
thread_local bool tls_escape_html = false;

std::string EscapeHtml(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

void InstallEscapeHook() {
  static std::once_flag once;
  std::call_once(once, [] {
    mstch::config::escape = [](const std::string& s) {
      return tls_escape_html ? EscapeHtml(s) : s;
    };
  });
}

mstch::map ToMstch(const TemplateContext& ctx) {
  mstch::map m;
  for (const auto& [k, v] : ctx.values) m.emplace(k, v);
  for (const auto& [k, v] : ctx.flags) m.emplace(k, v);
  for (const auto& [k, list] : ctx.lists) {
    mstch::array arr;
    for (const auto& item : list) arr.push_back(ToMstch(item));
    m.emplace(k, std::move(arr));
  }
  return m;
}

std::string StripSuffix(std::string name) {
  if (absl::EndsWith(name, kSuffix)) name.resize(name.size() - kSuffix.size());
  return name;
}

}  // namespace

MustacheRenderer::MustacheRenderer(std::map<std::string, std::string> templates,
                                   std::string default_locale)
    : templates_(std::move(templates)),
      default_locale_(default_locale.empty() ? "en"
                                             : std::move(default_locale)) {
  InstallEscapeHook();
  for (const auto& [name, source] : templates_) {
    absl::string_view base = name;
    if (const size_t slash = name.find('/'); slash != std::string::npos) {
      const std::string folder = name.substr(0, slash);
      folders_.insert(folder);
      base = absl::string_view(name).substr(slash + 1);
    }
    if (absl::StartsWith(base, kPartialPrefix)) {
      partial_names_.insert(std::string(base));
    }
  }
}

absl::StatusOr<std::unique_ptr<MustacheRenderer>>
MustacheRenderer::WithOverrides(const std::string& override_dir,
                                const std::string& default_locale) {
  std::map<std::string, std::string> templates;
  for (const auto& [file, source] : templates::EmbeddedTemplates()) {
    templates[StripSuffix(file)] = source;
  }
  const auto read_folder = [&](const std::filesystem::path& dir,
                               const std::string& prefix) -> absl::Status {
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat(
          "templates_dir: cannot read \"", dir.string(), "\": ", ec.message()));
    }
    for (const auto& entry : it) {
      const std::string file = entry.path().filename().string();
      if (!entry.is_regular_file() || !absl::EndsWith(file, kSuffix)) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream buf;
      buf << in.rdbuf();
      if (!in) {
        return absl::InvalidArgumentError(absl::StrCat(
            "templates_dir: cannot read \"", entry.path().string(), "\""));
      }
      templates[prefix + StripSuffix(file)] = buf.str();
    }
    return absl::OkStatus();
  };
  if (!override_dir.empty()) {
    if (absl::Status s = read_folder(override_dir, ""); !s.ok()) return s;
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator(override_dir, ec)) {
      const std::string folder = entry.path().filename().string();
      // A checkout's .git and the like are not languages.
      if (!entry.is_directory() || absl::StartsWith(folder, ".")) continue;
      absl::StatusOr<std::string> tag = CanonicalLocaleTag(folder);
      if (!tag.ok() || *tag != folder) {
        return absl::InvalidArgumentError(absl::StrCat(
            "templates_dir: folder \"", entry.path().string(),
            "\" is not named by a language tag such as \"de\" or \"pt-BR\""));
      }
      if (absl::Status s = read_folder(entry.path(), folder + "/"); !s.ok()) {
        return s;
      }
    }
  }
  return std::make_unique<MustacheRenderer>(std::move(templates),
                                            default_locale);
}

std::vector<std::string> MustacheRenderer::Folders(
    absl::string_view locale) const {
  std::vector<std::string> out;
  const auto add = [&](absl::string_view tag) {
    for (std::string& candidate : LocaleFallbacks(tag)) {
      if (folders_.count(candidate) != 0 &&
          std::find(out.begin(), out.end(), candidate) == out.end()) {
        out.push_back(std::move(candidate));
      }
    }
  };
  add(locale);
  // English readers stop at the built-ins, which are English, before any
  // other default language.
  const std::vector<std::string> own = LocaleFallbacks(locale);
  if (own.empty() || own.back() != "en") add(default_locale_);
  out.push_back("");
  return out;
}

const std::string* MustacheRenderer::Find(
    const std::vector<std::string>& folders, absl::string_view name) const {
  for (const std::string& folder : folders) {
    auto it = templates_.find(folder.empty() ? std::string(name)
                                             : absl::StrCat(folder, "/", name));
    if (it != templates_.end()) return &it->second;
  }
  return nullptr;
}

std::shared_ptr<const MustacheRenderer::Sources> MustacheRenderer::PartialsFor(
    const std::vector<std::string>& folders) const {
  const std::string key = absl::StrJoin(folders, "|");
  absl::MutexLock lock(&mu_);
  auto it = partials_.find(key);
  if (it != partials_.end()) return it->second;
  auto partials = std::make_shared<Sources>();
  for (const std::string& name : partial_names_) {
    if (const std::string* source = Find(folders, name)) {
      (*partials)[name] = *source;
    }
  }
  return partials_.emplace(key, std::move(partials)).first->second;
}

std::shared_ptr<const MustacheRenderer::Language> MustacheRenderer::LanguageFor(
    absl::string_view locale) const {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = languages_.find(std::string(locale));
    if (it != languages_.end()) return it->second;
  }
  auto language = std::make_shared<Language>();
  language->spoken = default_locale_;
  if (absl::StatusOr<std::string> tag = CanonicalLocaleTag(locale); tag.ok()) {
    // Spoken when Render finds its templates: a folder on the tag's own
    // chain ("de-AT" -> "de"), or English, the built-ins' language.
    for (const std::string& candidate : LocaleFallbacks(*tag)) {
      if (candidate == "en" || folders_.count(candidate) != 0) {
        language->spoken = *tag;
        break;
      }
    }
  }
  language->folders = Folders(locale);
  language->partials = PartialsFor(language->folders);
  absl::MutexLock lock(&mu_);
  if (languages_.size() >= 1024) languages_.clear();
  return languages_.emplace(std::string(locale), std::move(language))
      .first->second;
}

std::string MustacheRenderer::SpokenLocale(absl::string_view locale) const {
  return LanguageFor(locale)->spoken;
}

std::vector<std::string> MustacheRenderer::Languages() const {
  std::set<std::string> tags(folders_.begin(), folders_.end());
  tags.insert("en");
  return {tags.begin(), tags.end()};
}

std::vector<std::string> MustacheRenderer::LanguagesWith(
    absl::string_view name) const {
  std::vector<std::string> out;
  for (const std::string& tag : Languages()) {
    bool own = tag == "en";
    for (const std::string& candidate : LocaleFallbacks(tag)) {
      own = own || (folders_.count(candidate) != 0 &&
                    templates_.contains(absl::StrCat(candidate, "/", name)));
    }
    if (own) out.push_back(tag);
  }
  return out;
}

absl::StatusOr<std::string> MustacheRenderer::Render(
    absl::string_view name, const TemplateContext& context) const {
  const std::shared_ptr<const Language> language =
      LanguageFor(context.locale.empty() ? default_locale_ : context.locale);
  const std::vector<std::string>& folders = language->folders;
  const std::string* source = Find(folders, name);
  if (source == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no template named \"", name, "\""));
  }
  const bool html =
      absl::EndsWith(name, ".html") || absl::EndsWith(name, ".xml");
  // mstch parses every partial it is given on every render: give them only
  // to templates that include one.
  static const Sources kNoPartials;
  const bool includes = source->find("{{>") != std::string::npos;
  tls_escape_html = html;
  std::string out = mstch::render(*source, ToMstch(context),
                                  includes ? *language->partials : kNoPartials);
  tls_escape_html = false;
  if (!html) out = std::string(absl::StripAsciiWhitespace(out));
  // Whatever the values or an operator's template hold, nothing herald
  // writes carries a character its format cannot (XML 1.0 refuses control
  // characters and U+FFFE/U+FFFF; mail and terminals misread them).
  return ScrubText(out);
}

}  // namespace herald
