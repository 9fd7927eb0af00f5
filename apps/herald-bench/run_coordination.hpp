#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace herald::bench {

// Which connections one thread of a run holds. The lead (thread 0) holds
// every publisher and runs the phases; each thread, the lead included, holds
// subscribers [first_subscriber, first_subscriber + subscribers) of the run.
struct runner_slice {
  int thread = 0;  // 0: the lead; k: follower k - 1
  std::size_t first_subscriber = 0;
  std::size_t subscribers = 0;
};

// What a follower thread publishes for the lead, refreshed once per turn of
// its event loop: relaxed counters, each thread's on its own cache line.
struct alignas(64) follower_tally {
  std::atomic<std::uint64_t> received_total{0};
  std::atomic<std::uint64_t> bytes_read{0};
  std::atomic<std::uint64_t> open{0};
  std::atomic<std::uint64_t> connections_ok{0};
  std::atomic<std::uint64_t> connections_failed{0};
};

// What the threads of a --threads run share. Phases are the lead's: a
// follower connects its slice, says so, then mirrors lead_phase. When it
// first sees the publishing phase it counts its ready subscribers per channel
// (the receivers each publication is expected to reach) before it reads any
// publication that could need them, and says so through receivers_counted.
class run_coordination {
 public:
  run_coordination(int followers, std::uint32_t channels)
      : still_connecting(followers),
        followers_(followers),
        tallies_(std::make_unique<follower_tally[]>(static_cast<std::size_t>(followers))),
        channel_receivers_(static_cast<std::size_t>(followers),
                           std::vector<std::uint64_t>(channels, 0)) {}

  int followers() const { return followers_; }
  follower_tally& tally(int follower) { return tallies_[static_cast<std::size_t>(follower)]; }
  const follower_tally& tally(int follower) const {
    return tallies_[static_cast<std::size_t>(follower)];
  }
  // Written by follower `follower` before it increments receivers_counted
  // (release); read by the lead after it has seen every follower counted
  // (acquire).
  std::vector<std::uint64_t>& channel_receivers(int follower) {
    return channel_receivers_[static_cast<std::size_t>(follower)];
  }
  const std::vector<std::uint64_t>& channel_receivers(int follower) const {
    return channel_receivers_[static_cast<std::size_t>(follower)];
  }

  // The lead's phase (bench_runner::phase as an int); -1 until the lead has
  // taken its samples before connecting, which the followers wait for.
  std::atomic<int> lead_phase{-1};
  // Followers that have not finished connecting their slice.
  std::atomic<int> still_connecting;
  // Followers that have counted their receivers.
  std::atomic<int> receivers_counted{0};
  // A follower's loop failed (its exception is rethrown once all have
  // stopped): the lead ends the run.
  std::atomic<bool> aborted{false};

 private:
  int followers_;
  std::unique_ptr<follower_tally[]> tallies_;
  std::vector<std::vector<std::uint64_t>> channel_receivers_;
};

}  // namespace herald::bench
