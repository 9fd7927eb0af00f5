#pragma once

#include <cstdint>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "herald/actors/api_call.hpp"
#include "herald/actors/round_ticket.hpp"
#include "herald/core/client_requests.hpp"
#include "herald/core/frame.hpp"

// Frames travel between actors by pointer: the payload is immutable and
// shared, so the message never copies or serializes it (it never leaves the
// process).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::frame_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::frame_batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::publication_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::join_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::client_identity)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::channel_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::connect_reply_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::api_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::round_ticket_ptr)

namespace herald::actors {

// CAF defines atoms of the same names in namespace caf; ours are distinct
// types in this namespace, so never write `using namespace caf`.
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsub")>;
using close_atom = caf::atom_constant<caf::atom("close")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using connect_atom = caf::atom_constant<caf::atom("connect")>;
using query_atom = caf::atom_constant<caf::atom("query")>;
using kick_atom = caf::atom_constant<caf::atom("kick")>;
using disconnect_atom = caf::atom_constant<caf::atom("disconnect")>;
using api_atom = caf::atom_constant<caf::atom("api")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using round_done_atom = caf::atom_constant<caf::atom("round_done")>;

// One per WebSocket connection. The broadcaster delivers batches of frames to it; its
// session hands it the client's publications and tells it when the socket
// is gone.
// A client-protocol session also sends it hello_atom (who the client is,
// once connected), connect_atom (a connect with server-side subscriptions,
// answered with the connect reply as a delivery), join_atom (subscribe, with the command's id: the
// broadcaster's reply comes back as a delivery, ahead of the channel's
// publications), unsubscribe_atom and query_atom (presence, presence_stats,
// history; answered as a delivery). From the broadcaster it may get
// kick_atom (the server ended the subscription of that generation; true:
// tell the client with an unsubscribe push) and disconnect_atom (the server API disconnects it).
using connection_actor =
    caf::typed_actor<caf::reacts_to<deliver_atom, core::frame_batch_ptr, round_ticket_ptr>,
                     caf::reacts_to<publish_atom, std::string, core::publication_ptr>,
                     caf::reacts_to<hello_atom, core::client_identity>,
                     caf::reacts_to<connect_atom, core::connect_reply_request>,
                     caf::reacts_to<join_atom, std::string, core::join_request>,
                     caf::reacts_to<unsubscribe_atom, std::string>,
                     caf::reacts_to<query_atom, std::string, core::channel_query>,
                     caf::reacts_to<kick_atom, std::string, std::uint32_t, bool>,
                     caf::reacts_to<disconnect_atom, std::uint32_t, std::string>,
                     caf::reacts_to<close_atom>>;

// Counters the broadcaster keeps; read by tests and, later, /metrics.
struct broadcaster_stats {
  std::uint64_t channels = 0;
  std::uint64_t subscribers = 0;
  std::uint64_t publications = 0;
  std::uint64_t deliveries = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, broadcaster_stats& x) {
  return f(caf::meta::type_name("broadcaster_stats"), x.channels, x.subscribers, x.publications,
           x.deliveries);
}

// Holds channel -> subscribers (/ws sessions by subscribe_atom, client-
// protocol sessions by join_atom) and fans publications out to them, one
// message per subscriber for all of a channel's publications that arrived in
// one round (closed by the flush_atom it sends itself). close_atom ends it:
// it first tells every subscriber to quit. It also owns history and presence
// and answers client-protocol queries and the server API (api_atom), and
// sends itself sweep_atom every second to expire history.
using broadcaster_actor = caf::typed_actor<
    caf::reacts_to<close_atom>, caf::reacts_to<subscribe_atom, std::string, connection_actor>,
    caf::reacts_to<hello_atom, connection_actor, core::client_identity>,
    caf::reacts_to<connect_atom, connection_actor, core::connect_reply_request>,
    caf::reacts_to<join_atom, std::string, connection_actor, core::join_request>,
    caf::reacts_to<unsubscribe_atom, std::string, connection_actor>,
    caf::reacts_to<query_atom, std::string, connection_actor, core::channel_query>,
    caf::reacts_to<publish_atom, std::string, core::publication_ptr>,
    caf::reacts_to<api_atom, api_call>, caf::reacts_to<flush_atom>, caf::reacts_to<round_done_atom>,
    caf::reacts_to<sweep_atom>, caf::replies_to<stats_atom>::with<broadcaster_stats>>;

}  // namespace herald::actors
