#pragma once

// Publications and the rounds that carry them to subscribers, and the
// deliveries the other parts send through the same path.

#include <cstdint>
#include <string>
#include <vector>

#include "herald/actors/delivery.hpp"
#include "herald/core/stream_position.hpp"
#include "state.hpp"

namespace herald::actors::broadcaster_parts {

// Queues a publication for the round's fan-out and, unless `skip_history`,
// appends it to the channel's history. Returns its position ({0, ""} when
// the channel keeps no history). Trusted: /ws clients and the server API.
core::stream_position publish(broadcaster_pointer self, const std::string& channel,
                              core::publication_ptr publication, bool skip_history = false);

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

// Hands `item` to `actor`'s session, behind what was sent to it before.
void send_delivery(broadcaster_pointer self, const connection_actor& actor, delivery item);

// Sends `text` as one frame answering a command of `actor`'s session.
void send_reply(broadcaster_pointer self, const connection_actor& actor,
                command_reply::answering what, const std::string& text,
                std::vector<subscription_outcome> subscriptions = {});

// Stores the channel and subscription counts for /metrics.
void publish_figures(broadcaster_pointer self);

}  // namespace herald::actors::broadcaster_parts
