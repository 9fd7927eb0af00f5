#pragma once

// Publications and the rounds that carry them to subscribers, and the
// deliveries the other parts send through the same path.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "herald/actors/delivery.hpp"
#include "herald/core/stream_position.hpp"
#include "state.hpp"

namespace herald::actors::broadcaster_parts {

// Publishes through the engine, with history where the channel keeps one
// (unless `skip_history`); `done` gets its position ({0, ""} without
// history), or nullopt when the engine could not take it. Every node's
// subscribers get it through receive_publication. Trusted: /ws clients and
// the server API.
void publish(broadcaster_pointer self, const std::string& channel,
             core::publication_ptr publication, bool skip_history,
             std::function<void(std::optional<core::stream_position>)> done);

// The engine's receiver: a publication for this node's subscribers of
// `channel`, queued for the round's fan-out, and kept for the
// subscriptions being set up on it.
void receive_publication(broadcaster_pointer self, const std::string& channel,
                         core::publication_ptr publication, std::uint64_t offset);

// Sends `subscriber` the publications of `channel` that its subscription
// received while being set up, those after `after_offset`, behind its
// reply.
void send_received(broadcaster_pointer self, const std::string& channel,
                   const subscriber& subscriber, const std::vector<pending_publication>& received,
                   std::uint64_t after_offset);

// A client's join or leave of `channel`, pushed with the round to the
// channel's subscribers that take join/leave pushes. A join and a leave of
// the same client in one round cancel out: a storm of subscribe and
// unsubscribe costs the other subscribers nothing.
void announce_presence(broadcaster_pointer self, const std::string& channel, bool join,
                       const std::string& client_id, const core::client_info& info);

// A /ws client's publication (trusted): published, and acknowledged to
// `publisher` when its round goes out.
void seed_publish(broadcaster_pointer self, const std::string& channel,
                  core::publication_ptr publication, const connection_actor& publisher);

// A client-protocol publish (command `id`): checked by the channel policy,
// then published; the reply goes back to `publisher` with its round, or at
// once when refused.
void client_publish(broadcaster_pointer self, const std::string& channel,
                    core::publication_ptr publication, const connection_actor& publisher,
                    std::uint32_t id);

// Acknowledges the round's publications to their publishers, then forwards
// every pending publication, join and leave to its channel's subscribers,
// as one round with its round_ticket. Only on_flush calls it, when fewer
// than the most rounds are being written: every round is gated, so a storm
// of subscriptions cannot pile deliveries up.
void flush_pending(broadcaster_pointer self);

// `subscriber` joined `channel` just now: it gets the channel's news from
// here on, not what is already pending in the round (a recovering one has
// that in its subscribe reply, from the history).
void note_joined_mid_round(broadcaster_pointer self, const std::string& channel,
                           const connection_actor& subscriber);

// The flush_atom a round's first publication sent: the round goes out
// unless the most rounds are still being written; then it joins the next,
// sent when one is done (on_round_done).
void on_flush(broadcaster_pointer self);
void on_round_done(broadcaster_pointer self);

// Hands `item` to `actor`'s session, behind what was sent to it before:
// straight to the session (attach_session), which passes it to its I/O
// thread; through the actor for one whose session the broadcaster was not
// given. Every delivery to a connection takes the same way, so they stay in
// order.
void send_delivery(broadcaster_pointer self, const connection_actor& actor, delivery item);

// `actor`'s session, known from its first message (subscribe_atom,
// announce_atom) until the actor is down (detach_session).
void attach_session(broadcaster_pointer self, const connection_actor& actor,
                    std::weak_ptr<session_sink> session);
void detach_session(broadcaster_pointer self, const connection_actor& actor);

// Sends `text` as one frame answering a command of `actor`'s session.
void send_reply(broadcaster_pointer self, const connection_actor& actor,
                command_reply::answering what, const std::string& text,
                std::vector<subscription_outcome> subscriptions = {});

// Stores the channel and subscription counts for /metrics.
void publish_figures(broadcaster_pointer self);

}  // namespace herald::actors::broadcaster_parts
