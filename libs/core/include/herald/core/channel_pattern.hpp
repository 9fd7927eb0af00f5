#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Glob patterns over channel names: the server API's `channels` method
// filters by one. Pure; its own fuzz slot in fuzz_server_api.
namespace herald::core {

// A gobwas/glob pattern compiled without separators, as Centrifugo's
// `channels` survey does: `*` and `**` match any run of characters, `?` one
// character, `[abc]` / `[a-z]` one of a set or range (`[!..]` negates;
// a class is either one range or a list), `{a,b*,c}` one of the
// alternatives (nestable), `\` escapes the next character. Characters are
// UTF-8 code points. What gobwas rejects fails to compile here: an empty
// or unclosed class, a range whose end is below its start, a trailing
// backslash; so does an unclosed `{` (gobwas compiles it into a matcher that
// panics). Matching runs in time linear in the channel (a Pike VM), whatever
// the pattern.
class channel_pattern {
 public:
  static std::optional<channel_pattern> compile(std::string_view pattern);

  bool matches(std::string_view channel) const;

  // The compiled program (public for the compiler; not an interface).
  enum class opcode : std::uint8_t { rune, any_rune, char_class, split, jump, match };

  struct instruction {
    opcode op;
    std::uint32_t arg = 0;        // the rune, the class's index, or a target
    std::int32_t alternate = -1;  // split's second target; -1: none
  };

  struct char_class {
    bool negated = false;
    bool is_range = false;
    char32_t low = 0;
    char32_t high = 0;
    std::u32string members;  // for a list
  };

 private:
  channel_pattern(std::vector<instruction> program, std::vector<char_class> classes)
      : program_(std::move(program)), classes_(std::move(classes)) {}

  std::vector<instruction> program_;
  std::vector<char_class> classes_;
};

// `pattern` "" matches every channel; a pattern that does not compile matches
// none. Compile once with channel_pattern to test many channels.
bool channel_matches(std::string_view pattern, std::string_view channel);

}  // namespace herald::core
