#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include <caf/actor_cast.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "herald/actors/broadcast_counters.hpp"
#include "herald/actors/messages.hpp"
#include "herald/core/channel_registry.hpp"

namespace herald::actors {

struct connection_hash {
  std::size_t operator()(const connection_actor& handle) const noexcept {
    return std::hash<const void*>{}(caf::actor_cast<caf::actor_control_block*>(handle));
  }
};

struct broadcaster_state {
  core::channel_registry<connection_actor, connection_hash> registry;
  broadcaster_stats stats;
  std::shared_ptr<broadcast_counters> published;  // stats, for other threads
  static inline const char* name = "herald.broadcaster";
};

using broadcaster_pointer = broadcaster_actor::stateful_pointer<broadcaster_state>;

// Spawn with `system.spawn(broadcaster, counters)`. Monitors every subscriber and
// forgets it on its down message, so a connection that dies without saying
// goodbye never leaks a subscription.
broadcaster_actor::behavior_type broadcaster(broadcaster_pointer self,
                                             std::shared_ptr<broadcast_counters> counters);

}  // namespace herald::actors
