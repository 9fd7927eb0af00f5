#pragma once

// Structured log lines on stderr: a message and key/value fields, in the
// text or the JSON line format (line_format.hpp), at four levels.
//
//   herald::log::warn("upgrade refused", {{"cause", "origin"}, {"peer", address}});
//
// Lines a client can cause go through a line_limit (rate_limit.hpp), so that
// a flood of bad input cannot flood the log:
//
//   static herald::log::line_limit bad_tokens;
//   herald::log::warn(bad_tokens, "token rejected", {{"reason", "invalid"}});
//
// The level is checked before anything is formatted, inline; a call whose
// level is off costs a relaxed atomic load (and whatever its arguments cost
// to build: guard expensive ones with enabled()). Thread-safe: lines come
// from the I/O threads, the actors and the Redis thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace herald::log {

enum class level : int { debug = 0, info = 1, warn = 2, error = 3 };
enum class format { text, json };

std::string_view name_of(level l);
std::optional<level> parse_level(std::string_view text);    // error, warn, info, debug
std::optional<format> parse_format(std::string_view text);  // text, json

// A field's value: text (escaped by the line format), a number or a flag.
// Text is viewed, not copied: it must outlive the call that logs it, as a
// temporary in the call's arguments does.
class value {
 public:
  enum class kind { text, signed_integer, unsigned_integer, real, flag };

  value(std::string_view text) : kind_(kind::text), text_(text) {}
  value(const std::string& text) : kind_(kind::text), text_(text) {}
  value(const char* text) : kind_(kind::text), text_(text) {}
  value(bool flag) : kind_(kind::flag), flag_(flag) {}
  value(double real) : kind_(kind::real), real_(real) {}
  template <class Integer,
            std::enable_if_t<std::is_integral_v<Integer> && !std::is_same_v<Integer, bool> &&
                                 !std::is_same_v<Integer, char>,
                             int> = 0>
  value(Integer number) {
    if constexpr (std::is_signed_v<Integer>) {
      kind_ = kind::signed_integer;
      signed_ = number;
    } else {
      kind_ = kind::unsigned_integer;
      unsigned_ = number;
    }
  }

  kind what() const { return kind_; }
  std::string_view text() const { return text_; }
  std::int64_t signed_integer() const { return signed_; }
  std::uint64_t unsigned_integer() const { return unsigned_; }
  double real() const { return real_; }
  bool flag() const { return flag_; }

 private:
  kind kind_ = kind::text;
  std::string_view text_;
  union {
    std::int64_t signed_ = 0;
    std::uint64_t unsigned_;
    double real_;
    bool flag_;
  };
};

// One structured field. `time`, `level` and `msg` are the line's own keys:
// fields do not use them.
struct field {
  std::string_view key;
  value val;
};

// The fields of one line, viewed (the functions below take them as a
// braced list, or a vector for fields made at run time).
class field_list {
 public:
  field_list() = default;
  field_list(const field* first, const field* last) : begin_(first), end_(last) {}
  field_list(const std::vector<field>& fields)
      : begin_(fields.data()), end_(fields.data() + fields.size()) {}

  const field* begin() const { return begin_; }
  const field* end() const { return end_; }
  bool empty() const { return begin_ == end_; }

 private:
  const field* begin_ = nullptr;
  const field* end_ = nullptr;
};

struct options {
  level minimum = level::info;
  format line_format = format::text;
};

// Sets the level and format of every later line, written to stderr. Until
// it is called: info and text. Call it before the threads that log start.
void configure(const options& chosen);

class line_limit;

namespace detail {
extern std::atomic<int> minimum_level;
void emit(level l, std::string_view msg, field_list fields);
void emit_limited(level l, line_limit& limit, std::string_view msg, field_list fields);
}  // namespace detail

// Whether lines of level `l` are written: for arguments that cost
// something to build.
inline bool enabled(level l) {
  return static_cast<int>(l) >= detail::minimum_level.load(std::memory_order_relaxed);
}

using fields = std::initializer_list<field>;

inline void write(level l, std::string_view msg, fields list = {}) {
  if (enabled(l)) {
    detail::emit(l, msg, field_list{list.begin(), list.end()});
  }
}

// Fields made at run time (the start line's settings).
inline void write(level l, std::string_view msg, const std::vector<field>& list) {
  if (enabled(l)) {
    detail::emit(l, msg, field_list{list});
  }
}

// A line a client can cause: dropped (and counted) past `limit`'s rate.
inline void write(level l, line_limit& limit, std::string_view msg, fields list = {}) {
  if (enabled(l)) {
    detail::emit_limited(l, limit, msg, field_list{list.begin(), list.end()});
  }
}

inline void error(std::string_view msg, fields list = {}) {
  write(level::error, msg, list);
}
inline void warn(std::string_view msg, fields list = {}) {
  write(level::warn, msg, list);
}
inline void info(std::string_view msg, fields list = {}) {
  write(level::info, msg, list);
}
inline void debug(std::string_view msg, fields list = {}) {
  write(level::debug, msg, list);
}
inline void warn(line_limit& limit, std::string_view msg, fields list = {}) {
  write(level::warn, limit, msg, list);
}
inline void info(line_limit& limit, std::string_view msg, fields list = {}) {
  write(level::info, limit, msg, list);
}
inline void debug(line_limit& limit, std::string_view msg, fields list = {}) {
  write(level::debug, limit, msg, list);
}

// Lines every line_limit dropped since the process started (for /metrics:
// herald_log_lines_dropped_total).
std::uint64_t lines_dropped();

}  // namespace herald::log
