#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace herald::core {

// Why a request target cannot be served from the static directory.
enum class path_error {
  none,
  bad_request,  // malformed: bad percent-encoding, NUL byte, not origin-form
  not_found,    // well-formed but names nothing inside the static directory
};

struct resolved_path {
  path_error error = path_error::none;
  std::filesystem::path file;  // absolute, canonical, inside the root
};

// Decodes %XX escapes. Returns false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out);

// Turns a request target (origin-form, query ignored) into a relative path of
// plain segments. Rejects anything that could name a file outside the root:
// `..` segments (also when percent-encoded), encoded slashes, backslashes and
// NUL bytes. A trailing slash or empty path maps to `index.html`.
struct relative_target {
  path_error error = path_error::none;
  std::string path;  // '/'-separated, no leading slash, never empty
};
relative_target parse_static_target(std::string_view target);

// Resolves `target` against the canonical static root, following symlinks and
// refusing any result that leaves the root; a directory maps to its
// index.html.
resolved_path resolve_static_file(const std::filesystem::path& canonical_root,
                                  std::string_view target);

}  // namespace herald::core
