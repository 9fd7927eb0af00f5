#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "herald/actors/session_sink.hpp"
#include "herald/core/client_requests.hpp"
#include "herald/core/websocket_frame.hpp"

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

// Counts pushes over every recording_sink, so that a test can tell which
// session a round reached first.
inline std::uint64_t next_push_number() {
  static std::uint64_t pushes = 0;
  return ++pushes;
}

// A session stand-in that records what its connection actor delivers, each
// kind on its own.
struct recording_sink : actors::session_sink {
  void deliver(actors::delivery&& item, std::shared_ptr<session_sink>&& /*holder*/) override {
    std::lock_guard lock{mutex};
    std::visit([this](auto& kind) { record(kind); }, item);
  }
  actors::delivery_route* route() noexcept override { return via; }
  // What `via` hands this sink of a group's pushes.
  void take_pushes(actors::channel_pushes pushes) {
    std::lock_guard lock{mutex};
    record(pushes);
  }

  // Forgets what was recorded.
  void clear() {
    std::lock_guard lock{mutex};
    frames.clear();
    pointers.clear();
    batches.clear();
    push_numbers.clear();
    held_rounds.clear();
    replies.clear();
    outcomes.clear();
    unsubscribed.clear();
    disconnects.clear();
  }

  // The frames of pushes and replies, in the order they came.
  std::vector<std::string> received() {
    std::lock_guard lock{mutex};
    return frames;
  }

  std::mutex mutex;
  std::vector<std::string> frames;
  std::vector<core::frame_ptr> pointers;
  std::vector<core::frame_batch_ptr> batches;  // of pushes only
  std::vector<std::uint64_t> push_numbers;     // each push's next_push_number()
  bool hold_rounds = false;                    // keep the round tickets until the test lets go
  std::vector<actors::round_ticket_ptr> held_rounds;
  std::vector<actors::command_reply::answering> replies;  // what each reply answered
  std::vector<actors::subscription_outcome> outcomes;     // the subscriptions replies settled
  std::vector<actors::server_unsubscribe> unsubscribed;
  std::vector<actors::server_disconnect> disconnects;
  actors::delivery_route* via = nullptr;  // the route it gives, if any

 private:
  void record_frames(const core::frame_batch& batch) {
    for (const auto& frame : batch.frames) {
      frames.push_back(*frame);
      pointers.push_back(frame);
    }
  }
  void record(actors::channel_pushes& pushes) {
    if (hold_rounds && pushes.round) {
      held_rounds.push_back(std::move(pushes.round));  // a session still writing
    }
    batches.push_back(pushes.frames);
    push_numbers.push_back(next_push_number());
    record_frames(*pushes.frames);
  }
  void record(actors::command_reply& reply) {
    replies.push_back(reply.what);
    outcomes.insert(outcomes.end(), reply.subscriptions.begin(), reply.subscriptions.end());
    if (reply.frames) {
      record_frames(*reply.frames);
    }
    if (reply.render) {
      std::string text;  // as a session would
      reply.render.append(text);
      record_frames(*core::make_text_batch(text));
    }
  }
  void record(actors::server_unsubscribe& unsubscribe) {
    unsubscribed.push_back(std::move(unsubscribe));
  }
  void record(actors::server_disconnect& disconnect) {
    disconnects.push_back(std::move(disconnect));
  }
};

// A route (an I/O thread's, in a server) that records each group it is
// handed, then gives every sink in it the pushes, as the thread would.
struct recording_route : actors::delivery_route {
  struct group {
    core::frame_batch_ptr frames;
    bool with_round = false;
    std::vector<const actors::session_sink*> sessions;
  };
  void hand_pushes(const actors::channel_pushes& pushes,
                   std::vector<std::shared_ptr<actors::session_sink>>&& sessions) override {
    group handed{pushes.frames, pushes.round != nullptr, {}};
    for (const auto& session : sessions) {
      handed.sessions.push_back(session.get());
      // Only recording_sinks give this route.
      static_cast<recording_sink&>(*session).take_pushes(pushes);
    }
    groups.push_back(std::move(handed));
  }
  std::vector<group> groups;
};

// A client's subscribe with command id `id`, asking for nothing; the
// generation is the id, so that tests can tell joins apart.
inline core::subscription_request subscribe_request(std::uint32_t id) {
  core::subscription_request request;
  request.id = id;
  request.generation = id;
  return request;
}

// A subscribe that asks for the stream's position (recoverable), with
// nothing to recover yet.
inline core::subscription_request positioned_subscribe(std::uint32_t id) {
  core::subscription_request request = subscribe_request(id);
  request.ask.recoverable = true;
  return request;
}

// A subscribe that asks for recovery from `offset` of `epoch`.
inline core::subscription_request recovering_subscribe(std::uint32_t id, std::uint64_t offset,
                                                       std::string epoch) {
  core::subscription_request request = positioned_subscribe(id);
  request.from = core::recovery_point{true, offset, std::move(epoch)};
  return request;
}

}  // namespace herald::test
