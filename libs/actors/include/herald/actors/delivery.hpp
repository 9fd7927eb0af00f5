#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "herald/actors/round_ticket.hpp"
#include "herald/core/frame.hpp"

// What the broadcaster, through a connection actor, hands a session: each
// kind is its own type, so a session never infers what a delivery is from
// its contents. Includes no CAF header: the transport receives these.
namespace herald::actors {

// Frames of a channel that go to every subscriber of it: a round's
// publications (for /ws one frame each; for the client protocol their pushes
// in one frame) or a join/leave push. A client-protocol session drops the
// pushes of a channel it no longer holds (frames->channel names it): the
// broadcaster sent them before it saw the client's unsubscribe.
struct channel_pushes {
  core::frame_batch_ptr frames;
  round_ticket_ptr round;  // a round's publications hold it until written; else null
};

// How the broadcaster settled one subscription the session asked for.
struct subscription_outcome {
  std::string channel;
  std::uint32_t generation = 0;  // the session's join it settles
  bool accepted = false;         // registered; otherwise refused and forgotten
};

// A reply's text, made later by the session that sends it. `bytes` is a
// lower bound of its size, known without making it: a session whose queue
// cannot take that much cuts the client as slow without spending the copy
// (300 recovered publications of 60 KB are 18 MB), and one that can
// reserves it, so the text is written once, not regrown.
struct deferred_text {
  std::function<void(std::string& out)> append;
  std::uint64_t bytes = 0;
  explicit operator bool() const { return static_cast<bool>(append); }
};

// The answer to requests the session sent on to the broadcaster: each
// request gets exactly one, so a session counts what it has in flight.
struct command_reply {
  enum class answering : std::uint8_t {
    subscribe,    // settles one subscription (`subscriptions` holds it)
    connect,      // the connect, and its server-side subscriptions (settles each)
    unsubscribe,  // a leave was applied (the client had its reply at once)
    publish,      // publications were applied: appended, and sent in a round
    query,        // presence, presence_stats or history: frees a query slot
  };
  answering what = answering::query;
  core::frame_batch_ptr frames;  // what the client is told; null when nothing
  // Or: the reply's text, made on the session's thread when it takes the
  // delivery (and not at all for a session already closing). Heavy replies
  // (recovered publications, history, presence) come this way: the
  // broadcaster hands out shared publications and presence snapshots and
  // encodes nothing on its one thread.
  deferred_text render;
  std::vector<subscription_outcome> subscriptions;
  // How many requests this answers: a round acknowledges all of one
  // publisher's publications in it with one reply.
  std::uint32_t count = 1;
  // publish: the bytes of the publications' data it acknowledges, as the
  // session counted them when it sent them on.
  std::uint64_t bytes = 0;
};

// The server ended a subscription (the server API's unsubscribe, or lost
// state); the session tells the client with an unsubscribe push.
struct server_unsubscribe {
  std::string channel;
  std::uint32_t generation = 0;  // the join it ends; a later one is kept
  // The server could not keep the subscription's stream exact (the
  // engine lost its Redis): code 2500, on which the client subscribes
  // again and recovers; else 2000, which ends it.
  bool insufficient_state = false;
};

// The server API disconnects the client with this code and reason.
struct server_disconnect {
  std::uint32_t code = 0;
  std::string reason;
};

using delivery = std::variant<channel_pushes, command_reply, server_unsubscribe, server_disconnect>;

}  // namespace herald::actors
