#pragma once

// The server HTTP API's methods, run inside the broadcaster: it owns the
// channels, history and presence they read and change, so every method sees
// one consistent state and needs no lock.

#include "herald/actors/api_call.hpp"
#include "state.hpp"

namespace herald::actors::broadcaster_parts {

// Answers every command of `call` in order, one response body per line,
// and hands the whole to its reply callback once the last is answered.
void run_api_call(broadcaster_pointer self, api_call& call);

// What this node is now, for info and its announcements.
core::node_announcement describe_node(broadcaster_pointer self);

// A control message from the engine: another node's announcement, or the
// server API's unsubscribe or disconnect, carried out for this node's
// connections.
void carry_out(broadcaster_pointer self, core::control_message&& message);

// Forgets the nodes that stopped announcing themselves, and ends the
// channels surveys they did not answer.
void forget_silent_nodes(broadcaster_pointer self);

}  // namespace herald::actors::broadcaster_parts
