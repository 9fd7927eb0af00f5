#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "herald/actors/api_call.hpp"
#include "herald/actors/delivery.hpp"
#include "herald/actors/session_sink.hpp"
#include "herald/core/client_requests.hpp"
#include "herald/core/frame.hpp"

// Messages never leave the process, so CAF need not serialize these. Frames
// and publications travel by pointer: the payload is immutable and shared,
// never copied per subscriber.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::publication_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::subscription_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::client_identity)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::channel_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::connect_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::api_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::delivery)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::weak_ptr<herald::actors::session_sink>)

namespace herald::actors {

// CAF defines atoms of the same names in namespace caf; ours are distinct
// types in this namespace, so never write `using namespace caf`.
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsub")>;
using close_atom = caf::atom_constant<caf::atom("close")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using announce_atom = caf::atom_constant<caf::atom("announce")>;
using connect_atom = caf::atom_constant<caf::atom("connect")>;
using query_atom = caf::atom_constant<caf::atom("query")>;
using api_atom = caf::atom_constant<caf::atom("api")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using round_done_atom = caf::atom_constant<caf::atom("round_done")>;
using engine_atom = caf::atom_constant<caf::atom("engine")>;

// One per WebSocket connection, between its session and the broadcaster.
// The broadcaster hands deliveries (a round's pushes, replies, server-side
// unsubscribes and disconnects) to the session itself, through the
// session_sink it got with subscribe_atom or announce_atom: one call per
// delivery instead of a message and an actor's turn. deliver_atom carries
// them for a connection the broadcaster knows only by its handle. The
// session sends, through the actor, so that one client's requests reach
// the broadcaster in the order it made them:
//  - publish_atom: a /ws client's publication (trusted: /ws clients may
//    publish on their channel), or a client-protocol publish with its
//    command id (checked by the broadcaster); both are acknowledged
//    (command_reply) once applied and sent in a round, which is what bounds
//    how far a publisher can run ahead of the fan-out;
//  - connect_atom: a connect whose token checked out: who the client is,
//    and any server-side subscriptions;
//  - join_atom, unsubscribe_atom: the client's subscribe and unsubscribe;
//  - query_atom: presence, presence_stats, history.
using connection_actor = caf::typed_actor<
    caf::reacts_to<deliver_atom, delivery>,
    caf::reacts_to<publish_atom, std::string, core::publication_ptr>,
    caf::reacts_to<publish_atom, std::string, core::publication_ptr, std::uint32_t>,
    caf::reacts_to<connect_atom, core::connect_request>,
    caf::reacts_to<join_atom, std::string, core::subscription_request>,
    caf::reacts_to<unsubscribe_atom, std::string>,
    caf::reacts_to<query_atom, std::string, core::channel_query>, caf::reacts_to<close_atom>>;

// Holds channel -> subscribers and fans publications out to them, one
// delivery per subscriber for all of a channel's publications that arrived
// in one round (closed by the flush_atom it sends itself; round_done_atom
// says a round was written). /ws sessions subscribe by subscribe_atom,
// client-protocol sessions by join_atom, decided by core::channel_policy.
// announce_atom makes a client-protocol connection known at its spawn, so
// that close_atom reaches it at shutdown even if it never connects;
// connect_atom gives its identity once it has connected, and the broadcaster
// sends the connect reply only then, so a client that has its reply is
// known to the server API. It also owns
// history and presence, answers queries and the server API (api_atom), and
// sends itself sweep_atom every second to expire history. engine_atom says
// a shared engine (Redis) has results and news queued for it.
using broadcaster_actor = caf::typed_actor<
    caf::reacts_to<close_atom>,
    caf::reacts_to<subscribe_atom, std::string, connection_actor, std::weak_ptr<session_sink>>,
    caf::reacts_to<announce_atom, connection_actor, std::weak_ptr<session_sink>>,
    caf::reacts_to<connect_atom, connection_actor, core::connect_request>,
    caf::reacts_to<join_atom, std::string, connection_actor, core::subscription_request>,
    caf::reacts_to<unsubscribe_atom, std::string, connection_actor>,
    caf::reacts_to<query_atom, std::string, connection_actor, core::channel_query>,
    caf::reacts_to<publish_atom, std::string, core::publication_ptr, connection_actor>,
    caf::reacts_to<publish_atom, std::string, core::publication_ptr, connection_actor,
                   std::uint32_t>,
    caf::reacts_to<api_atom, api_call>, caf::reacts_to<flush_atom>, caf::reacts_to<round_done_atom>,
    caf::reacts_to<sweep_atom>, caf::reacts_to<engine_atom>>;

}  // namespace herald::actors
