#include "herald/core/static_path.hpp"

#include <system_error>

#include "hex_digit.hpp"

namespace herald::core {
namespace {

bool is_inside(const std::filesystem::path& root, const std::filesystem::path& candidate) {
  auto root_it = root.begin();
  auto candidate_it = candidate.begin();
  for (; root_it != root.end(); ++root_it, ++candidate_it) {
    if (candidate_it == candidate.end() || *root_it != *candidate_it) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return false;
    }
    const int high = hex_digit(in[i + 1]);
    const int low = hex_digit(in[i + 2]);
    if (high < 0 || low < 0) {
      return false;
    }
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

relative_target parse_static_target(std::string_view target) {
  relative_target result;
  if (target.empty() || target.front() != '/') {
    result.error = path_error::bad_request;
    return result;
  }
  target = target.substr(0, target.find_first_of("?#"));
  // Split on raw slashes first, then decode each segment on its own, so an
  // encoded slash (%2F) can never introduce a new path level.
  std::string decoded;
  std::size_t start = 1;
  while (start <= target.size()) {
    std::size_t end = target.find('/', start);
    if (end == std::string_view::npos) {
      end = target.size();
    }
    const std::string_view raw = target.substr(start, end - start);
    if (!percent_decode(raw, decoded)) {
      result.error = path_error::bad_request;
      return result;
    }
    if (decoded.find_first_of(std::string_view{"/\\\0", 3}) != std::string::npos) {
      result.error = path_error::bad_request;
      return result;
    }
    if (decoded == "..") {
      result.error = path_error::bad_request;
      return result;
    }
    const bool last = end == target.size();
    if (decoded.empty() || decoded == ".") {
      if (last) {
        // "/dir/" and "/dir/." both name the folder: serve its index.
        if (!result.path.empty()) {
          result.path.push_back('/');
        }
        result.path += "index.html";
      }
    } else {
      if (!result.path.empty()) {
        result.path.push_back('/');
      }
      result.path += decoded;
    }
    start = end + 1;
  }
  if (result.path.empty()) {
    result.path = "index.html";
  }
  return result;
}

resolved_path resolve_static_file(const std::filesystem::path& canonical_root,
                                  std::string_view target) {
  resolved_path result;
  const relative_target relative = parse_static_target(target);
  if (relative.error != path_error::none) {
    result.error = relative.error;
    return result;
  }
  std::error_code ec;
  std::filesystem::path candidate = std::filesystem::canonical(canonical_root / relative.path, ec);
  if (ec || !is_inside(canonical_root, candidate)) {
    result.error = path_error::not_found;
    return result;
  }
  if (std::filesystem::is_directory(candidate, ec)) {
    candidate = std::filesystem::canonical(candidate / "index.html", ec);
    if (ec || !is_inside(canonical_root, candidate)) {
      result.error = path_error::not_found;
      return result;
    }
  }
  if (!std::filesystem::is_regular_file(candidate, ec)) {
    result.error = path_error::not_found;
    return result;
  }
  result.file = std::move(candidate);
  return result;
}

}  // namespace herald::core
