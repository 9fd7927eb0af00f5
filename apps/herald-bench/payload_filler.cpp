#include "payload_filler.hpp"

#include <array>
#include <charconv>

namespace herald::bench {

namespace {

// splitmix64: a few instructions per number, and any seed (0 included)
// starts a full-quality sequence, so consecutive sequence numbers give
// unrelated records.
class record_random {
 public:
  explicit record_random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Below `bound` (small bounds only: the modulo bias does not matter here).
  std::uint32_t below(std::uint32_t bound) { return static_cast<std::uint32_t>(next() % bound); }

 private:
  std::uint64_t state_;
};

// A price is an integer count of its last digit: EURUSD's 1.08423 is 108423
// with 5 decimals.
struct instrument {
  std::string_view symbol;
  std::uint32_t mid;
  int decimals;
};

constexpr std::array<instrument, 9> instruments{{
    {"EURUSD", 108423, 5},
    {"GBPUSD", 126710, 5},
    {"USDJPY", 157423, 3},
    {"AUDUSD", 65812, 5},
    {"USDCHF", 88214, 5},
    {"EURGBP", 85567, 5},
    {"USDCAD", 136940, 5},
    {"NZDUSD", 59873, 5},
    {"XAUUSD", 232415, 2},
}};

constexpr std::array<std::string_view, 6> venues{"LMAX",    "EBS",      "CBOE",
                                                 "HOTSPOT", "CURRENEX", "FXALL"};

void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

// 108423 with 5 decimals -> "1.08423".
void append_price(std::string& out, std::uint32_t units, int decimals) {
  std::uint32_t scale = 1;
  for (int i = 0; i < decimals; ++i) {
    scale *= 10;
  }
  append_number(out, units / scale);
  out += '.';
  std::uint32_t fraction = units % scale;
  for (std::uint32_t digit = scale / 10; digit > 0; digit /= 10) {
    out += static_cast<char>('0' + fraction / digit % 10);
  }
}

// " sym=EURUSD bid=1.08423 ask=1.08441 size=1200000 venue=LMAX;": the shape
// of a quote feed's records, whose names, symbols and leading digits repeat
// (what deflate finds) while the last digits vary (what it cannot).
void append_record(std::string& out, record_random& random) {
  const instrument& quoted = instruments[random.below(instruments.size())];
  std::uint32_t bid = quoted.mid - 500 + random.below(1000);
  std::uint32_t ask = bid + 1 + random.below(30);
  out.append(" sym=").append(quoted.symbol);
  out.append(" bid=");
  append_price(out, bid, quoted.decimals);
  out.append(" ask=");
  append_price(out, ask, quoted.decimals);
  out.append(" size=");
  append_number(out, std::uint64_t{1 + random.below(50)} * 100'000);
  out.append(" venue=").append(venues[random.below(venues.size())]);
  out += ';';
}

}  // namespace

bool parse_filler(std::string_view name, payload_filler& filler) {
  if (name == "x") {
    filler = payload_filler::x;
    return true;
  }
  if (name == "ticker") {
    filler = payload_filler::ticker;
    return true;
  }
  return false;
}

std::string_view filler_name(payload_filler filler) {
  return filler == payload_filler::ticker ? "ticker" : "x";
}

void append_filler(std::string& out, std::size_t bytes, payload_filler filler, std::uint64_t seed) {
  if (filler == payload_filler::x) {
    out.append(bytes, 'x');
    return;
  }
  // Whole records, then the last one cut at the size asked for. Each starts
  // with a space, which also parts the first from the stamp's last number.
  std::size_t end = out.size() + bytes;
  record_random random(seed);
  while (out.size() < end) {
    append_record(out, random);
  }
  out.resize(end);
}

}  // namespace herald::bench
