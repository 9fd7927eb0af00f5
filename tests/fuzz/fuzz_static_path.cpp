// libFuzzer target: a request target through the static-file path checks.
// An accepted target must be a relative path of plain segments: no empty,
// "." or ".." segment, no backslash, no NUL, no leading slash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "herald/core/static_path.hpp"

namespace {

bool is_plain_relative_path(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string::npos ||
      path.find('\0') != std::string::npos) {
    return false;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment{path.data() + start, end - start};
    if (segment.empty() || segment == "." || segment == "..") {
      return false;
    }
    start = end + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view target{reinterpret_cast<const char*>(data), size};
  const auto relative = herald::core::parse_static_target(target);
  if (relative.error == herald::core::path_error::none && !is_plain_relative_path(relative.path)) {
    std::abort();
  }
  std::string decoded;
  herald::core::percent_decode(target, decoded);
  return 0;
}
