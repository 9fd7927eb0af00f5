#pragma once

// Checks shared by the libFuzzer targets on the JSON decoders: a broken
// invariant aborts, which libFuzzer reports as a crash with its input.

#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "herald/core/client_protocol.hpp"

namespace herald::fuzz {

inline void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

// `text`, which must be JSON: the decoders' own depth limit (Boost.JSON's
// default, 32, is lower), so that what they accept parses here too.
inline boost::json::value parse_or_abort(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = core::client_protocol::max_json_depth;
  boost::json::error_code ec;
  boost::json::value value = boost::json::parse(text, ec, {}, options);
  require(!ec);
  return value;
}

// The value whose JSON text is `text`, parsed as it is inside an array or
// object. Boost.JSON 1.81 reads a long decimal fraction that ends its input
// on another path than one followed by more text, and the two can differ in
// the last bit (`-9.166152690890653013992664496581`), so a value is compared
// with a member only when both were parsed in the same position.
inline boost::json::value parse_member_or_abort(std::string_view text) {
  std::string wrapped;
  wrapped.reserve(text.size() + 2);
  wrapped.append("[").append(text).append("]");
  return parse_or_abort(wrapped).as_array().at(0);
}

// No whitespace outside string literals (so no '\n' at all, as valid JSON
// holds one only there).
inline bool is_compact(std::string_view text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      return false;
    }
  }
  return true;
}

}  // namespace herald::fuzz
