#include "server/render/mustache_renderer.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
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

TEST(MustacheRendererTest, EmbeddedDefaultsCoverEveryStateAndChannel) {
  absl::StatusOr<std::unique_ptr<MustacheRenderer>> r =
      MustacheRenderer::WithOverrides("");
  ASSERT_TRUE(r.ok());
  for (const char* state : {"investigating", "identified", "monitoring",
                            "resolved", "maintenance", "apology"}) {
    for (const char* channel : {"title", "body", "email_subject", "email_text",
                                "email.html", "short_text"}) {
      const std::string name = absl::StrCat(state, ".", channel);
      absl::StatusOr<std::string> out = (*r)->Render(name, {});
      ASSERT_TRUE(out.ok()) << name << ": " << out.status();
      EXPECT_FALSE(out->empty()) << name;
    }
  }
  for (const char* name :
       {"holding.title", "holding.body", "point_person_assigned.email_subject",
        "point_person_assigned.email_text", "ready_to_resolve.email_subject",
        "ready_to_resolve.email_text", "status_page.html"}) {
    EXPECT_TRUE((*r)->Render(name, {}).ok()) << name;
  }
}

TEST(MustacheRendererTest, PerStateTemplatesShareLayoutsThroughPartials) {
  absl::StatusOr<std::unique_ptr<MustacheRenderer>> r =
      MustacheRenderer::WithOverrides("");
  ASSERT_TRUE(r.ok());
  TemplateContext ctx;
  ctx.values["customer_name"] = "Grace";
  ctx.flags["named"] = true;
  ctx.values["body"] = "Checkout <fails> & retries.";
  TemplateContext paragraph;
  paragraph.values["text"] = "Checkout <fails> & retries.";
  ctx.lists["body_paragraphs"] = {paragraph};
  const std::string html = *(*r)->Render("identified.email.html", ctx);
  EXPECT_THAT(html, HasSubstr("Hello Grace,"));
  EXPECT_THAT(html, HasSubstr("Checkout &lt;fails&gt; &amp; retries."));
  const std::string text = *(*r)->Render("identified.email_text", ctx);
  EXPECT_THAT(text, HasSubstr("Checkout <fails> & retries."));
}

TEST(MustacheRendererTest, OverridingAPartialChangesEveryTemplateUsingIt) {
  const auto dir =
      std::filesystem::path(::testing::TempDir()) / "herald_partial_override";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "partial_subscriber_email_text.mustache")
      << "Dear {{customer_name}}: {{body}}";
  absl::StatusOr<std::unique_ptr<MustacheRenderer>> r =
      MustacheRenderer::WithOverrides(dir.string());
  ASSERT_TRUE(r.ok()) << r.status();
  TemplateContext ctx;
  ctx.values["customer_name"] = "Grace";
  ctx.values["body"] = "fixed";
  EXPECT_EQ(*(*r)->Render("monitoring.email_text", ctx), "Dear Grace: fixed");
  EXPECT_EQ(*(*r)->Render("resolved.email_text", ctx), "Dear Grace: fixed");
}

TEST(MustacheRendererTest, OverrideDirectoryReplacesOnlyTheFilesItHas) {
  const auto dir =
      std::filesystem::path(::testing::TempDir()) / "herald_templates_override";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "investigating.title.mustache")
      << "OVERRIDDEN {{components_text}}";
  absl::StatusOr<std::unique_ptr<MustacheRenderer>> r =
      MustacheRenderer::WithOverrides(dir.string());
  ASSERT_TRUE(r.ok()) << r.status();
  TemplateContext ctx;
  ctx.values["components_text"] = "Checkout";
  EXPECT_EQ(*(*r)->Render("investigating.title", ctx), "OVERRIDDEN Checkout");
  EXPECT_THAT(*(*r)->Render("resolved.title", ctx), HasSubstr("resolved"));
}

TEST(MustacheRendererTest, EachTemplateFallsBackFromTheLanguageToTheDefault) {
  MustacheRenderer r(Templates{{"greeting", "Hello"},
                               {"farewell", "Goodbye"},
                               {"sign", "Yours"},
                               {"de/greeting", "Hallo"},
                               {"de-AT/greeting", "Servus"},
                               {"de/farewell", "Auf Wiedersehen"},
                               {"fr/greeting", "Bonjour"}},
                     "fr");
  const auto in = [&](const std::string& locale, const char* name) {
    TemplateContext ctx;
    ctx.locale = locale;
    return *r.Render(name, ctx);
  };
  EXPECT_EQ(in("de-AT", "greeting"), "Servus");
  EXPECT_EQ(in("de-AT", "farewell"), "Auf Wiedersehen");  // de-AT has none
  EXPECT_EQ(in("de-CH", "greeting"), "Hallo");
  EXPECT_EQ(in("de", "sign"), "Yours");      // no German, no French: built-in
  EXPECT_EQ(in("", "greeting"), "Bonjour");  // the default locale
  // English readers get the built-ins, which are English, not the default.
  EXPECT_EQ(in("en-GB", "greeting"), "Hello");
}

TEST(MustacheRendererTest, PartialsComeFromTheReadersLanguage) {
  MustacheRenderer r(Templates{{"letter", "{{> partial_sign}}"},
                               {"partial_sign", "Regards"},
                               {"de/partial_sign", "Viele Grüße"}});
  TemplateContext ctx;
  ctx.locale = "de";
  EXPECT_EQ(*r.Render("letter", ctx), "Viele Grüße");
  ctx.locale = "en";
  EXPECT_EQ(*r.Render("letter", ctx), "Regards");
}

TEST(MustacheRendererTest, SpokenLocaleIsTheReadersWhenHeraldWritesIt) {
  MustacheRenderer r(Templates{{"de/greeting", "Hallo"}}, "de");
  EXPECT_EQ(r.SpokenLocale("de-at"), "de-AT");
  EXPECT_EQ(r.SpokenLocale("en-GB"), "en-GB");  // the built-ins' language
  EXPECT_EQ(r.SpokenLocale("ja"), "de");        // no Japanese templates
  EXPECT_EQ(r.SpokenLocale(""), "de");
  EXPECT_EQ(r.SpokenLocale("not a tag"), "de");
}

TEST(MustacheRendererTest, ShipsGermanForEveryCustomerMessage) {
  absl::StatusOr<std::unique_ptr<MustacheRenderer>> r =
      MustacheRenderer::WithOverrides("");
  ASSERT_TRUE(r.ok());
  const auto& embedded = templates::EmbeddedTemplates();
  for (const char* state :
       {"investigating", "identified", "monitoring", "resolved", "maintenance",
        "apology", "follow_up"}) {
    for (const char* channel : {"title", "body", "email_subject", "email_text",
                                "email.html", "short_text"}) {
      const std::string file =
          absl::StrCat("de/", state, ".", channel, ".mustache");
      EXPECT_TRUE(embedded.contains(file)) << file;
    }
  }
  for (const char* name :
       {"holding.title", "holding.body", "reopened.title", "reopened.body",
        "subscribe_confirm.email_subject", "subscribe_confirm.email_text",
        "subscribe_confirm.email.html", "subscribe_existing.email_subject",
        "subscribe_existing.email_text", "self_service.html",
        "partial_subscriber_email_text", "partial_subscriber_email_html",
        "partial_apology_email_html", "partial_subscribe_form"}) {
    EXPECT_TRUE(embedded.contains(absl::StrCat("de/", name, ".mustache")))
        << name;
  }
}

TEST(MustacheRendererTest, LanguageFoldersMustBeNamedByALanguageTag) {
  const auto dir =
      std::filesystem::path(::testing::TempDir()) / "herald_bad_language";
  std::filesystem::create_directories(dir / "german");
  std::filesystem::create_directories(dir / "de");
  std::ofstream(dir / "de" / "greeting.mustache") << "Hallo";
  EXPECT_THAT(
      std::string(
          MustacheRenderer::WithOverrides(dir.string()).status().message()),
      HasSubstr("german"));
  std::filesystem::remove(dir / "german");
  absl::StatusOr<std::unique_ptr<MustacheRenderer>> r =
      MustacheRenderer::WithOverrides(dir.string());
  ASSERT_TRUE(r.ok()) << r.status();
  TemplateContext ctx;
  ctx.locale = "de";
  EXPECT_EQ(*(*r)->Render("greeting", ctx), "Hallo");
}

TEST(MustacheRendererTest, MissingOverrideDirectoryIsAnError) {
  EXPECT_THAT(std::string(MustacheRenderer::WithOverrides("/nonexistent/herald")
                              .status()
                              .message()),
              HasSubstr("templates_dir"));
}

}  // namespace
}  // namespace herald
