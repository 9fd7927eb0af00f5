#include "payload.hpp"

#include <charconv>

namespace herald::bench {

void append_payload(std::string& out, const publication_stamp& stamp, std::size_t size,
                    payload_filler filler) {
  std::size_t start = out.size();
  // 20 digits hold any 64-bit value.
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, stamp.publisher).ptr);
  out += ' ';
  out.append(digits, std::to_chars(digits, digits + sizeof digits, stamp.seq).ptr);
  out += ' ';
  out.append(digits, std::to_chars(digits, digits + sizeof digits, stamp.sent_ns).ptr);
  std::size_t stamp_bytes = out.size() - start;
  if (size > stamp_bytes) {
    // Publisher and seq both: two publishers' n-th messages differ too.
    std::uint64_t seed = (std::uint64_t{stamp.publisher} << 40) ^ stamp.seq;
    append_filler(out, size - stamp_bytes, filler, seed);
  }
}

bool parse_payload(std::string_view text, publication_stamp& stamp) {
  const char* p = text.data();
  const char* end = text.data() + text.size();
  auto publisher = std::from_chars(p, end, stamp.publisher);
  if (publisher.ec != std::errc() || publisher.ptr == end || *publisher.ptr != ' ') {
    return false;
  }
  auto seq = std::from_chars(publisher.ptr + 1, end, stamp.seq);
  if (seq.ec != std::errc() || seq.ptr == end || *seq.ptr != ' ') {
    return false;
  }
  auto sent = std::from_chars(seq.ptr + 1, end, stamp.sent_ns);
  return sent.ec == std::errc();
}

}  // namespace herald::bench
