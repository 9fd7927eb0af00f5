#pragma once

// The broadcaster's behaviour is spread over three translation units so that
// -j2 builds them side by side: broadcaster.cpp (the behaviour, fan-out,
// subscriptions), broadcaster_clients.cpp (presence, join/leave, queries of
// client-protocol sessions) and broadcaster_api.cpp (the server API). These
// are the functions they share; none is part of the library's interface.

#include <chrono>
#include <string>

#include "herald/actors/broadcaster.hpp"
#include "herald/core/client_protocol.hpp"

namespace herald::actors::broadcaster_parts {

inline std::chrono::steady_clock::time_point now() {
  return std::chrono::steady_clock::now();
}

// The history options of `channel`; off when its namespace keeps none or is
// unknown.
core::history_options history_of(broadcaster_pointer self, const std::string& channel);

// Forwards every pending publication to its channel's subscribers, as one
// round with its round_ticket. Subscribe, unsubscribe and the like call it
// whatever is in flight, so that a subscriber gets exactly what arrives
// after it joined; publications wait for the round before (flush_atom).
void flush_pending(broadcaster_pointer self);

// Queues a publication for the round's fan-out and, unless `skip_history`,
// appends it to the channel's history. Returns its position ({0, ""} when
// the channel keeps no history).
core::stream_position publish(broadcaster_pointer self, const std::string& channel,
                              core::publication_ptr publication, bool skip_history = false);

// Sends `text` to `actor` as one frame, through the deliveries' path.
void deliver_text(broadcaster_pointer self, const connection_actor& actor, const std::string& text);

void publish_channel_count(broadcaster_pointer self);

// Publications as the client-protocol encoders take them, each with its
// publisher's info where it has one; `views` point into `infos`.
struct publication_views {
  std::vector<core::client_protocol::client_info_view> infos;
  std::vector<core::client_protocol::publication_view> views;
};

publication_views views_of(
    const std::vector<core::history_publication<core::publication_ptr>>& publications);

// The info view of `publication`'s publisher, unset when it has none.
core::client_protocol::client_info_view info_view_of(const core::publication& publication);

// Presence and join/leave (broadcaster_clients.cpp).

// `info` of client `client_id` as the encoders take it.
core::client_protocol::client_info_view info_view_of(const std::string& client_id,
                                                     const core::client_info& info);

// The clients of a channel's presence as the encoders take them.
std::vector<core::client_protocol::client_info_view> presence_views(
    const core::presence_registry::client_map& clients);

// After `actor` joined `channel`: records its presence where the channel
// has presence or join/leave, and pushes its join to the subscribers that
// asked for join/leave pushes.
void note_join(broadcaster_pointer self, const std::string& channel, const connection_actor& actor,
               const std::string& chan_info);

// After `actor` left `channel`: the reverse, with a leave push.
void note_leave(broadcaster_pointer self, const std::string& channel,
                const connection_actor& actor);

// After `actor` is gone: leaves everywhere and forgets its identity.
void forget_client(broadcaster_pointer self, const connection_actor& actor);

// Ends `actor`'s subscription to `channel` from the server side: leave push,
// and the session is told (with an unsubscribe push when `push`). Returns
// false if it was not subscribed.
bool server_unsubscribe(broadcaster_pointer self, const std::string& channel,
                        const connection_actor& actor, bool push);

// The client-protocol reply to a presence, presence_stats or history query.
std::string answer_query(broadcaster_pointer self, const std::string& channel,
                         const core::channel_query& query);

// The server API (broadcaster_api.cpp): the response body.
std::string answer_api(broadcaster_pointer self, const core::server_api::request& request);

}  // namespace herald::actors::broadcaster_parts
