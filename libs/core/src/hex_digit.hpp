#pragma once

// Internal to herald_core: percent-decoding (static_path.cpp) and JSON `\u`
// escapes (json_reading.cpp) read hex digits alike.

namespace herald::core {

// The value of a hex digit of either case, or -1 for any other character.
constexpr int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace herald::core
