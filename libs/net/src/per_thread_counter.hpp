#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace herald::net {

// A count that the I/O threads add to on their hot path (bytes written per
// sendmsg, bytes read per read), kept in one cache line per thread and
// summed when read. With one shared atomic, every system call of every
// worker took that line from whichever core had it last: a cost that grows
// with the number of workers, paid millions of times a second under load.
//
// A thread adds to the slot it was bound to (the server binds I/O thread i
// to slot i + 1; any other thread adds to slot 0). Adds are atomic, so
// threads that share a slot lose nothing; readers see each slot's latest
// value, relaxed, as they did the single counter.
class per_thread_counter {
 public:
  static constexpr std::size_t slot_count = 64;

  void add(std::uint64_t amount) noexcept {
    slots_[bound_slot].value.fetch_add(amount, std::memory_order_relaxed);
  }

  std::uint64_t load() const noexcept {
    std::uint64_t sum = 0;
    for (const slot& each : slots_) {
      sum += each.value.load(std::memory_order_relaxed);
    }
    return sum;
  }

  // From now on the calling thread adds to slot `index` (modulo slot_count)
  // of every per_thread_counter.
  static void bind_this_thread(std::size_t index) noexcept { bound_slot = index % slot_count; }

 private:
  struct alignas(64) slot {
    std::atomic<std::uint64_t> value{0};
  };

  static inline thread_local std::size_t bound_slot = 0;
  std::array<slot, slot_count> slots_{};
};

}  // namespace herald::net
