// The broadcaster's behaviour: each message goes to the part that owns its
// concept (state.hpp lists them).

#include "herald/actors/broadcaster.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "caf_handoff.hpp"
#include "encoding.hpp"
#include "fanout.hpp"
#include "herald/core/websocket_frame.hpp"
#include "history.hpp"
#include "memory_engine.hpp"
#include "presence.hpp"
#include "server_api.hpp"
#include "shared_engine.hpp"
#include "state.hpp"
#include "subscriptions.hpp"

namespace herald::actors {
namespace {

using namespace broadcaster_parts;
namespace cp = core::client_protocol;

// How often expired history is freed.
constexpr std::chrono::seconds sweep_interval{1};

// A node tells the others about itself this often (with a shared engine).
constexpr unsigned announce_every_ticks = 3;

// A client's presence, presence_stats or history: checked by the channel
// policy, answered from presence or history (by the engine, maybe later).
void answer_query(broadcaster_pointer self, const std::string& channel,
                  const connection_actor& actor, const core::channel_query& query) {
  const bool history = query.what == core::channel_query::kind::history;
  const core::channel_refusal refusal = self->state.policy.read(
      history ? core::channel_read::history : core::channel_read::presence, channel,
      requester_of(self, actor), is_subscribed(self, channel, actor));
  const auto reply = [self, actor](const std::string& error, deferred_text render) {
    command_reply reply;
    reply.what = command_reply::answering::query;
    if (!error.empty()) {
      reply.frames = core::make_text_batch(error);
    }
    reply.render = std::move(render);
    send_delivery(self, actor, std::move(reply));
  };
  if (const cp::client_error* refused = client_error_of(refusal)) {
    std::string error;
    cp::append_error_reply(error, query.id, *refused);
    reply(error, {});
  } else if (history) {
    answer_history(self, channel, query, [reply](history_answer answer) {
      reply(answer.error, std::move(answer.render));
    });
  } else {
    answer_presence(self, channel, query, [reply](presence_answer answer) {
      reply(answer.error, std::move(answer.render));
    });
  }
}

// The engine chosen by the configuration, wired to the broadcaster's parts
// (after state.counters is set).
std::unique_ptr<channel_engine> make_engine(broadcaster_pointer self,
                                            const broadcaster_config& config) {
  channel_engine::receiver to_broadcaster;
  to_broadcaster.publication = [self](const std::string& channel, core::publication_ptr publication,
                                      std::uint64_t offset) {
    receive_publication(self, channel, std::move(publication), offset);
  };
  to_broadcaster.presence_change = [self](const std::string& channel,
                                          const core::engine_presence_change& change) {
    announce_presence(self, channel, change.join, change.client_id, change.info);
  };
  to_broadcaster.control = [self](core::control_message&& message) {
    carry_out(self, std::move(message));
  };
  to_broadcaster.interrupted = [self](const std::vector<std::string>& channels) {
    interrupt_channels(self, channels);
  };
  if (config.redis) {
    return std::make_unique<shared_engine>(*config.redis, std::move(to_broadcaster),
                                           self->state.counters, config.history_meta_ttl,
                                           self->address());
  }
  return std::make_unique<memory_engine>(std::move(to_broadcaster), self->state.counters,
                                         config.history_meta_ttl, config.history_max_channels);
}

// Once a second: the engine's expiries and figures, and with a shared
// engine this node's announcement to the others.
void tick(broadcaster_pointer self) {
  auto& state = self->state;
  state.engine->tick();
  if (state.engine->shared()) {
    forget_silent_nodes(self);
    if (state.ticks++ % announce_every_ticks == 0) {
      state.engine->control(describe_node(self));
    }
  }
}

// At shutdown, after the I/O threads have stopped: sessions can no longer
// close their actors themselves, so every one the broadcaster knows is told
// to quit before it quits.
void close_everything(broadcaster_pointer self) {
  auto& state = self->state;
  state.registry.for_each_subscriber(
      [self](const subscriber& entry) { self->send(entry.actor, close_atom::value); });
  for (const auto& [actor, identity] : state.directory.clients) {
    if (!state.registry.contains(subscriber{actor})) {
      self->send(actor, close_atom::value);
    }
  }
  // Its last figures (broadcast_counters) are read and freed by the main
  // thread once CAF says every actor is done (hub::~hub).
  release_to_caf();
  self->quit();
}

broadcaster_actor::behavior_type broadcaster(broadcaster_pointer self, broadcaster_config config) {
  auto& state = self->state;
  state.policy = core::channel_policy{std::move(config.namespaces)};
  state.counters = std::move(config.counters);
  state.rounds.max_in_flight = std::max(1u, config.max_rounds_in_flight);
  state.node_name = config.node_name;
  state.engine = make_engine(self, config);
  self->set_down_handler([self](caf::down_msg& msg) {
    // The registry holds strong handles, so the departed actor's handle can
    // still be rebuilt from its address to find its subscriptions.
    if (auto departed = caf::actor_cast<connection_actor>(msg.source)) {
      remove_connection(self, departed);
    }
  });
  self->delayed_send(self, sweep_interval, sweep_atom::value);
  return {
      [self](close_atom) { close_everything(self); },
      [self](subscribe_atom, const std::string& channel, const connection_actor& actor,
             std::weak_ptr<session_sink>& sink) {
        attach_session(self, actor, std::move(sink));
        add_seed_subscriber(self, channel, actor);
      },
      [self](announce_atom, const connection_actor& actor, std::weak_ptr<session_sink>& sink) {
        attach_session(self, actor, std::move(sink));
        announce(self, actor);
      },
      [self](join_atom, const std::string& channel, const connection_actor& actor,
             const core::subscription_request& request) {
        subscribe(self, channel, actor, request);
      },
      [self](connect_atom, const connection_actor& actor, core::connect_request& request) {
        connect(self, actor, request);
      },
      [self](unsubscribe_atom, const std::string& channel, const connection_actor& actor) {
        unsubscribe(self, channel, actor);
      },
      [self](query_atom, const std::string& channel, const connection_actor& actor,
             const core::channel_query& query) { answer_query(self, channel, actor, query); },
      [self](publish_atom, const std::string& channel, core::publication_ptr& publication,
             const connection_actor& publisher) {
        seed_publish(self, channel, std::move(publication), publisher);
      },
      [self](publish_atom, const std::string& channel, core::publication_ptr& publication,
             const connection_actor& actor, std::uint32_t id) {
        client_publish(self, channel, std::move(publication), actor, id);
      },
      [self](api_atom, api_call& call) { run_api_call(self, call); },
      [self](flush_atom) { on_flush(self); },
      [self](round_done_atom) { on_round_done(self); },
      [self](sweep_atom) {
        tick(self);
        self->delayed_send(self, sweep_interval, sweep_atom::value);
      },
      [self](engine_atom) {
        if (auto* shared = dynamic_cast<shared_engine*>(self->state.engine.get())) {
          shared->run_queued();
        }
      },
  };
}

}  // namespace

broadcaster_actor spawn_broadcaster(caf::actor_system& system, broadcaster_config config) {
  return system.spawn(broadcaster, std::move(config));
}

}  // namespace herald::actors
