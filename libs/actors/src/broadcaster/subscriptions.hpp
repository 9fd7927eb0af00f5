#pragma once

// Who is subscribed where. A client's subscribe is decided here, once, by
// core::channel_policy against the broadcaster's state; its reply tells the
// session whether it holds the channel, so the session never holds one the
// broadcaster refused.

#include <string>
#include <vector>

#include "herald/core/client_requests.hpp"
#include "state.hpp"

namespace herald::actors::broadcaster_parts {

// A /ws session's subscription to its channel (trusted: the seed channel).
void add_seed_subscriber(broadcaster_pointer self, const std::string& channel,
                         const connection_actor& actor);

// A client's subscribe: refused (102, 103, 105, 109, 112, or a disconnect
// with 3500 for a token issued to someone else) or registered, and
// answered either way ahead of the channel's pushes.
void subscribe(broadcaster_pointer self, const std::string& channel, const connection_actor& actor,
               const core::subscription_request& request);

// A connect: the client's identity, then its server-side subscriptions
// (those the namespaces know), and the connect reply, whose `subs` carry
// their results.
void connect(broadcaster_pointer self, const connection_actor& actor,
             core::connect_request& request);

// A client's unsubscribe.
void unsubscribe(broadcaster_pointer self, const std::string& channel,
                 const connection_actor& actor);

// Ends `actor`'s subscription to `channel` from the server side: leave
// push, and the session is told (with insufficient state: so that the
// client subscribes again and recovers). Returns false if it was not
// subscribed.
bool unsubscribe_by_server(broadcaster_pointer self, const std::string& channel,
                           const connection_actor& actor, bool insufficient_state = false);

// The engine may have missed publications of `channels`: their positioned
// subscribers are told (unsubscribe 2500, or disconnect 3010 for
// server-side subscriptions), so that they recover from the history.
void interrupt_channels(broadcaster_pointer self, const std::vector<std::string>& channels);

// `actor` left `channel` (every channel when empty) while its subscription
// was being set up: the attempt is answered, but not registered.
void leave_attempts(broadcaster_pointer self, const std::string& channel,
                    const connection_actor& actor);

// No one here needs `channel` any more (no subscriber, none being set up):
// the engine stops watching it.
void release_channel(broadcaster_pointer self, const std::string& channel);

// `actor` is gone (its down message): out of every channel, and forgotten.
void remove_connection(broadcaster_pointer self, const connection_actor& actor);

// Whether `actor` is subscribed to `channel`.
bool is_subscribed(broadcaster_pointer self, const std::string& channel,
                   const connection_actor& actor);

}  // namespace herald::actors::broadcaster_parts
