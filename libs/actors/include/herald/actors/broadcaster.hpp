#pragma once

#include "herald/actors/broadcaster_config.hpp"
#include "herald/actors/messages.hpp"

namespace caf {
class actor_system;
}  // namespace caf

namespace herald::actors {

// Spawns the broadcaster (see broadcaster_actor in messages.hpp). It
// monitors every subscriber and forgets it on its down message, so a
// connection that dies without saying goodbye never leaks a subscription or
// its presence.
//
// Publications are not forwarded one by one: the first of a round schedules
// a flush_atom to itself, which lands behind every publication already in
// the mailbox; the flush then sends each subscriber one delivery holding all
// of its channel's new frames: for /ws subscribers one frame per
// publication, for client-protocol subscribers one frame holding the round's
// pushes joined by newlines (built only if the channel has such
// subscribers). A round's deliveries share a round_ticket; while
// `max_rounds_in_flight` rounds are still being written, new publications
// wait and join the next round. Under load a delivery and a write carry many
// publications; at low rates a round holds one and adds no delay.
// Subscription changes flush first, so a subscriber gets exactly the
// publications that arrive after it joined.
broadcaster_actor spawn_broadcaster(caf::actor_system& system, broadcaster_config config);

}  // namespace herald::actors
