#pragma once

#include <cstdint>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "herald/core/frame.hpp"

// Frames travel between actors by pointer: the payload is immutable and
// shared, so the message never copies or serializes it (it never leaves the
// process).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::frame_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::core::frame_batch_ptr)

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

// One per WebSocket connection. The broadcaster delivers batches of frames to it; its
// session hands it the client's publications and tells it when the socket
// is gone.
using connection_actor =
    caf::typed_actor<caf::reacts_to<deliver_atom, core::frame_batch_ptr>,
                     caf::reacts_to<publish_atom, std::string, core::frame_ptr>,
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

// Holds channel -> subscribers and fans publications out to them, one
// message per subscriber for all of a channel's publications that arrived in
// one round (closed by the flush_atom it sends itself). close_atom ends it:
// it first tells every subscriber to quit.
using broadcaster_actor =
    caf::typed_actor<caf::reacts_to<close_atom>,
                     caf::reacts_to<subscribe_atom, std::string, connection_actor>,
                     caf::reacts_to<unsubscribe_atom, std::string, connection_actor>,
                     caf::reacts_to<publish_atom, std::string, core::frame_ptr>,
                     caf::reacts_to<flush_atom>,
                     caf::replies_to<stats_atom>::with<broadcaster_stats>>;

}  // namespace herald::actors
