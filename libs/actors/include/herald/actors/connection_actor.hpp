#pragma once

#include <memory>
#include <string>

#include <caf/typed_event_based_actor.hpp>

#include "herald/actors/messages.hpp"
#include "herald/actors/session_sink.hpp"

namespace herald::actors {

// Spawn with `system.spawn(connection, broadcaster, sink)`; whoever spawns
// it subscribes it (hub::connect does, before the client's handshake
// completes).
connection_actor::behavior_type connection(connection_actor::pointer self,
                                           broadcaster_actor broadcaster,
                                           std::weak_ptr<session_sink> sink);

}  // namespace herald::actors
