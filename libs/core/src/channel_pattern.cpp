#include "herald/core/channel_pattern.hpp"

#include <algorithm>

namespace herald::core {

namespace {

using opcode = channel_pattern::opcode;
using instruction = channel_pattern::instruction;
using char_class = channel_pattern::char_class;

constexpr char32_t replacement_rune = 0xFFFD;

// The UTF-8 code point at `pos`, which moves past it. An invalid sequence
// reads as U+FFFD one byte long, as Go's utf8.DecodeRuneInString.
char32_t next_rune(std::string_view text, std::size_t& pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) {
    ++pos;
    return lead;
  }
  std::size_t length = 0;
  char32_t rune = 0;
  char32_t smallest = 0;
  if ((lead & 0xe0) == 0xc0) {
    length = 2, rune = lead & 0x1f, smallest = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, rune = lead & 0x0f, smallest = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, rune = lead & 0x07, smallest = 0x10000;
  }
  if (length == 0 || pos + length > text.size()) {
    ++pos;
    return replacement_rune;
  }
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[pos + k]);
    if ((next & 0xc0) != 0x80) {
      ++pos;
      return replacement_rune;
    }
    rune = (rune << 6) | (next & 0x3f);
  }
  if (rune < smallest || rune > 0x10ffff || (rune >= 0xd800 && rune <= 0xdfff)) {
    ++pos;
    return replacement_rune;
  }
  pos += length;
  return rune;
}

// Pattern text -> a program for the matcher, following gobwas/glob's lexer
// and parser token for token (see channel_pattern in the header).
class pattern_compiler {
 public:
  explicit pattern_compiler(std::string_view pattern) : pattern_(pattern) {}

  // False when the pattern does not compile.
  bool run() {
    while (!at_end()) {
      const char32_t c = read();
      const bool in_group = !groups_.empty();
      if (c == '{') {
        open_group();
      } else if (c == ',' && in_group) {
        next_alternative();
      } else if (c == '}' && in_group) {
        close_group();
      } else if (c == '[') {
        if (!compile_class()) {
          return false;
        }
      } else if (c == '?') {
        emit(opcode::any_rune);
      } else if (c == '*') {
        // A run of stars matches what one does (without separators `**` is
        // `*` too): one star, so that a pattern of thousands of them costs
        // what `*` costs.
        while (!at_end() && peek() == '*') {
          read();
        }
        emit_star();
      } else if (c == '\\') {
        if (at_end()) {
          return false;  // trailing backslash
        }
        emit(opcode::rune, read());
      } else {
        emit(opcode::rune, c);
      }
    }
    if (!groups_.empty()) {
      return false;  // unclosed `{`
    }
    emit(opcode::match);
    return true;
  }

  std::vector<instruction> program;
  std::vector<char_class> classes;

 private:
  // An open `{..}`: the split before its current alternative and the jumps
  // that leave the finished ones.
  struct group {
    std::size_t split = 0;
    std::vector<std::size_t> exits;
  };

  bool at_end() const { return pos_ >= pattern_.size(); }

  char32_t read() { return next_rune(pattern_, pos_); }

  char32_t peek() const {
    std::size_t pos = pos_;
    return next_rune(pattern_, pos);
  }

  std::size_t emit(opcode op, std::uint32_t arg = 0, std::int32_t alternate = -1) {
    program.push_back(instruction{op, arg, alternate});
    return program.size() - 1;
  }

  std::uint32_t here() const { return static_cast<std::uint32_t>(program.size()); }

  // split(next, -) and, per later alternative, its own split: each
  // alternative is tried in parallel.
  void open_group() {
    const std::size_t split = emit(opcode::split, here() + 1);
    groups_.push_back(group{split, {}});
  }

  void next_alternative() {
    group& current = groups_.back();
    current.exits.push_back(emit(opcode::jump));
    program[current.split].alternate = static_cast<std::int32_t>(here());
    current.split = emit(opcode::split, here() + 1);
  }

  void close_group() {
    for (const std::size_t exit : groups_.back().exits) {
      program[exit].arg = here();
    }
    groups_.pop_back();
  }

  // loop: split(any, out); any: any_rune; jump loop; out:
  void emit_star() {
    const std::uint32_t loop = here();
    emit(opcode::split, loop + 1, static_cast<std::int32_t>(loop + 3));
    emit(opcode::any_rune);
    emit(opcode::jump, loop);
  }

  // After `[`: `!` first negates; then either `lo-hi` (raw characters, no
  // escapes) or a list of characters up to `]` (escapes resolved), as
  // gobwas's fetchRange; then `]`.
  bool compile_class() {
    char_class set;
    if (at_end()) {
      return false;
    }
    std::size_t first_pos = pos_;
    char32_t first = read();
    if (first == '!') {
      set.negated = true;
      if (at_end()) {
        return false;
      }
      first_pos = pos_;
      first = read();
    }
    if (!at_end() && peek() == '-') {
      read();
      if (at_end()) {
        return false;
      }
      set.is_range = true;
      set.low = first;
      set.high = read();
      if (set.high < set.low) {
        return false;
      }
    } else {
      pos_ = first_pos;
      while (!at_end()) {
        const std::size_t before = pos_;
        char32_t c = read();
        if (c == ']') {
          pos_ = before;
          break;
        }
        if (c == '\\') {
          if (at_end()) {
            return false;
          }
          c = read();
        }
        set.members.push_back(c);
      }
      if (set.members.empty()) {
        return false;  // `[]`, `[!]`
      }
    }
    if (at_end() || read() != ']') {
      return false;
    }
    classes.push_back(std::move(set));
    emit(opcode::char_class, static_cast<std::uint32_t>(classes.size() - 1));
    return true;
  }

  std::string_view pattern_;
  std::size_t pos_ = 0;
  std::vector<group> groups_;
};

bool in_class(const char_class& set, char32_t rune) {
  const bool inside = set.is_range ? set.low <= rune && rune <= set.high
                                   : set.members.find(rune) != std::u32string::npos;
  return inside != set.negated;
}

// Adds the threads reachable from `start` without reading a character
// (through splits and jumps), each program position once per step.
void add_threads(const std::vector<instruction>& program, std::uint32_t start,
                 std::vector<std::uint32_t>& threads, std::vector<std::size_t>& seen_at,
                 std::size_t step, std::vector<std::uint32_t>& pending) {
  pending.push_back(start);
  while (!pending.empty()) {
    const std::uint32_t pc = pending.back();
    pending.pop_back();
    if (seen_at[pc] == step) {
      continue;
    }
    seen_at[pc] = step;
    const instruction& ins = program[pc];
    if (ins.op == opcode::jump) {
      pending.push_back(ins.arg);
    } else if (ins.op == opcode::split) {
      if (ins.alternate >= 0) {
        pending.push_back(static_cast<std::uint32_t>(ins.alternate));
      }
      pending.push_back(ins.arg);
    } else {
      threads.push_back(pc);
    }
  }
}

}  // namespace

std::optional<channel_pattern> channel_pattern::compile(std::string_view pattern) {
  pattern_compiler compiler(pattern);
  if (!compiler.run()) {
    return std::nullopt;
  }
  return channel_pattern(std::move(compiler.program), std::move(compiler.classes));
}

bool channel_pattern::matches(std::string_view channel) const {
  // A Pike VM: every live thread advances on each character together, so
  // the time is the channel's length times the program's at worst.
  std::vector<std::uint32_t> current;
  std::vector<std::uint32_t> next;
  std::vector<std::uint32_t> pending;
  std::vector<std::size_t> seen_at(program_.size(), 0);
  std::size_t step = 1;
  add_threads(program_, 0, current, seen_at, step, pending);
  std::size_t pos = 0;
  while (pos < channel.size() && !current.empty()) {
    const char32_t rune = next_rune(channel, pos);
    ++step;
    next.clear();
    for (const std::uint32_t pc : current) {
      const instruction& ins = program_[pc];
      const bool consumed = (ins.op == opcode::rune && ins.arg == rune) ||
                            ins.op == opcode::any_rune ||
                            (ins.op == opcode::char_class && in_class(classes_[ins.arg], rune));
      if (consumed) {
        add_threads(program_, pc + 1, next, seen_at, step, pending);
      }
    }
    current.swap(next);
  }
  return pos == channel.size() &&
         std::any_of(current.begin(), current.end(),
                     [this](std::uint32_t pc) { return program_[pc].op == opcode::match; });
}

bool channel_matches(std::string_view pattern, std::string_view channel) {
  if (pattern.empty()) {
    return true;
  }
  const std::optional<channel_pattern> compiled = channel_pattern::compile(pattern);
  return compiled && compiled->matches(channel);
}

}  // namespace herald::core
