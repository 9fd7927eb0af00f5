#include "herald/core/channel_history.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <random>

namespace herald::core {

std::string make_epoch() {
  std::random_device device;
  char text[9];
  std::snprintf(text, sizeof text, "%08x", static_cast<unsigned>(device() & 0xffffffffu));
  return text;
}

namespace history_detail {

namespace {

std::size_t cap(std::uint64_t available, std::size_t limit) {
  return static_cast<std::size_t>(std::min<std::uint64_t>(available, limit));
}

}  // namespace

offset_range plan_history(std::uint64_t top, std::size_t retained,
                          std::optional<std::uint64_t> since_offset, std::int64_t limit,
                          bool reverse) {
  if (limit == 0 || retained == 0) {
    return {};
  }
  const std::size_t most =
      limit < 0 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(limit);
  const std::uint64_t oldest = top - retained + 1;
  if (!since_offset) {
    if (reverse) {
      return {top, cap(retained, most), true};
    }
    return {oldest, cap(retained, most), false};
  }
  const std::uint64_t since = *since_offset;
  if (!reverse) {
    // Nothing after the top; a gap before the oldest retained publication is
    // skipped silently here (recovery is where a gap matters).
    if (since >= top) {
      return {};
    }
    const std::uint64_t start = std::max(since + 1, oldest);
    return {start, cap(top - start + 1, most), false};
  }
  // Downward from since - 1, which must still be retained.
  if (since == 0 || since - 1 > top || since - 1 < oldest) {
    return {};
  }
  const std::uint64_t start = since - 1;
  return {start, cap(start - oldest + 1, most), true};
}

std::optional<offset_range> plan_recovery(std::uint64_t top, std::size_t retained,
                                          std::uint64_t since_offset,
                                          std::size_t max_publications) {
  if (since_offset > top) {
    return std::nullopt;  // a position this stream never reached
  }
  const std::uint64_t missed = top - since_offset;
  if (missed == 0) {
    return offset_range{top + 1, 0, false};
  }
  // Every missed publication must still be there: since + 1 >= oldest.
  if (missed > retained) {
    return std::nullopt;
  }
  if (max_publications > 0 && missed > max_publications) {
    return std::nullopt;
  }
  return offset_range{since_offset + 1, static_cast<std::size_t>(missed), false};
}

time_point deadline_after(time_point now, std::chrono::seconds ttl) {
  const auto room = time_point::max() - now;
  if (ttl >= std::chrono::duration_cast<std::chrono::seconds>(room)) {
    return time_point::max();
  }
  return now + ttl;
}

std::string epoch_for_generation(const std::string& base, std::uint64_t generation) {
  if (generation == 0) {
    return base;
  }
  return base + "-" + std::to_string(generation);
}

}  // namespace history_detail

}  // namespace herald::core
