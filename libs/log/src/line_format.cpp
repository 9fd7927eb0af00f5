#include "herald/log/line_format.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace herald::log {
namespace {

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD

// The length of the well-formed UTF-8 sequence at the start of `text`
// (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF), or 0.
std::size_t utf8_sequence_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) {
    return 1;
  }
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    low = lead == 0xE0 ? 0xA0 : 0x80;
    high = lead == 0xED ? 0x9F : 0xBF;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    low = lead == 0xF0 ? 0x90 : 0x80;
    high = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) {
    return 0;
  }
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) {
      return 0;
    }
  }
  return length;
}

void append_hex_escape(std::string& out, const char* prefix, unsigned char c) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%s%02x", prefix, c);
  out += buffer;
}

// Escapes for one byte below 0x20 (and DEL in text), or "" for none.
std::string_view short_escape(char c) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return {};
  }
}

// Copies `text` through `escape_ascii`, which handles one ASCII byte;
// well-formed multi-byte UTF-8 is copied, anything else becomes U+FFFD.
template <class EscapeAscii>
void append_escaped(std::string& out, std::string_view text, EscapeAscii escape_ascii) {
  while (!text.empty()) {
    const std::size_t length = utf8_sequence_length(text);
    if (length == 0) {
      out += replacement_character;
      text.remove_prefix(1);
    } else if (length == 1) {
      escape_ascii(out, text[0]);
      text.remove_prefix(1);
    } else {
      out.append(text.data(), length);
      text.remove_prefix(length);
    }
  }
}

bool is_control(char c) {
  return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}

void append_json_ascii(std::string& out, char c) {
  if (auto escape = short_escape(c); !escape.empty()) {
    out += escape;
  } else if (static_cast<unsigned char>(c) < 0x20) {
    append_hex_escape(out, "\\u00", static_cast<unsigned char>(c));
  } else {
    out.push_back(c);
  }
}

void append_text_ascii(std::string& out, char c) {
  if (auto escape = short_escape(c); !escape.empty()) {
    out += escape;
  } else if (is_control(c)) {
    append_hex_escape(out, "\\x", static_cast<unsigned char>(c));
  } else {
    out.push_back(c);
  }
}

// A message in the text format: as it is, but on one line.
void append_text_message(std::string& out, std::string_view text) {
  append_escaped(out, text, [](std::string& to, char c) {
    if (is_control(c)) {
      append_text_ascii(to, c);
    } else {
      to.push_back(c);
    }
  });
}

// A value in the text format: bare when it can be read back unambiguously.
void append_text_value(std::string& out, std::string_view text) {
  const bool bare = !text.empty() && text.find_first_of(" \"=\\") == std::string_view::npos &&
                    std::none_of(text.begin(), text.end(), is_control);
  if (bare) {
    append_escaped(out, text, append_text_ascii);
    return;
  }
  out.push_back('"');
  append_escaped(out, text, append_text_ascii);
  out.push_back('"');
}

void append_number(std::string& out, const value& v, bool json) {
  char buffer[32];
  switch (v.what()) {
    case value::kind::signed_integer:
      std::snprintf(buffer, sizeof buffer, "%lld", static_cast<long long>(v.signed_integer()));
      break;
    case value::kind::unsigned_integer:
      std::snprintf(buffer, sizeof buffer, "%llu",
                    static_cast<unsigned long long>(v.unsigned_integer()));
      break;
    case value::kind::real:
      if (!std::isfinite(v.real())) {
        out += json ? "null" : "nan";
        return;
      }
      std::snprintf(buffer, sizeof buffer, "%.3f", v.real());
      break;
    case value::kind::flag:
      out += v.flag() ? "true" : "false";
      return;
    case value::kind::text:
      return;
  }
  out += buffer;
}

std::string_view upper_name_of(level l) {
  switch (l) {
    case level::debug:
      return "DEBUG";
    case level::info:
      return "INFO";
    case level::warn:
      return "WARN";
    case level::error:
      break;
  }
  return "ERROR";
}

}  // namespace

void append_utc_time(std::string& out, std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  const auto since_epoch = duration_cast<milliseconds>(when.time_since_epoch()).count();
  auto seconds = since_epoch / 1000;
  auto millis = since_epoch % 1000;
  if (millis < 0) {  // before 1970: floor, not truncate
    millis += 1000;
    seconds -= 1;
  }
  const time_t whole = static_cast<time_t>(seconds);
  struct tm utc {};
  gmtime_r(&whole, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  out += buffer;
}

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  append_escaped(out, text, append_json_ascii);
  out.push_back('"');
}

void append_line(std::string& out, format line_format, level l,
                 std::chrono::system_clock::time_point when, std::string_view msg,
                 field_list fields) {
  if (line_format == format::json) {
    out += "{\"time\":\"";
    append_utc_time(out, when);
    out += "\",\"level\":\"";
    out += name_of(l);
    out += "\",\"msg\":";
    append_json_string(out, msg);
    for (const auto& f : fields) {
      out.push_back(',');
      append_json_string(out, f.key);
      out.push_back(':');
      if (f.val.what() == value::kind::text) {
        append_json_string(out, f.val.text());
      } else {
        append_number(out, f.val, true);
      }
    }
    out += "}\n";
    return;
  }
  append_utc_time(out, when);
  out.push_back(' ');
  out += upper_name_of(l);
  out.push_back(' ');
  append_text_message(out, msg);
  for (const auto& f : fields) {
    out.push_back(' ');
    append_text_message(out, f.key);
    out.push_back('=');
    if (f.val.what() == value::kind::text) {
      append_text_value(out, f.val.text());
    } else {
      append_number(out, f.val, false);
    }
  }
  out.push_back('\n');
}

}  // namespace herald::log
