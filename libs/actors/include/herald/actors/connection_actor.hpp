#pragma once

#include <memory>
#include <string>

#include <caf/typed_event_based_actor.hpp>

#include "herald/actors/messages.hpp"
#include "herald/actors/session_sink.hpp"

namespace herald::actors {

// Spawn with `system.spawn(connection, broadcaster, sink, channel)`: the
// actor subscribes to `channel` before it handles any message, so a client's
// own first publication already reaches it.
connection_actor::behavior_type connection(connection_actor::pointer self,
                                           broadcaster_actor broadcaster,
                                           std::weak_ptr<session_sink> sink,
                                           std::string channel);

}  // namespace herald::actors
