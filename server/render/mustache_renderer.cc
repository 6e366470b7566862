#include "server/render/mustache_renderer.h"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "herald/embedded_templates.h"
#include "mstch/mstch.hpp"
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

MustacheRenderer::MustacheRenderer(std::map<std::string, std::string> templates)
    : templates_(std::move(templates)) {
  InstallEscapeHook();
  for (const auto& [name, source] : templates_) {
    if (absl::StartsWith(name, kPartialPrefix)) partials_[name] = source;
  }
}

absl::StatusOr<std::unique_ptr<MustacheRenderer>>
MustacheRenderer::WithOverrides(const std::string& override_dir) {
  std::map<std::string, std::string> templates;
  for (const auto& [file, source] : templates::EmbeddedTemplates()) {
    templates[StripSuffix(file)] = source;
  }
  if (!override_dir.empty()) {
    std::error_code ec;
    std::filesystem::directory_iterator it(override_dir, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat(
          "templates_dir: cannot read \"", override_dir, "\": ", ec.message()));
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
      templates[StripSuffix(file)] = buf.str();
    }
  }
  return std::make_unique<MustacheRenderer>(std::move(templates));
}

absl::StatusOr<std::string> MustacheRenderer::Render(
    absl::string_view name, const TemplateContext& context) const {
  auto it = templates_.find(std::string(name));
  if (it == templates_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no template named \"", name, "\""));
  }
  const bool html =
      absl::EndsWith(name, ".html") || absl::EndsWith(name, ".xml");
  tls_escape_html = html;
  // mstch parses every partial it is given on every render: give them only
  // to templates that include one.
  static const std::map<std::string, std::string> kNoPartials;
  const bool includes = it->second.find("{{>") != std::string::npos;
  std::string out = mstch::render(it->second, ToMstch(context),
                                  includes ? partials_ : kNoPartials);
  tls_escape_html = false;
  if (!html) out = std::string(absl::StripAsciiWhitespace(out));
  // Whatever the values or an operator's template hold, nothing herald
  // writes carries a character its format cannot (XML 1.0 refuses control
  // characters and U+FFFE/U+FFFF; mail and terminals misread them).
  return ScrubText(out);
}

}  // namespace herald
