#include "http/ui.h"

#include <gtest/gtest.h>

#include <string>

#include "core/core.h"
#include "storage/inmem.h"
#include "util/testing.h"

namespace vault::http {
namespace {

HttpRequest Get(std::string target, std::string accept_encoding = "") {
  HttpRequest r;
  r.method = "GET";
  r.target = std::move(target);
  if (!accept_encoding.empty()) r.headers.emplace_back("Accept-Encoding", accept_encoding);
  return r;
}

std::string HeaderOf(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

// The name of the built script (assets/index-<hash>.js), from the embedded table.
std::string ScriptAsset() {
  for (const UiAsset& a : UiAssets()) {
    std::string p = a.path;
    if (p.rfind("assets/", 0) == 0 && p.size() > 3 && p.substr(p.size() - 3) == ".js") return p;
  }
  return "";
}

TEST(UiTest, TheBuiltUiIsEmbeddedSortedWithItsGzipVariants) {
  auto all = UiAssets();
  ASSERT_FALSE(all.empty());
  for (size_t i = 1; i < all.size(); ++i)
    EXPECT_LT(std::string_view(all[i - 1].path), std::string_view(all[i].path));
  const UiAsset* index = FindUiAsset("index.html");
  ASSERT_NE(index, nullptr);
  std::string html(reinterpret_cast<const char*>(index->data), index->size);
  EXPECT_NE(html.find("<div id=\"app\">"), std::string::npos);
  ASSERT_FALSE(ScriptAsset().empty());
  EXPECT_NE(html.find("/ui/" + ScriptAsset()), std::string::npos);
  const UiAsset* script = FindUiAsset(ScriptAsset());
  ASSERT_NE(script, nullptr);
  ASSERT_NE(script->gzip, nullptr);
  EXPECT_LT(script->gzip_size, script->size / 2);
  EXPECT_EQ(FindUiAsset("index.htm"), nullptr);
  EXPECT_EQ(FindUiAsset(""), nullptr);
}

TEST(UiTest, IndexCarriesTheSecurityHeadersAndIsRevalidated) {
  HttpResponse r = ServeUi(Get("/ui/"), "/ui/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.cache_control, "no-cache");
  const std::string csp = HeaderOf(r, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos);
  EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(HeaderOf(r, "X-Frame-Options"), "DENY");
  EXPECT_EQ(HeaderOf(r, "Referrer-Policy"), "no-referrer");
  // The document has no inline script or style for the policy to refuse.
  EXPECT_EQ(r.body.find("<script>"), std::string::npos);
  EXPECT_EQ(r.body.find("<style"), std::string::npos);
  EXPECT_EQ(r.body.find("style=\""), std::string::npos);
}

TEST(UiTest, HashedAssetsAreImmutableAndGzippedForClientsThatTakeIt) {
  const std::string js = ScriptAsset();
  HttpResponse plain = ServeUi(Get("/ui/" + js), "/ui/" + js);
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(plain.cache_control, "public, max-age=31536000, immutable");
  EXPECT_EQ(HeaderOf(plain, "Content-Encoding"), "");
  EXPECT_EQ(HeaderOf(plain, "Vary"), "Accept-Encoding");
  EXPECT_EQ(plain.body.size(), FindUiAsset(js)->size);

  HttpResponse gz = ServeUi(Get("/ui/" + js, "br, gzip;q=0.8, deflate"), "/ui/" + js);
  EXPECT_EQ(HeaderOf(gz, "Content-Encoding"), "gzip");
  EXPECT_EQ(gz.body.size(), FindUiAsset(js)->gzip_size);
  EXPECT_EQ(static_cast<unsigned char>(gz.body[0]), 0x1f);  // gzip's magic
  EXPECT_EQ(static_cast<unsigned char>(gz.body[1]), 0x8b);

  for (const char* refused : {"gzip;q=0", "identity", "gzip;q=0.000, br", "deflate"}) {
    HttpResponse r = ServeUi(Get("/ui/" + js, refused), "/ui/" + js);
    EXPECT_EQ(HeaderOf(r, "Content-Encoding"), "") << refused;
  }
  EXPECT_EQ(HeaderOf(ServeUi(Get("/ui/" + js, "*"), "/ui/" + js), "Content-Encoding"), "gzip");
}

TEST(UiTest, ClientRoutesGetTheAppAndMissingAssetsA404) {
  const UiAsset* index = FindUiAsset("index.html");
  for (const char* route : {"/ui/leases/aws/creds/deploy", "/ui/secrets/secret/show/config.json",
                            "/ui/no/such/page", "/ui/index.html"}) {
    HttpResponse r = ServeUi(Get(route), route);
    EXPECT_EQ(r.status, 200) << route;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << route;
    EXPECT_EQ(r.body.size(), index->size) << route;
    EXPECT_EQ(r.cache_control, "no-cache") << route;
  }
  HttpResponse missing = ServeUi(Get("/ui/assets/gone-1234.js"), "/ui/assets/gone-1234.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_FALSE(HeaderOf(missing, "Content-Security-Policy").empty());
  HttpResponse svg = ServeUi(Get("/ui/favicon.svg"), "/ui/favicon.svg");
  EXPECT_EQ(svg.status, 200);
  EXPECT_EQ(svg.content_type, "image/svg+xml");
}

TEST(UiTest, RedirectsDotSegmentsAndMethods) {
  for (const char* p : {"/", "/ui"}) {
    HttpResponse r = ServeUi(Get(p), p);
    EXPECT_EQ(r.status, 307) << p;
    EXPECT_EQ(r.location, "/ui/") << p;
  }
  for (const char* p : {"/ui/../v1/sys/mounts", "/ui/assets/../index.html", "/ui/./index.html",
                        "/ui/..", "/ui/a\\..\\b"}) {
    HttpResponse r = ServeUi(Get(p), p);
    EXPECT_EQ(r.status, 400) << p;
    EXPECT_EQ(r.body, R"({"errors":["invalid UI path"]})") << p;
  }
  HttpRequest post = Get("/ui/");
  post.method = "POST";
  HttpResponse r = ServeUi(post, "/ui/");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(HeaderOf(r, "Allow"), "GET, HEAD");
  EXPECT_EQ(ServeUi(Get("/v2/x"), "/v2/x").status, 404);
  EXPECT_EQ(ServeUi(Get("/uix"), "/uix").status, 404);
}

TEST(UiTest, ContentTypes) {
  EXPECT_EQ(UiContentType("a/b.css"), "text/css; charset=utf-8");
  EXPECT_EQ(UiContentType("x.png"), "image/png");
  EXPECT_EQ(UiContentType("x.woff2"), "font/woff2");
  EXPECT_EQ(UiContentType("Makefile"), "application/octet-stream");
}

// Through the handler: percent-encoded dot segments are refused too; with the UI off (a configured
// server without `ui = true`) nothing outside /v1/ answers but 404.
TEST(UiTest, TheHandlerServesTheUiOnlyWhenEnabled) {
  storage::InmemBackend physical;
  FakeClock clock;
  core::Core core(&physical, core::EngineRegistry{}, core::CoreConfig{}, &clock);
  Handler handler(&core);
  HttpResponse r = handler.Handle(Get("/ui/"));
  EXPECT_EQ(r.status, 200);  // sealed and uninitialised: the UI shows the init form
  EXPECT_EQ(handler.Handle(Get("/")).status, 307);
  EXPECT_EQ(handler.Handle(Get("/ui/%2e%2e/v1/sys/mounts")).status, 400);
  EXPECT_EQ(handler.Handle(Get("/ui/secrets/team%2Fkv")).status, 200);
  handler.set_ui_enabled(false);
  for (const char* p : {"/", "/ui/", "/ui/index.html"}) {
    HttpResponse off = handler.Handle(Get(p));
    EXPECT_EQ(off.status, 404) << p;
    EXPECT_EQ(off.body, R"({"errors":[]})") << p;
  }
}

}  // namespace
}  // namespace vault::http
