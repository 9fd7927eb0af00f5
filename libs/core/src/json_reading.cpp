#include "json_reading.hpp"

#include <algorithm>
#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include "hex_digit.hpp"

namespace herald::core::json_reading {

namespace {

// ---------------------------------------------------------------------------
// Scanning accepted JSON text (see raw_member in the header)
// ---------------------------------------------------------------------------

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::size_t skip_space(std::string_view text, std::size_t pos) {
  while (pos < text.size() && is_json_space(text[pos])) {
    ++pos;
  }
  return pos;
}

// Just past the string literal whose opening quote is at `pos`.
std::size_t string_end(std::string_view text, std::size_t pos) {
  ++pos;
  while (pos < text.size() && text[pos] != '"') {
    pos += text[pos] == '\\' ? 2 : 1;
  }
  return std::min(pos + 1, text.size());
}

// Just past the JSON value that starts at `pos`.
std::size_t value_end(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) {
    return pos;
  }
  const char first = text[pos];
  if (first == '"') {
    return string_end(text, pos);
  }
  if (first == '{' || first == '[') {
    std::size_t depth = 0;
    while (pos < text.size()) {
      const char c = text[pos];
      if (c == '"') {
        pos = string_end(text, pos);
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return pos + 1;
      }
      ++pos;
    }
    return pos;
  }
  // A number or a literal: it ends where the enclosing structure goes on.
  while (pos < text.size() && !is_json_space(text[pos]) && text[pos] != ',' && text[pos] != '}' &&
         text[pos] != ']') {
    ++pos;
  }
  return pos;
}

char unescaped(char escape) {
  switch (escape) {
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    default:
      return escape;  // '"', '\\', '/'
  }
}

// Whether the content of a key literal (between its quotes, escapes not yet
// resolved) spells `name`, an ASCII member name: `"d\u0061ta"` is `data`, as
// for the parser.
bool key_equals(std::string_view key, std::string_view name) {
  std::size_t matched = 0;
  for (std::size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c == '\\' && i + 1 < key.size()) {
      const char escape = key[++i];
      if (escape == 'u') {
        unsigned code_point = 0;
        for (int k = 0; k < 4; ++k) {
          const int digit = i + 1 < key.size() ? hex_digit(key[++i]) : -1;
          if (digit < 0) {
            return false;
          }
          code_point = code_point * 16 + static_cast<unsigned>(digit);
        }
        if (code_point >= 0x80) {
          return false;  // no ASCII name holds it
        }
        c = static_cast<char>(code_point);
      } else {
        c = unescaped(escape);
      }
    }
    if (matched >= name.size() || name[matched] != c) {
      return false;
    }
    ++matched;
  }
  return matched == name.size();
}

}  // namespace

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

json::value parse(std::string_view text, json::storage_ptr storage, std::size_t max_depth,
                  json::error_code& ec) {
  json::parse_options options;
  options.max_depth = max_depth;
  return json::parse(text, ec, std::move(storage), options);
}

bool is_json(std::string_view text, std::size_t max_depth) {
  unsigned char arena[1024];
  json::monotonic_resource resource(arena, sizeof arena);
  json::error_code ec;
  parse(text, json::storage_ptr(&resource), max_depth, ec);
  return !ec;
}

// ---------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------

const json::value* member(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr || value->is_null()) {
    return nullptr;
  }
  return value;
}

bool read_string(const json::object& object, std::string_view name, std::string& out) {
  const json::value* value = member(object, name);
  if (value == nullptr) {
    return true;
  }
  const json::string* text = value->if_string();
  if (text == nullptr) {
    return false;
  }
  out.assign(text->data(), text->size());
  return true;
}

bool read_bool(const json::object& object, std::string_view name, bool& out) {
  const json::value* value = member(object, name);
  if (value == nullptr) {
    return true;
  }
  const bool* flag = value->if_bool();
  if (flag == nullptr) {
    return false;
  }
  out = *flag;
  return true;
}

bool read_object(const json::object& object, std::string_view name, const json::object*& out) {
  out = nullptr;
  const json::value* value = member(object, name);
  if (value == nullptr) {
    return true;
  }
  out = value->if_object();
  return out != nullptr;
}

bool read_position(const json::object& object, std::string_view name,
                   std::optional<stream_position>& out) {
  const json::object* fields = nullptr;
  if (!read_object(object, name, fields)) {
    return false;
  }
  if (fields == nullptr) {
    return true;
  }
  stream_position position;
  if (!read_integer(*fields, "offset", position.offset) ||
      !read_string(*fields, "epoch", position.epoch)) {
    return false;
  }
  out = std::move(position);
  return true;
}

bool read_history_members(const json::object& object, client_protocol::history_request& out) {
  return read_string(object, "channel", out.channel) && read_integer(object, "limit", out.limit) &&
         read_position(object, "since", out.since) && read_bool(object, "reverse", out.reverse);
}

// ---------------------------------------------------------------------------
// Raw JSON text
// ---------------------------------------------------------------------------

std::optional<std::string_view> raw_member(std::string_view text, std::string_view name) {
  std::size_t pos = skip_space(text, 0);
  if (pos >= text.size() || text[pos] != '{') {
    return std::nullopt;
  }
  std::optional<std::string_view> found;
  pos = skip_space(text, pos + 1);
  while (pos < text.size() && text[pos] == '"') {
    const std::size_t key_end = string_end(text, pos);
    const std::string_view key = text.substr(pos + 1, key_end - pos - 2);
    pos = skip_space(text, skip_space(text, key_end) + 1);  // past ':'
    const std::size_t end = value_end(text, pos);
    if (key_equals(key, name)) {
      found = text.substr(pos, end - pos);
    }
    pos = skip_space(text, end);
    if (pos < text.size() && text[pos] == ',') {
      pos = skip_space(text, pos + 1);
    }
  }
  return found;
}

std::string compact(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const char c = text[pos];
    if (c == '"') {
      const std::size_t end = string_end(text, pos);
      out.append(text.substr(pos, end - pos));
      pos = end;
      continue;
    }
    if (!is_json_space(c)) {
      out.push_back(c);
    }
    ++pos;
  }
  return out;
}

std::string compact_member(std::string_view object_text, std::string_view name) {
  return compact(raw_member(object_text, name).value_or(std::string_view()));
}

void read_raw(const json::object& object, std::string_view object_text, std::string_view name,
              std::string& out) {
  if (member(object, name) != nullptr) {
    out = compact_member(object_text, name);
  }
}

}  // namespace herald::core::json_reading
