#pragma once

// Helpers shared by the unit tests of the JSON codecs (client protocol,
// server API, seed codec).

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace herald::test {

// A std::string that may hold NUL or invalid UTF-8 bytes, from a literal.
template <std::size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// `text` parsed; the test fails when it is not valid JSON.
inline boost::json::value parse_json(std::string_view text) {
  INFO("json: " << text);
  boost::json::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  REQUIRE_FALSE(ec);
  return value;
}

}  // namespace herald::test
