#include "server/core/mustache_renderer.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "herald/embedded_templates.h"

namespace herald {
namespace {

using ::testing::HasSubstr;
using Templates = std::map<std::string, std::string>;

TEST(MustacheRendererTest, TextTemplatesDoNotEscapeHtml) {
  MustacheRenderer r(Templates{{"note.text", "Note: {{note}}\n"}});
  TemplateContext ctx;
  ctx.values["note"] = "p99 <500ms & \"ok\"";
  EXPECT_EQ(*r.Render("note.text", ctx), "Note: p99 <500ms & \"ok\"");
}

TEST(MustacheRendererTest, HtmlTemplatesEscapeValues) {
  MustacheRenderer r(Templates{{"page.html", "<p>{{body}}</p>"}});
  TemplateContext ctx;
  ctx.values["body"] = "<script>alert(1)</script>";
  EXPECT_EQ(*r.Render("page.html", ctx),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
}

TEST(MustacheRendererTest, SectionsAndListsRender) {
  MustacheRenderer r(Templates{
      {"t",
       "{{#identified}}found{{/identified}}{{#items}}[{{name}}]{{/items}}"}});
  TemplateContext ctx;
  ctx.flags["identified"] = true;
  ctx.lists["items"] = {TemplateContext{{{"name", "a"}}, {}, {}},
                        TemplateContext{{{"name", "b"}}, {}, {}}};
  EXPECT_EQ(*r.Render("t", ctx), "found[a][b]");
}

TEST(MustacheRendererTest, UnknownTemplateIsNotFound) {
  MustacheRenderer r(Templates{});
  EXPECT_EQ(r.Render("nope", {}).status().code(), absl::StatusCode::kNotFound);
}

TEST(MustacheRendererTest, EmbeddedDefaultsCoverEveryMessageKindPart) {
  absl::StatusOr<std::unique_ptr<MustacheRenderer>> r =
      MustacheRenderer::WithOverrides("");
  ASSERT_TRUE(r.ok());
  for (const char* name :
       {"status_update.title", "status_update.body", "resolution.title",
        "resolution.body", "apology.title", "apology.body",
        "apology.email_subject", "apology.email_text",
        "subscriber_update.email_subject", "subscriber_update.email_text",
        "point_person_assigned.email_subject",
        "point_person_assigned.email_text", "ready_to_resolve.email_subject",
        "ready_to_resolve.email_text", "status_page.html"}) {
    EXPECT_TRUE((*r)->Render(name, {}).ok()) << name;
  }
}

TEST(MustacheRendererTest, OverrideDirectoryReplacesOnlyTheFilesItHas) {
  const auto dir =
      std::filesystem::path(::testing::TempDir()) / "herald_templates_override";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "status_update.title.mustache")
      << "OVERRIDDEN {{components_text}}";
  absl::StatusOr<std::unique_ptr<MustacheRenderer>> r =
      MustacheRenderer::WithOverrides(dir.string());
  ASSERT_TRUE(r.ok()) << r.status();
  TemplateContext ctx;
  ctx.values["components_text"] = "Checkout";
  EXPECT_EQ(*(*r)->Render("status_update.title", ctx), "OVERRIDDEN Checkout");
  EXPECT_THAT(*(*r)->Render("resolution.title", ctx), HasSubstr("resolved"));
}

TEST(MustacheRendererTest, MissingOverrideDirectoryIsAnError) {
  EXPECT_THAT(std::string(MustacheRenderer::WithOverrides("/nonexistent/herald")
                              .status()
                              .message()),
              HasSubstr("templates_dir"));
}

}  // namespace
}  // namespace herald
