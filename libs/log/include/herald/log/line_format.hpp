#pragma once

// The two line formats, as pure functions (spdlog's formatter calls them;
// tests call them directly).
//
// text: 2024-05-01T12:34:56.789Z WARN upgrade refused cause=origin peer=10.0.0.7
//   Values with spaces, quotes, '=' or control characters are quoted, with
//   \" \\ \n \r \t and \xNN escapes, so that one line stays one line.
// json: {"time":"2024-05-01T12:34:56.789Z","level":"warn","msg":"upgrade refused",
//        "cause":"origin","peer":"10.0.0.7"}
//   One object per line; numbers and flags as JSON numbers and booleans.
//
// In both, bytes that are not UTF-8 become U+FFFD: a client's header or
// channel name cannot make a line that a JSON reader rejects.

#include <chrono>
#include <string>
#include <string_view>

#include "herald/log/log.hpp"

namespace herald::log {

// UTC, ISO 8601, milliseconds: 2024-05-01T12:34:56.789Z.
void append_utc_time(std::string& out, std::chrono::system_clock::time_point when);

// `text` as a JSON string, quotes included.
void append_json_string(std::string& out, std::string_view text);

// One whole line, '\n' included.
void append_line(std::string& out, format line_format, level l,
                 std::chrono::system_clock::time_point when, std::string_view msg,
                 field_list fields);

}  // namespace herald::log
