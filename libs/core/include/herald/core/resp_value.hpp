#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace herald::core {

// One Redis reply (RESP2) as a tree of values: what libs/redis builds from
// the wire with hiredis' reader, and what the pure reply parsers
// (redis_replies.hpp) read. No I/O here, so that the parsers are tested and
// fuzzed on their own.
struct resp_value {
  enum class kind { nil, string, status, error, integer, array };

  kind type = kind::nil;
  std::string text;  // string, status and error
  long long integer = 0;
  std::vector<resp_value> elements;  // array

  static resp_value string_of(std::string text) {
    resp_value value;
    value.type = kind::string;
    value.text = std::move(text);
    return value;
  }
  static resp_value status_of(std::string text) {
    resp_value value = string_of(std::move(text));
    value.type = kind::status;
    return value;
  }
  static resp_value error_of(std::string text) {
    resp_value value = string_of(std::move(text));
    value.type = kind::error;
    return value;
  }
  static resp_value integer_of(long long number) {
    resp_value value;
    value.type = kind::integer;
    value.integer = number;
    return value;
  }
  static resp_value array_of(std::vector<resp_value> elements) {
    resp_value value;
    value.type = kind::array;
    value.elements = std::move(elements);
    return value;
  }

  bool is_error() const { return type == kind::error; }
  bool is_string() const { return type == kind::string || type == kind::status; }
  bool is_array() const { return type == kind::array; }
};

}  // namespace herald::core
