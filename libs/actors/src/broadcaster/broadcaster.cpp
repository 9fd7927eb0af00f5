// The broadcaster's behaviour: each message goes to the part that owns its
// concept (state.hpp lists them).

#include "herald/actors/broadcaster.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "encoding.hpp"
#include "fanout.hpp"
#include "herald/core/websocket_frame.hpp"
#include "history.hpp"
#include "presence.hpp"
#include "server_api.hpp"
#include "state.hpp"
#include "subscriptions.hpp"

namespace herald::actors {
namespace {

using namespace broadcaster_parts;
namespace cp = core::client_protocol;

// How often expired history is freed.
constexpr std::chrono::seconds sweep_interval{1};

// A client's presence, presence_stats or history: checked by the channel
// policy, answered from presence or history.
void answer_query(broadcaster_pointer self, const std::string& channel,
                  const connection_actor& actor, const core::channel_query& query) {
  const bool history = query.what == core::channel_query::kind::history;
  const core::channel_refusal refusal = self->state.policy.read(
      history ? core::channel_read::history : core::channel_read::presence, channel,
      requester_of(self, actor), is_subscribed(self, channel, actor));
  command_reply reply;
  reply.what = command_reply::answering::query;
  std::string error;
  if (const cp::client_error* refused = client_error_of(refusal)) {
    cp::append_error_reply(error, query.id, *refused);
  } else if (history) {
    history_answer answer = answer_history(self, channel, query);
    error = std::move(answer.error);
    reply.render = std::move(answer.render);
  } else {
    reply.render = answer_presence(self, channel, query);
  }
  if (!error.empty()) {
    reply.frames = core::make_text_batch(error);
  }
  send_delivery(self, actor, std::move(reply));
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
  self->quit();
}

broadcaster_actor::behavior_type broadcaster(broadcaster_pointer self, broadcaster_config config) {
  auto& state = self->state;
  state.policy = core::channel_policy{std::move(config.namespaces)};
  state.counters = std::move(config.counters);
  state.rounds.max_in_flight = std::max(1u, config.max_rounds_in_flight);
  state.engine.history.set_limits(config.history_meta_ttl, config.history_max_channels);
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
      [self](subscribe_atom, const std::string& channel, const connection_actor& actor) {
        add_seed_subscriber(self, channel, actor);
      },
      [self](announce_atom, const connection_actor& actor) { announce(self, actor); },
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
        sweep_history(self);
        self->delayed_send(self, sweep_interval, sweep_atom::value);
      },
  };
}

}  // namespace

broadcaster_actor spawn_broadcaster(caf::actor_system& system, broadcaster_config config) {
  return system.spawn(broadcaster, std::move(config));
}

}  // namespace herald::actors
