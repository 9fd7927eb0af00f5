#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "herald/actors/broadcast_counters.hpp"
#include "herald/actors/messages.hpp"
#include "herald/core/channel_history.hpp"
#include "herald/core/channel_options.hpp"
#include "herald/core/channel_registry.hpp"
#include "herald/core/client_requests.hpp"
#include "herald/core/presence.hpp"

namespace herald::actors {

// A subscribed connection and the protocol it speaks: a /ws session gets a
// publication as its data in a frame of its own; a client-protocol session
// gets pushes. Equality and hash look at the actor only, so the down handler
// can remove a connection without knowing its protocol.
struct subscriber {
  connection_actor actor;
  bool client_protocol = false;
  bool join_leave = false;       // gets join/leave pushes for this channel
  std::uint32_t generation = 0;  // the session's join that made it (join_request)
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

// A channel's publications not yet forwarded, in arrival order.
struct pending_channel {
  std::string channel;
  std::vector<pending_publication> publications;
};

struct broadcaster_state {
  core::channel_registry<subscriber, subscriber_hash> registry;
  std::vector<pending_channel> pending;
  std::unordered_map<std::string, std::size_t> pending_index;  // channel -> slot in pending
  bool flush_scheduled = false;
  // Rounds sent whose deliveries are not all written yet (round_ticket): a
  // flush_atom sends the pending publications only when none is.
  unsigned rounds_in_flight = 0;
  unsigned max_rounds_in_flight = 1;  // at least 1
  std::shared_ptr<const core::channel_namespaces> namespaces;
  // Per-channel history of the channels whose options keep one; the epoch
  // is new with every start, so a client's position from an earlier run is
  // never taken as recoverable.
  core::channel_history<core::publication_ptr> history{core::make_epoch()};
  // Who is in which channel, for channels with presence or join/leave.
  core::presence_registry presence;
  // Client-protocol connections (from their spawn, so that shutdown reaches
  // them; with an identity once their connect succeeded), and the
  // connected ones by user: presence reports them, the server API finds
  // them by user.
  std::unordered_map<connection_actor, core::client_identity, actor_hash> clients;
  std::unordered_map<std::string, std::unordered_set<connection_actor, actor_hash>> clients_by_user;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::string node_id = core::make_epoch();  // the server API's node uid
  broadcaster_stats stats;
  std::shared_ptr<broadcast_counters> published;  // stats, for other threads
  static inline const char* name = "herald.broadcaster";
};

using broadcaster_pointer = broadcaster_actor::stateful_pointer<broadcaster_state>;

// Spawn with `system.spawn(broadcaster, counters, namespaces, history_meta_ttl,
// max_rounds_in_flight)`. Monitors every subscriber and
// forgets it on its down message, so a connection that dies without saying
// goodbye never leaks a subscription.
//
// Publications are not forwarded one by one: the first of a round schedules a
// flush_atom to itself, which lands behind every publication already in the
// mailbox; the flush then sends each subscriber one message holding all of
// its channel's new frames: for /ws subscribers one frame per publication,
// for client-protocol subscribers one frame holding the round's pushes
// joined by newlines (built only if the channel has such subscribers). A
// round's deliveries share a round_ticket; while `max_rounds_in_flight`
// rounds are still being written, new publications wait and join the next
// round. Under load a message and a write carry many publications; at low
// rates a round holds one and adds no delay.
// Subscription changes flush first, so a subscriber gets exactly the
// publications that arrive after it joined.
broadcaster_actor::behavior_type broadcaster(
    broadcaster_pointer self, std::shared_ptr<broadcast_counters> counters,
    std::shared_ptr<const core::channel_namespaces> namespaces,
    std::chrono::seconds history_meta_ttl = std::chrono::seconds{0},
    unsigned max_rounds_in_flight = 1);

}  // namespace herald::actors
