#pragma once

// The server HTTP API's methods, run inside the broadcaster: it owns the
// channels, history and presence they read and change, so every method sees
// one consistent state and needs no lock.

#include "herald/actors/api_call.hpp"
#include "state.hpp"

namespace herald::actors::broadcaster_parts {

// Answers every command of `call` in order, one response body per line,
// and hands the whole to its reply callback.
void run_api_call(broadcaster_pointer self, api_call& call);

}  // namespace herald::actors::broadcaster_parts
