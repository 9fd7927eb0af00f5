#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <sys/stat.h>
#include <unistd.h>

#include "herald/core/static_path.hpp"

namespace fs = std::filesystem;

using herald::core::parse_static_target;
using herald::core::path_error;
using herald::core::percent_decode;
using herald::core::resolve_static_file;

namespace {

template <std::size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

std::string decode_or_fail(std::string_view in) {
  std::string out;
  INFO("input: " << in);
  REQUIRE(percent_decode(in, out));
  return out;
}

void require_target(std::string_view target, std::string_view expected) {
  INFO("target: " << target);
  const auto result = parse_static_target(target);
  REQUIRE(result.error == path_error::none);
  REQUIRE(result.path == expected);
}

void require_bad_target(std::string_view target) {
  INFO("target: " << target);
  const auto result = parse_static_target(target);
  REQUIRE(result.error == path_error::bad_request);
}

void write_file(const fs::path& path, std::string_view content) {
  std::ofstream out{path, std::ios::binary};
  out << content;
  REQUIRE(out.good());
}

// A scratch tree, removed when the test ends:
//   base/
//     root/                    the static root
//       index.html
//       style.css
//       with space.txt
//       sub/index.html, sub/page.html
//       sub/deeper/file.txt
//       empty/                 no index.html
//       escaping_index/index.html -> base/outside/secret.txt
//       link_inside.css        -> style.css (relative)
//       link_sub               -> sub (directory, relative)
//       link_outside.txt       -> base/outside/secret.txt
//       link_outside_dir       -> base/outside
//       link_sibling.txt       -> base/root2/file.txt (shares the "root" prefix)
//       link_up                -> .. (base)
//       link_dangling          -> does_not_exist
//       fifo                   a named pipe, not a regular file
//     outside/secret.txt, outside/index.html
//     root2/file.txt
class scratch_tree {
 public:
  scratch_tree() {
    static std::atomic<unsigned> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    base_ =
        fs::temp_directory_path() / ("herald_static_path_test_" + std::to_string(::getpid()) + "_" +
                                     std::to_string(stamp) + "_" + std::to_string(counter++));
    fs::create_directories(base_ / "root");
    fs::create_directories(base_ / "outside");
    fs::create_directories(base_ / "root2");
    const fs::path r = base_ / "root";
    write_file(r / "index.html", "<h1>home</h1>");
    write_file(r / "style.css", "body{}");
    write_file(r / "with space.txt", "spaced");
    fs::create_directories(r / "sub" / "deeper");
    write_file(r / "sub" / "index.html", "sub index");
    write_file(r / "sub" / "page.html", "sub page");
    write_file(r / "sub" / "deeper" / "file.txt", "deep");
    fs::create_directories(r / "empty");
    fs::create_directories(r / "escaping_index");
    write_file(base_ / "outside" / "secret.txt", "secret");
    write_file(base_ / "outside" / "index.html", "outside index");
    write_file(base_ / "root2" / "file.txt", "sibling");
    fs::create_symlink(base_ / "outside" / "secret.txt", r / "escaping_index" / "index.html");
    fs::create_symlink("style.css", r / "link_inside.css");
    fs::create_directory_symlink("sub", r / "link_sub");
    fs::create_symlink(base_ / "outside" / "secret.txt", r / "link_outside.txt");
    fs::create_directory_symlink(base_ / "outside", r / "link_outside_dir");
    fs::create_symlink("../root2/file.txt", r / "link_sibling.txt");
    fs::create_directory_symlink("..", r / "link_up");
    fs::create_symlink("does_not_exist", r / "link_dangling");
    fifo_made_ = ::mkfifo((r / "fifo").c_str(), 0600) == 0;
    root_ = fs::canonical(r);
  }

  ~scratch_tree() {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  scratch_tree(const scratch_tree&) = delete;
  scratch_tree& operator=(const scratch_tree&) = delete;

  const fs::path& base() const { return base_; }
  const fs::path& root() const { return root_; }
  bool fifo_made() const { return fifo_made_; }

 private:
  fs::path base_;
  fs::path root_;
  bool fifo_made_ = false;
};

void require_resolves(const scratch_tree& tree, std::string_view target,
                      const fs::path& relative_expected) {
  INFO("target: " << target);
  const auto result = resolve_static_file(tree.root(), target);
  REQUIRE(result.error == path_error::none);
  REQUIRE(result.file == tree.root() / relative_expected);
  REQUIRE(result.file.is_absolute());
  REQUIRE(fs::is_regular_file(result.file));
}

void require_not_found(const scratch_tree& tree, std::string_view target) {
  INFO("target: " << target);
  const auto result = resolve_static_file(tree.root(), target);
  REQUIRE(result.error == path_error::not_found);
  REQUIRE(result.file.empty());
}

void require_bad_request(const scratch_tree& tree, std::string_view target) {
  INFO("target: " << target);
  const auto result = resolve_static_file(tree.root(), target);
  REQUIRE(result.error == path_error::bad_request);
  REQUIRE(result.file.empty());
}

}  // namespace

TEST_CASE("percent_decode decodes escapes", "[static_path]") {
  REQUIRE(decode_or_fail("") == "");
  REQUIRE(decode_or_fail("plain") == "plain");
  REQUIRE(decode_or_fail("%41") == "A");
  REQUIRE(decode_or_fail("a%20b") == "a b");
  REQUIRE(decode_or_fail("%7e%7E") == "~~");
  REQUIRE(decode_or_fail("%2e%2E") == "..");
  REQUIRE(decode_or_fail("%2f%5C") == "/\\");
  REQUIRE(decode_or_fail("%C3%A9") == "\xc3\xa9");
  REQUIRE(decode_or_fail("%ff%00") == bytes("\xff\0"));
  REQUIRE(decode_or_fail("%2541") == "%41");  // decodes once only
  REQUIRE(decode_or_fail("a+b") == "a+b");    // no form decoding
  REQUIRE(decode_or_fail("end%21") == "end!");
}

TEST_CASE("percent_decode replaces previous output", "[static_path]") {
  std::string out = "stale content";
  REQUIRE(percent_decode("new", out));
  REQUIRE(out == "new");
}

TEST_CASE("percent_decode rejects malformed escapes", "[static_path]") {
  const char* const inputs[] = {"%",   "%4",   "a%",  "a%4", "100%",   "%zz",  "%g0",
                                "%0g", "%%41", "%-1", "% 1", "%4\xff", "ok%2", "%0x41"};
  for (const char* input : inputs) {
    INFO("input: " << input);
    std::string out;
    REQUIRE_FALSE(percent_decode(input, out));
  }
}

TEST_CASE("parse_static_target maps plain paths", "[static_path]") {
  require_target("/", "index.html");
  require_target("/index.html", "index.html");
  require_target("/style.css", "style.css");
  require_target("/a/b/c.txt", "a/b/c.txt");
  require_target("/dir", "dir");
  require_target("/dir/", "dir/index.html");
  require_target("/a/b/", "a/b/index.html");
  require_target("/with%20space.txt", "with space.txt");
  require_target("/%41bc", "Abc");
  require_target("/a%3Fb", "a?b");  // an encoded '?' is part of the name
  require_target("/a%23b", "a#b");
  require_target("/caf%C3%A9.html", "caf\xc3\xa9.html");
}

TEST_CASE("parse_static_target ignores the query and fragment", "[static_path]") {
  require_target("/?x=1", "index.html");
  require_target("/page.html?v=2", "page.html");
  require_target("/dir/?q", "dir/index.html");
  require_target("/page.html?path=../../etc/passwd", "page.html");
  require_target("/page.html?bad=%zz", "page.html");
  require_target("/a?b/../c", "a");
  require_target("/a#frag", "a");
  require_target("/a#frag/../x", "a");
  require_target("/a?b#c", "a");
  require_target("/?", "index.html");
}

TEST_CASE("parse_static_target drops empty and dot segments", "[static_path]") {
  require_target("/.", "index.html");
  require_target("/./a", "a");
  require_target("/a/./b", "a/b");
  require_target("/a/.", "a/index.html");
  require_target("/%2e/a", "a");
  require_target("/a/%2E", "a/index.html");
  require_target("//a", "a");
  require_target("/a//b", "a/b");
  require_target("//", "index.html");
  require_target("/a//", "a/index.html");
  // Names that merely contain dots are ordinary.
  require_target("/...", "...");
  require_target("/..a", "..a");
  require_target("/a..", "a..");
  require_target("/.hidden", ".hidden");
  require_target("/a/.well-known/x", "a/.well-known/x");
}

TEST_CASE("parse_static_target rejects parent segments", "[static_path]") {
  require_bad_target("/..");
  require_bad_target("/../");
  require_bad_target("/../etc/passwd");
  require_bad_target("/a/../b");
  require_bad_target("/a/..");
  require_bad_target("/a/b/../../..");
  require_bad_target("/%2e%2e");
  require_bad_target("/%2e%2e/etc/passwd");
  require_bad_target("/%2E%2e/x");
  require_bad_target("/%2E%2E");
  require_bad_target("/.%2e");
  require_bad_target("/%2e.");
  require_bad_target("/a/%2e%2e?x");
}

TEST_CASE("parse_static_target rejects encoded slashes and backslashes", "[static_path]") {
  require_bad_target("/a%2fb");
  require_bad_target("/a%2Fb");
  require_bad_target("/%2f");
  require_bad_target("/..%2f..%2fetc");
  require_bad_target("/%2e%2e%2fsecret");
  require_bad_target("/a%5cb");
  require_bad_target("/a%5Cb");
  require_bad_target("/..%5c..%5cwin.ini");
  require_bad_target("/a\\b");
  require_bad_target("/\\..\\x");
}

TEST_CASE("parse_static_target rejects NUL bytes", "[static_path]") {
  require_bad_target("/a%00b");
  require_bad_target("/index.html%00.png");
  require_bad_target("/%00");
  require_bad_target(bytes("/a\0b"));
}

TEST_CASE("parse_static_target rejects bad percent-encoding", "[static_path]") {
  require_bad_target("/%zz");
  require_bad_target("/%4");
  require_bad_target("/a%");
  require_bad_target("/%4g/x");
  require_bad_target("/ok/%");
  require_bad_target("/ok/%G1/");
}

TEST_CASE("parse_static_target rejects targets that are not origin-form", "[static_path]") {
  require_bad_target("");
  require_bad_target("*");
  require_bad_target("http://x/");
  require_bad_target("https://example.com/index.html");
  require_bad_target("example.com:443");
  require_bad_target("index.html");
  require_bad_target("?x=1");
  require_bad_target(" /");
  require_bad_target("\\index.html");
}

TEST_CASE("parse_static_target never yields an empty path or a leading slash", "[static_path]") {
  const char* const targets[] = {"/", "//", "/.", "/./", "/?", "/#", "///././/", "/a", "/a/"};
  for (const char* target : targets) {
    INFO("target: " << target);
    const auto result = parse_static_target(target);
    REQUIRE(result.error == path_error::none);
    REQUIRE_FALSE(result.path.empty());
    REQUIRE(result.path.front() != '/');
  }
}

TEST_CASE("resolve_static_file serves files inside the root", "[static_path]") {
  scratch_tree tree;
  require_resolves(tree, "/", "index.html");
  require_resolves(tree, "/index.html", "index.html");
  require_resolves(tree, "/index.html?cache=bust", "index.html");
  require_resolves(tree, "/style.css", "style.css");
  require_resolves(tree, "/with%20space.txt", "with space.txt");
  require_resolves(tree, "/sub/page.html", "sub/page.html");
  require_resolves(tree, "/sub/deeper/file.txt", "sub/deeper/file.txt");
  require_resolves(tree, "/./sub//page.html", "sub/page.html");
}

TEST_CASE("resolve_static_file maps folders to their index.html", "[static_path]") {
  scratch_tree tree;
  require_resolves(tree, "/sub/", "sub/index.html");
  require_resolves(tree, "/sub", "sub/index.html");
  require_resolves(tree, "/sub/.", "sub/index.html");
}

TEST_CASE("resolve_static_file: folder without index.html is not found", "[static_path]") {
  scratch_tree tree;
  require_not_found(tree, "/empty/");
  require_not_found(tree, "/empty");
  require_not_found(tree, "/sub/deeper/");
}

TEST_CASE("resolve_static_file: missing files are not found", "[static_path]") {
  scratch_tree tree;
  require_not_found(tree, "/missing.html");
  require_not_found(tree, "/sub/missing.html");
  require_not_found(tree, "/missing/dir/");
  require_not_found(tree, "/style.css/");  // a file is not a folder
  require_not_found(tree, "/style.css/x");
}

TEST_CASE("resolve_static_file follows symlinks that stay inside the root", "[static_path]") {
  scratch_tree tree;
  // The result is canonical: the link's target, not the link.
  require_resolves(tree, "/link_inside.css", "style.css");
  require_resolves(tree, "/link_sub/page.html", "sub/page.html");
  require_resolves(tree, "/link_sub/", "sub/index.html");
  require_resolves(tree, "/link_up/root/style.css", "style.css");
}

TEST_CASE("resolve_static_file refuses symlinks that leave the root", "[static_path]") {
  scratch_tree tree;
  require_not_found(tree, "/link_outside.txt");
  require_not_found(tree, "/link_outside_dir/secret.txt");
  require_not_found(tree, "/link_outside_dir/");
  require_not_found(tree, "/link_outside_dir");
  require_not_found(tree, "/escaping_index/");
  require_not_found(tree, "/escaping_index/index.html");
  require_not_found(tree, "/link_up/outside/secret.txt");
  require_not_found(tree, "/link_up/root2/file.txt");
  // Shares the root's name as a string prefix ("root" / "root2"): still outside.
  require_not_found(tree, "/link_sibling.txt");
  require_not_found(tree, "/link_dangling");
}

TEST_CASE("resolve_static_file refuses what is not a regular file", "[static_path]") {
  scratch_tree tree;
  if (tree.fifo_made()) {
    require_not_found(tree, "/fifo");
  }
}

TEST_CASE("resolve_static_file passes bad requests through", "[static_path]") {
  scratch_tree tree;
  require_bad_request(tree, "/../outside/secret.txt");
  require_bad_request(tree, "/%2e%2e/outside/secret.txt");
  require_bad_request(tree, "/sub/%2E%2e/%2e%2e/outside/secret.txt");
  require_bad_request(tree, "/sub%2fpage.html");
  require_bad_request(tree, "/sub%5cpage.html");
  require_bad_request(tree, "/index.html%00");
  require_bad_request(tree, "/%zz");
  require_bad_request(tree, "http://x/");
  require_bad_request(tree, "*");
}

TEST_CASE("scratch_tree cleans up after itself", "[static_path]") {
  fs::path base;
  {
    scratch_tree tree;
    base = tree.base();
    REQUIRE(fs::exists(base));
    REQUIRE(fs::exists(base / "outside" / "secret.txt"));
  }
  REQUIRE_FALSE(fs::exists(base));
}
