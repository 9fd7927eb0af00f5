#pragma once

// Checks shared by the libFuzzer targets on the JSON decoders: a broken
// invariant aborts, which libFuzzer reports as a crash with its input.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <limits>
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

// Whether two parsed values are the same JSON. Boost.JSON 1.81 reads a long
// decimal fraction on different paths depending on where it sits in the
// input (`91.57121400655418014844` gives ...186 at the start of a buffer and
// ...172 further in), so doubles parsed from the same text in two contexts
// may differ in their last bits: they count as the same within 8 ulps. The
// server forwards the sender's text, so none of this reaches a client.
inline bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    // `0e077777777` reads as NaN (0 times an overflowed power of ten).
    if (x == y || (std::isnan(x) && std::isnan(y))) {
      return true;
    }
    const double scale = std::max(std::fabs(x), std::fabs(y));
    return std::fabs(x - y) <= 8 * std::numeric_limits<double>::epsilon() * scale;
  }
  if (a.is_array() && b.is_array()) {
    const auto& left = a.get_array();
    const auto& right = b.get_array();
    if (left.size() != right.size()) {
      return false;
    }
    for (std::size_t i = 0; i < left.size(); ++i) {
      if (!same_json(left[i], right[i])) {
        return false;
      }
    }
    return true;
  }
  if (a.is_object() && b.is_object()) {
    const auto& left = a.get_object();
    const auto& right = b.get_object();
    if (left.size() != right.size()) {
      return false;
    }
    for (const auto& member : left) {
      const boost::json::value* other = right.if_contains(member.key());
      if (other == nullptr || !same_json(member.value(), *other)) {
        return false;
      }
    }
    return true;
  }
  return a == b;
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
