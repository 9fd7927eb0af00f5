#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "herald/actors/session_sink.hpp"
#include "herald/core/client_requests.hpp"

namespace herald::test {

// An actor system on CAF's deterministic test scheduler: nothing runs until
// the test calls run(), and then everything runs on the test's thread.
struct deterministic_system {
  deterministic_system() : system(configure(config)) {
    scheduler = &dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
  }

  // Runs every pending message to completion; returns how many ran.
  std::size_t run() { return scheduler->run(); }

  caf::actor_system_config config;
  caf::actor_system system;
  caf::scheduler::test_coordinator* scheduler;

 private:
  static caf::actor_system_config& configure(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    return cfg;
  }
};

// A session stand-in that records what its connection actor delivers.
struct recording_sink : actors::session_sink {
  void deliver(core::frame_batch_ptr batch, actors::round_ticket_ptr round) override {
    std::lock_guard lock{mutex};
    if (hold_rounds && round) {
      held_rounds.push_back(std::move(round));  // a session still writing
    }
    batches.push_back(batch);
    for (const auto& frame : batch->frames) {
      frames.push_back(*frame);
      pointers.push_back(frame);
    }
  }
  void server_unsubscribe(std::string channel, std::uint32_t generation, bool push) override {
    std::lock_guard lock{mutex};
    unsubscribed.emplace_back(std::move(channel), push);
    unsubscribed_generations.push_back(generation);
  }
  void server_disconnect(std::uint32_t code, std::string reason) override {
    std::lock_guard lock{mutex};
    disconnects.emplace_back(code, std::move(reason));
  }
  std::vector<std::string> received() {
    std::lock_guard lock{mutex};
    return frames;
  }
  std::mutex mutex;
  std::vector<std::string> frames;
  std::vector<core::frame_ptr> pointers;
  std::vector<core::frame_batch_ptr> batches;
  bool hold_rounds = false;  // keep the round tickets until the test lets go
  std::vector<actors::round_ticket_ptr> held_rounds;
  std::vector<std::pair<std::string, bool>> unsubscribed;
  std::vector<std::uint32_t> unsubscribed_generations;  // the kicked joins' generations
  std::vector<std::pair<std::uint32_t, std::string>> disconnects;
};

// A subscribe command's join request, optionally asking for recovery
// features.
inline core::join_request join_request_for(std::uint32_t id, bool recoverable = false) {
  core::join_request request;
  request.id = id;
  request.recoverable = recoverable;
  return request;
}

// A recoverable subscribe from a client that saw `offset` of `epoch`.
inline core::join_request recovering_join(std::uint32_t id, std::uint64_t offset,
                                          std::string epoch) {
  core::join_request request = join_request_for(id, true);
  request.recover = true;
  request.offset = offset;
  request.epoch = std::move(epoch);
  return request;
}

}  // namespace herald::test
