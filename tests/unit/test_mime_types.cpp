#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "herald/core/mime_types.hpp"

using herald::core::mime_type_for;

namespace {

constexpr std::string_view octet_stream = "application/octet-stream";

}  // namespace

TEST_CASE("mime_type_for knows common web types", "[mime_types]") {
  REQUIRE(mime_type_for("index.html") == "text/html; charset=utf-8");
  REQUIRE(mime_type_for("old.htm") == "text/html; charset=utf-8");
  REQUIRE(mime_type_for("style.css") == "text/css; charset=utf-8");
  REQUIRE(mime_type_for("app.js") == "text/javascript; charset=utf-8");
  REQUIRE(mime_type_for("module.mjs") == "text/javascript; charset=utf-8");
  REQUIRE(mime_type_for("data.json") == "application/json");
  REQUIRE(mime_type_for("app.js.map") == "application/json");
  REQUIRE(mime_type_for("logo.svg") == "image/svg+xml");
  REQUIRE(mime_type_for("photo.png") == "image/png");
  REQUIRE(mime_type_for("photo.jpg") == "image/jpeg");
  REQUIRE(mime_type_for("photo.jpeg") == "image/jpeg");
  REQUIRE(mime_type_for("anim.gif") == "image/gif");
  REQUIRE(mime_type_for("photo.webp") == "image/webp");
  REQUIRE(mime_type_for("favicon.ico") == "image/vnd.microsoft.icon");
  REQUIRE(mime_type_for("font.woff") == "font/woff");
  REQUIRE(mime_type_for("font.woff2") == "font/woff2");
  REQUIRE(mime_type_for("font.ttf") == "font/ttf");
  REQUIRE(mime_type_for("module.wasm") == "application/wasm");
  REQUIRE(mime_type_for("notes.txt") == "text/plain; charset=utf-8");
  REQUIRE(mime_type_for("doc.pdf") == "application/pdf");
  REQUIRE(mime_type_for("clip.mp4") == "video/mp4");
}

TEST_CASE("mime_type_for: text types declare utf-8", "[mime_types]") {
  for (const char* name : {"a.html", "a.css", "a.js", "a.txt", "a.md", "a.csv"}) {
    INFO("name: " << name);
    const std::string_view type = mime_type_for(name);
    REQUIRE(type.substr(0, 5) == "text/");
    REQUIRE(type.size() > 15);
    REQUIRE(type.substr(type.size() - 15) == "; charset=utf-8");
  }
}

TEST_CASE("mime_type_for ignores the extension's case", "[mime_types]") {
  REQUIRE(mime_type_for("INDEX.HTML") == "text/html; charset=utf-8");
  REQUIRE(mime_type_for("page.Html") == "text/html; charset=utf-8");
  REQUIRE(mime_type_for("Style.CSS") == "text/css; charset=utf-8");
  REQUIRE(mime_type_for("app.Js") == "text/javascript; charset=utf-8");
  REQUIRE(mime_type_for("image.PNG") == "image/png");
  REQUIRE(mime_type_for("font.WOFF2") == "font/woff2");
  REQUIRE(mime_type_for("x.WaSm") == "application/wasm");
  REQUIRE(mime_type_for("logo.SVG") == "image/svg+xml");
}

TEST_CASE("mime_type_for: no or unknown extension is octet-stream", "[mime_types]") {
  REQUIRE(mime_type_for("") == octet_stream);
  REQUIRE(mime_type_for("README") == octet_stream);
  REQUIRE(mime_type_for("Makefile") == octet_stream);
  REQUIRE(mime_type_for("trailing.") == octet_stream);
  REQUIRE(mime_type_for(".") == octet_stream);
  REQUIRE(mime_type_for("archive.tar.gz") == octet_stream);
  REQUIRE(mime_type_for("program.exe") == octet_stream);
  REQUIRE(mime_type_for("page.php") == octet_stream);
  REQUIRE(mime_type_for("script.sh") == octet_stream);
  REQUIRE(mime_type_for(".htaccess") == octet_stream);
  // Near misses of known extensions are not matched.
  REQUIRE(mime_type_for("x.htmlx") == octet_stream);
  REQUIRE(mime_type_for("x.ht") == octet_stream);
  REQUIRE(mime_type_for("x.jss") == octet_stream);
  REQUIRE(mime_type_for("x.woff3") == octet_stream);
  REQUIRE(mime_type_for("x. html") == octet_stream);
  REQUIRE(mime_type_for("x.html ") == octet_stream);
}

TEST_CASE("mime_type_for only looks at the last path segment", "[mime_types]") {
  REQUIRE(mime_type_for("dir.v1/file") == octet_stream);
  REQUIRE(mime_type_for("assets.html/readme") == octet_stream);
  REQUIRE(mime_type_for("a.b/c.d/app.js") == "text/javascript; charset=utf-8");
  REQUIRE(mime_type_for("/var/www/site.example.com/index.html") == "text/html; charset=utf-8");
  REQUIRE(mime_type_for("dir.css/") == octet_stream);
  REQUIRE(mime_type_for("a/b.c/lib.min.css") == "text/css; charset=utf-8");
  REQUIRE(mime_type_for("releases/v1.2.3/app.wasm") == "application/wasm");
}

TEST_CASE("mime_type_for uses the last extension", "[mime_types]") {
  REQUIRE(mime_type_for("bundle.min.js") == "text/javascript; charset=utf-8");
  REQUIRE(mime_type_for("data.json.png") == "image/png");
  REQUIRE(mime_type_for("image.png.txt") == "text/plain; charset=utf-8");
  REQUIRE(mime_type_for("evil.html.bin") == octet_stream);
}
