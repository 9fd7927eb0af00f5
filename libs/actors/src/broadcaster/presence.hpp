#pragma once

// Connected clients, presence and join/leave pushes. The client directory
// is their state here; presence itself is the engine's.

#include <functional>
#include <string>
#include <vector>

#include "herald/actors/delivery.hpp"
#include "herald/core/channel_policy.hpp"
#include "herald/core/client_requests.hpp"
#include "state.hpp"

namespace herald::actors::broadcaster_parts {

// A client-protocol connection spawned: known from now on, so that the
// close at shutdown reaches it even if it never connects. Monitored.
void announce(broadcaster_pointer self, const connection_actor& actor);

// Its connect succeeded: who it is (subscriptions.cpp's connect calls it).
void identify(broadcaster_pointer self, const connection_actor& actor,
              core::client_identity identity);

// Who asks, for the channel policy: an anonymous requester before connect
// (sessions send nothing else before it).
core::requester requester_of(broadcaster_pointer self, const connection_actor& actor);

// Whether the broadcaster monitors `actor` already (a subscriber or a
// client-protocol connection): it monitors each once.
bool is_known(broadcaster_pointer self, const connection_actor& actor);

// After `actor` joined `channel`: records its presence where the decision
// says the channel tracks it, and announces the join to the subscribers
// that take join/leave pushes.
void note_join(broadcaster_pointer self, const std::string& channel, const connection_actor& actor,
               const core::subscription_decision& decision, const std::string& chan_info);

// After `actor` left `channel`: the reverse, with a leave push.
void note_leave(broadcaster_pointer self, const std::string& channel,
                const connection_actor& actor);

// After `actor` is gone: leaves `channels` (those it was subscribed to) and
// forgets its identity.
void forget_client(broadcaster_pointer self, const connection_actor& actor,
                   const std::vector<std::string>& channels);

// The reply to a client's presence (made where it is called, from a
// snapshot of the channel's clients) or presence_stats command, or its
// error (100) as text.
struct presence_answer {
  std::string error;
  deferred_text render;
};
void answer_presence(broadcaster_pointer self, const std::string& channel,
                     const core::channel_query& query, std::function<void(presence_answer)> done);

}  // namespace herald::actors::broadcaster_parts
