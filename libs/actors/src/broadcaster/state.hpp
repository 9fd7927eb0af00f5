#pragma once

// The broadcaster's state, private to its translation units. The behaviour
// (broadcaster.cpp) routes each message to the part that owns the concept:
//  - fanout: publications and the rounds that carry them to subscribers;
//  - subscriptions: who is subscribed where, decided by core::channel_policy;
//  - presence: connected clients, presence and join/leave pushes;
//  - history: streams, recovery and history reads;
//  - server_api: the HTTP API's methods over all of the above.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>
#include <caf/actor_cast.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "engine.hpp"
#include "herald/actors/broadcast_counters.hpp"
#include "herald/actors/messages.hpp"
#include "herald/actors/session_sink.hpp"
#include "herald/core/channel_history.hpp"
#include "herald/core/channel_policy.hpp"
#include "herald/core/channel_registry.hpp"
#include "herald/core/client_requests.hpp"
#include "herald/core/engine_codec.hpp"
#include "herald/core/presence.hpp"

namespace herald::actors::broadcaster_parts {

// A subscribed connection and the protocol it speaks: a /ws session gets a
// publication as its data in a frame of its own; a client-protocol session
// gets pushes. Equality and hash look at the actor only, so the down handler
// can remove a connection without knowing the rest.
struct subscriber {
  connection_actor actor;
  bool client_protocol = false;
  bool join_leave_pushes = false;  // gets the channel's join/leave pushes
  std::uint32_t generation = 0;    // the session's join that made it
  bool positioned = false;         // follows the stream's offsets: told when it cannot
  bool server_side = false;        // from the connect token, not a subscribe command
};

inline bool operator==(const subscriber& a, const subscriber& b) {
  return a.actor == b.actor;
}

struct actor_hash {
  std::size_t operator()(const connection_actor& actor) const noexcept {
    return std::hash<const void*>{}(caf::actor_cast<caf::actor_control_block*>(actor));
  }
};

struct subscriber_hash {
  std::size_t operator()(const subscriber& entry) const noexcept {
    return actor_hash{}(entry.actor);
  }
};

// A publication not yet forwarded, with its offset in the channel's history
// (0 when the channel keeps none).
struct pending_publication {
  core::publication_ptr publication;
  std::uint64_t offset = 0;
};

// A client's join or leave not yet pushed to the channel's subscribers that
// take such pushes.
struct presence_change {
  bool join = true;  // else a leave
  std::string client_id;
  core::client_info info;
  bool cancelled = false;  // a join whose leave came in the same round
};

// A channel's news of one round, in arrival order: publications, and joins
// and leaves for the subscribers that take join/leave pushes.
struct pending_channel {
  std::string channel;
  std::vector<std::variant<pending_publication, presence_change>> events;
  std::size_t publications = 0;  // how many of the events are
  std::size_t presence_changes = 0;
  // The joins of this round not cancelled yet, by client: a leave of the
  // same client cancels its join, and nobody hears of either.
  std::unordered_map<std::string, std::size_t> joins;  // client id -> slot in events
  // Subscribers that joined the channel during the round, and the first
  // event they get: what came before they joined is not theirs (a
  // recovering one has it in its subscribe reply already).
  std::unordered_map<connection_actor, std::size_t, actor_hash> joined_at;
};

// A publisher's publications in the round being gathered: acknowledged to
// it, with the client protocol's publish replies, when the round goes out.
struct pending_ack {
  connection_actor publisher;
  std::uint32_t count = 0;
  std::uint64_t bytes = 0;  // of the publications' data
  std::string replies;      // client protocol: `{"id":N,"publish":{}}` lines
};

// A channel's pushes in a round, for the subscribers whose sessions share
// a route and get the same frames: handed over in one go.
struct pushes_group {
  delivery_route* route = nullptr;
  core::frame_batch_ptr frames;
  std::vector<std::shared_ptr<session_sink>> sessions;
};

// The publications of the round being gathered, and the rounds in flight.
struct round_state {
  std::vector<pending_channel> pending;
  std::unordered_map<std::string, std::size_t> pending_index;  // channel -> slot in pending
  std::vector<pending_ack> acks;
  // -> slot in acks; also the round's publishers, which flush_pending
  // reads to write them last and clears once the round's pushes are out.
  // Read once per subscriber of a round's channels: flat, as `sessions`.
  boost::unordered_flat_map<connection_actor, std::size_t, actor_hash> ack_index;
  bool flush_scheduled = false;
  // Rounds sent whose deliveries are not all written yet (round_ticket): a
  // flush_atom sends the pending publications only when fewer than
  // max_in_flight are.
  unsigned in_flight = 0;
  unsigned max_in_flight = 1;
  std::uint64_t sent = 0;  // rounds started, for /metrics
  // flush_pending's list of a channel's subscribers that published in the
  // round, kept for its capacity.
  std::vector<const subscriber*> publishers_last;
  // flush_pending's groups of the channel it is sending (gather_pushes),
  // kept for their capacity.
  std::vector<pushes_group> groups;
};

// A subscription being set up: its channel's publications are watched and
// its stream position asked for. What the channel receives meanwhile is
// kept, and given to it after its reply: the pushes that follow the
// position in the reply, without a gap or an overlap.
struct join_attempt {
  std::string channel;
  connection_actor actor;
  core::subscription_decision decision;
  core::recovery_point from;
  bool refuse_unrecovered = false;
  std::uint32_t generation = 0;
  std::string chan_info;
  bool server_side = false;
  std::vector<pending_publication> received;
  bool cancelled = false;    // the connection went away meanwhile
  bool left = false;         // the client unsubscribed meanwhile: answered, not registered
  bool interrupted = false;  // the engine may have missed publications meanwhile
};

using join_attempt_ptr = std::shared_ptr<join_attempt>;

// The server API's channels, asked of every node: the answers so far.
struct channels_survey_state {
  std::function<void(std::string body)> answer;
  std::unordered_set<std::string> waiting_for;              // node uids, this one included
  std::unordered_map<std::string, std::uint64_t> channels;  // name -> subscribers
  std::chrono::steady_clock::time_point started;
};

// What another node said of itself last (the server API's info).
struct known_node {
  core::node_announcement announcement;
  std::chrono::steady_clock::time_point seen;
};

// Client-protocol connections: from their spawn (announce_atom), so that
// shutdown reaches them, with an identity once their connect succeeded; and
// the connected ones by user, for the server API's unsubscribe and
// disconnect and for info.
struct client_directory {
  std::unordered_map<connection_actor, core::client_identity, actor_hash> clients;
  std::unordered_map<std::string, std::unordered_set<connection_actor, actor_hash>> by_user;
};

struct broadcaster_state {
  core::channel_policy policy;
  core::channel_registry<subscriber, subscriber_hash> registry;
  round_state rounds;
  // Where channels' streams and presence live (engine.hpp); set at spawn.
  std::unique_ptr<channel_engine> engine;
  // Subscriptions being set up, by channel.
  std::unordered_map<std::string, std::vector<join_attempt_ptr>> joining;
  client_directory directory;
  // Every connection's session, from its subscribe_atom or announce_atom
  // until its actor is down: deliveries go to it directly (send_delivery).
  // Looked up once per delivery: an open-addressing table keeps each
  // lookup to one probe of a flat array instead of a walk to a heap node.
  boost::unordered_flat_map<connection_actor, std::weak_ptr<session_sink>, actor_hash> sessions;
  std::unordered_map<std::string, known_node> nodes;  // by uid; this node not among them
  std::unordered_map<std::string, channels_survey_state> surveys;  // by survey id
  std::uint64_t surveys_started = 0;
  std::string node_name = "herald";
  unsigned ticks = 0;  // of the one-second sweep
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::string node_id = core::make_epoch();  // the server API's node uid
  std::uint64_t publications = 0;
  std::uint64_t deliveries = 0;
  std::shared_ptr<broadcast_counters> counters;  // the figures, for other threads
  static inline const char* name = "herald.broadcaster";
};

using broadcaster_pointer = broadcaster_actor::stateful_pointer<broadcaster_state>;

inline std::chrono::steady_clock::time_point now() {
  return std::chrono::steady_clock::now();
}

}  // namespace herald::actors::broadcaster_parts
