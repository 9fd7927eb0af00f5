// per_thread_counter: what threads add on their own slots, on shared slots
// and on the default slot all shows in the sum (the /metrics byte counters).
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "per_thread_counter.hpp"

using herald::net::per_thread_counter;

namespace {

// Runs `threads` threads, thread t bound to slot `slot_of(t)`, each adding
// 1..adds to every counter.
template <class SlotOf>
void add_from_threads(std::vector<per_thread_counter*> counters, int threads, int adds,
                      SlotOf slot_of) {
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&counters, adds, slot = slot_of(t)] {
      per_thread_counter::bind_this_thread(slot);
      for (int i = 1; i <= adds; ++i) {
        for (per_thread_counter* counter : counters) {
          counter->add(static_cast<std::uint64_t>(i));
        }
      }
    });
  }
  for (std::thread& thread : running) {
    thread.join();
  }
}

constexpr std::uint64_t sum_to(int n) {
  return static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(n + 1) / 2;
}

}  // namespace

TEST_CASE("per_thread_counter starts at zero and counts an unbound thread in slot 0") {
  per_thread_counter counter;
  CHECK(counter.load() == 0);
  counter.add(5);
  counter.add(7);
  CHECK(counter.load() == 12);
}

TEST_CASE("per_thread_counter sums what threads on their own slots add") {
  per_thread_counter written;
  per_thread_counter read;
  add_from_threads({&written, &read}, 4, 10'000, [](int t) { return std::size_t(t) + 1; });
  CHECK(written.load() == 4 * sum_to(10'000));
  CHECK(read.load() == 4 * sum_to(10'000));
}

TEST_CASE("per_thread_counter loses nothing when threads share a slot") {
  // More I/O threads than slots wrap around: slot 1 and slot 1 + slot_count
  // are the same line, and its adds must still all count.
  per_thread_counter counter;
  add_from_threads({&counter}, 4, 20'000, [](int t) {
    return std::size_t(1) + std::size_t(t % 2) * per_thread_counter::slot_count;
  });
  CHECK(counter.load() == 4 * sum_to(20'000));
}
