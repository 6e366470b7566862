// MustacheRenderer renders Mustache templates (mstch) held in memory: the
// embedded defaults, overlaid file by file by an operator's directory.
// Templates named `partial_*` are also offered to every template as Mustache
// partials (`{{> partial_subscriber_email_text}}`), so that per-state
// templates can share a layout and operators can override either.
// Immutable after construction; thread-safe.
#ifndef HERALD_SERVER_RENDER_MUSTACHE_RENDERER_H_
#define HERALD_SERVER_RENDER_MUSTACHE_RENDERER_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/core/renderer.h"

namespace herald {

class MustacheRenderer final : public Renderer {
 public:
  // `templates` maps a template name ("investigating.body") to its source.
  explicit MustacheRenderer(std::map<std::string, std::string> templates);

  // The embedded defaults, with every `*.mustache` file in `override_dir`
  // (when not empty) replacing the default of the same name. Returns
  // InvalidArgument when the directory cannot be read.
  static absl::StatusOr<std::unique_ptr<MustacheRenderer>> WithOverrides(
      const std::string& override_dir);

  absl::StatusOr<std::string> Render(
      absl::string_view name, const TemplateContext& context) const override;

 private:
  std::map<std::string, std::string> templates_;
  std::map<std::string, std::string> partials_;  // the partial_* templates
};

}  // namespace herald

#endif  // HERALD_SERVER_RENDER_MUSTACHE_RENDERER_H_
