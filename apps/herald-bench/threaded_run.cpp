#include "threaded_run.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "protocol.hpp"
#include "run_coordination.hpp"

namespace herald::bench {

bench_results run_bench(const bench_options& options, const run_target& target) {
  auto subscribers = static_cast<std::size_t>(options.subscribers);
  // A thread without subscribers would only add a loop that waits.
  auto threads = static_cast<int>(std::clamp<std::size_t>(
      std::min(static_cast<std::size_t>(options.threads), subscribers), 1, 256));

  // One protocol per thread: a protocol object serves one loop's connections.
  std::vector<std::unique_ptr<bench_protocol>> protocols;
  for (int thread = 0; thread < threads; ++thread) {
    protocols.push_back(make_protocol(options));
  }
  std::unique_ptr<run_coordination> coordination;
  if (threads > 1) {
    coordination = std::make_unique<run_coordination>(threads - 1, protocols[0]->channel_count());
  }
  std::vector<std::unique_ptr<bench_runner>> runners;
  for (int thread = 0; thread < threads; ++thread) {
    auto t = static_cast<std::size_t>(thread);
    auto count = static_cast<std::size_t>(threads);
    runner_slice slice;
    slice.thread = thread;
    slice.first_subscriber = subscribers * t / count;
    slice.subscribers = subscribers * (t + 1) / count - slice.first_subscriber;
    runners.push_back(
        std::make_unique<bench_runner>(options, target, *protocols[t], slice, coordination.get()));
  }

  std::vector<std::exception_ptr> failures(static_cast<std::size_t>(threads));
  auto run_one = [&](int thread) {
    auto t = static_cast<std::size_t>(thread);
    try {
      runners[t]->run();
    } catch (...) {
      failures[t] = std::current_exception();
      if (coordination) {
        coordination->aborted.store(true);
      }
    }
  };
  std::vector<std::thread> followers;
  try {
    for (int thread = 1; thread < threads; ++thread) {
      followers.emplace_back(run_one, thread);
    }
  } catch (...) {
    // A thread that could not start: the ones running stop with the run.
    coordination->aborted.store(true);
    for (std::thread& follower : followers) {
      follower.join();
    }
    throw;
  }
  run_one(0);
  for (std::thread& follower : followers) {
    follower.join();
  }
  for (const std::exception_ptr& failure : failures) {
    if (failure) {
      std::rethrow_exception(failure);
    }
  }
  for (std::size_t follower = 1; follower < runners.size(); ++follower) {
    runners.front()->absorb(*runners[follower]);
  }
  return runners.front()->results();
}

}  // namespace herald::bench
