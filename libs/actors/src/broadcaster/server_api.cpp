#include "server_api.hpp"

#include <algorithm>
#include <functional>
#include <memory>

#include "encoding.hpp"
#include "fanout.hpp"
#include "herald/core/channel_pattern.hpp"
#include "herald/core/client_protocol.hpp"
#include "subscriptions.hpp"

namespace herald::actors::broadcaster_parts {
namespace {

namespace api = core::server_api;

constexpr std::string_view node_version = "0.1.0";

// A node that said nothing for this long (it announces itself every
// node_announce_interval) is gone: Centrifugo's 7 s for its 3 s.
constexpr std::chrono::seconds node_silence_limit{7};

// How long a channels survey waits for the nodes' answers.
constexpr std::chrono::seconds survey_limit{1};

// The connections of `user`, or only the one with client id `client` when
// it is given.
std::vector<connection_actor> connections_of(broadcaster_pointer self, const std::string& user,
                                             const std::string& client) {
  std::vector<connection_actor> found;
  const auto& directory = self->state.directory;
  auto it = directory.by_user.find(user);
  if (it == directory.by_user.end()) {
    return found;
  }
  for (const auto& actor : it->second) {
    auto identity = directory.clients.find(actor);
    if (identity != directory.clients.end() &&
        (client.empty() || identity->second.client_id == client)) {
      found.push_back(actor);
    }
  }
  return found;
}

// This node's channels that match `pattern` (all when it is empty), with
// their subscriber counts.
std::vector<std::pair<std::string, std::uint64_t>> local_channels(broadcaster_pointer self,
                                                                  const std::string& pattern) {
  std::vector<std::pair<std::string, std::uint64_t>> channels;
  // Compiled once; decode() has checked that it compiles.
  const auto compiled = core::channel_pattern::compile(pattern);
  self->state.registry.for_each_channel([&](const std::string& name, const auto& subscribers) {
    if (pattern.empty() || (compiled && compiled->matches(name))) {
      channels.emplace_back(name, subscribers.size());
    }
  });
  return channels;
}

std::string channels_body(const std::vector<std::pair<std::string, std::uint64_t>>& channels) {
  std::vector<api::channel_info> infos;
  infos.reserve(channels.size());
  for (const auto& [name, subscribers] : channels) {
    infos.push_back(api::channel_info{name, static_cast<std::uint32_t>(subscribers)});
  }
  std::string body;
  api::append_channels_result(body, infos);
  return body;
}

void finish_survey(broadcaster_pointer self, const std::string& id) {
  auto survey = self->state.surveys.find(id);
  if (survey == self->state.surveys.end()) {
    return;
  }
  std::vector<std::pair<std::string, std::uint64_t>> channels(survey->second.channels.begin(),
                                                              survey->second.channels.end());
  std::sort(channels.begin(), channels.end());
  auto answer = std::move(survey->second.answer);
  self->state.surveys.erase(survey);
  answer(channels_body(channels));
}

// Asks every node that announced itself lately (and this one) for its
// channels; answers when all did, or after survey_limit with what came.
void survey_channels(broadcaster_pointer self, const std::string& pattern,
                     std::function<void(std::string)> answer) {
  auto& state = self->state;
  const std::string id = state.node_id + "-" + std::to_string(++state.surveys_started);
  channels_survey_state survey;
  survey.answer = std::move(answer);
  survey.waiting_for.insert(state.node_id);
  for (const auto& [uid, node] : state.nodes) {
    survey.waiting_for.insert(uid);
  }
  survey.started = now();
  state.surveys.emplace(id, std::move(survey));
  state.engine->control(core::channels_survey{id, pattern});
}

// Each method answers its request through `answer`, once: at once, or when
// the engine has answered.
class api_runner {
 public:
  using answer_function = std::function<void(std::string body)>;

  api_runner(broadcaster_pointer self, answer_function answer)
      : self_(self), answer_(std::move(answer)) {}

  void operator()(const api::publish_request& request) {
    if (const auto* error = unknown(request.channel)) {
      return answer_(error_body(*error));
    }
    publish(
        self_, request.channel, core::make_publication(request.data), request.skip_history,
        [answer = answer_](const std::optional<core::stream_position>& position) {
          if (!position) {
            return answer(error_body(api::errors::internal));
          }
          std::string body;
          api::append_publish_result(body, api::publish_result{position->offset, position->epoch});
          answer(std::move(body));
        });
  }

  void operator()(const api::broadcast_request& request) {
    struct progress {
      std::vector<api::broadcast_item> items;
      std::vector<core::stream_position> positions;  // what the results' views show
      std::size_t remaining = 1;                     // one for the loop below
    };
    auto state = std::make_shared<progress>();
    state->items.resize(request.channels.size());
    state->positions.resize(request.channels.size());
    const auto settle = [state, answer = answer_] {
      if (--state->remaining == 0) {
        std::string body;
        api::append_broadcast_result(body, state->items);
        answer(std::move(body));
      }
    };
    // One publication shared by every channel: its data is the same.
    auto publication = core::make_publication(request.data);
    for (std::size_t i = 0; i < request.channels.size(); ++i) {
      if (!api::valid_channel(request.channels[i])) {
        state->items[i].error = api::errors::bad_request;  // in its slot, as Centrifugo
        continue;
      }
      if (const auto* error = unknown(request.channels[i])) {
        state->items[i].error = *error;
        continue;
      }
      ++state->remaining;
      publish(self_, request.channels[i], publication, request.skip_history,
              [state, i, settle](const std::optional<core::stream_position>& position) {
                if (position) {
                  state->positions[i] = *position;
                  state->items[i].result =
                      api::publish_result{state->positions[i].offset, state->positions[i].epoch};
                } else {
                  state->items[i].error = api::errors::internal;
                }
                settle();
              });
    }
    settle();
  }

  // Carried out by every node for its own connections (control_message).
  void operator()(const api::unsubscribe_request& request) {
    if (!request.channel.empty()) {
      if (const auto* error = unknown(request.channel)) {
        return answer_(error_body(*error));
      }
    }
    self_->state.engine->control(
        core::unsubscribe_command{request.user, request.client, request.channel});
    answer_(empty_body());
  }

  void operator()(const api::disconnect_request& request) {
    self_->state.engine->control(core::disconnect_command{
        request.user, request.client, request.code, request.reason, request.whitelist});
    answer_(empty_body());
  }

  void operator()(const api::presence_request& request) {
    if (const auto* error = refused(core::channel_read::presence, request.channel)) {
      return answer_(error_body(*error));
    }
    engine().presence(
        request.channel,
        [answer = answer_](std::optional<core::presence_registry::shared_client_map> clients) {
          if (!clients) {
            return answer(error_body(api::errors::internal));
          }
          std::string body;
          api::append_presence_result(body, presence_views(**clients));
          answer(std::move(body));
        });
  }

  void operator()(const api::presence_stats_request& request) {
    if (const auto* error = refused(core::channel_read::presence, request.channel)) {
      return answer_(error_body(*error));
    }
    engine().presence_stats(
        request.channel, [answer = answer_](std::optional<core::presence_stats> stats) {
          if (!stats) {
            return answer(error_body(api::errors::internal));
          }
          std::string body;
          api::append_presence_stats_result(body, static_cast<std::uint32_t>(stats->num_clients),
                                            static_cast<std::uint32_t>(stats->num_users));
          answer(std::move(body));
        });
  }

  void operator()(const api::history_request& request) {
    if (const auto* error = refused(core::channel_read::history, request.channel)) {
      return answer_(error_body(*error));
    }
    engine().history(
        request.channel, request.since, request.limit, request.reverse,
        [answer = answer_](std::optional<core::history_result<core::publication_ptr>> found) {
          if (!found) {
            return answer(error_body(api::errors::internal));
          }
          if (found->error == core::history_error::bad_request) {
            return answer(error_body(api::errors::bad_request));
          }
          if (found->error == core::history_error::unrecoverable_position) {
            return answer(error_body(api::errors::unrecoverable_position));
          }
          const publication_views publications = views_of(found->publications);
          std::string body;
          api::append_history_result(body, publications.views, found->position.epoch,
                                     found->position.offset);
          answer(std::move(body));
        });
  }

  void operator()(const api::history_remove_request& request) {
    if (const auto* error = refused(core::channel_read::history, request.channel)) {
      return answer_(error_body(*error));
    }
    engine().remove_history(request.channel, [answer = answer_](bool removed) {
      answer(removed ? empty_body() : error_body(api::errors::internal));
    });
  }

  // Every node's channels: this node's at once with the memory engine; with
  // a shared one, a survey that every node answers (survey_channels).
  void operator()(const api::channels_request& request) {
    if (engine().shared()) {
      return survey_channels(self_, request.pattern, answer_);
    }
    answer_(channels_body(local_channels(self_, request.pattern)));
  }

  // This node, and the others that announced themselves lately.
  void operator()(const api::info_request&) {
    // The infos are views: the announcements outlive them.
    const core::node_announcement self_node = describe_node(self_);
    std::vector<api::node_info> nodes{node_info_of(self_node)};
    for (const auto& [uid, node] : self_->state.nodes) {
      nodes.push_back(node_info_of(node.announcement));
    }
    std::string body;
    api::append_info_result(body, nodes);
    answer_(std::move(body));
  }

 private:
  static api::node_info node_info_of(const core::node_announcement& node) {
    api::node_info info;
    info.uid = node.uid;
    info.name = node.name;
    info.version = node.version;
    info.num_clients = static_cast<std::uint32_t>(node.num_clients);
    info.num_users = static_cast<std::uint32_t>(node.num_users);
    info.num_subs = static_cast<std::uint32_t>(node.num_subs);
    info.num_channels = static_cast<std::uint32_t>(node.num_channels);
    info.uptime = static_cast<std::int64_t>(node.uptime);
    return info;
  }

  const api::api_error* unknown(const std::string& channel) const {
    return self_->state.policy.known(channel) ? nullptr : &api::errors::unknown_channel;
  }

  // Why a channel cannot take this read: 102, or 108 when it keeps none.
  const api::api_error* refused(core::channel_read what, const std::string& channel) const {
    return api_error_of(self_->state.policy.api_read(what, channel));
  }

  channel_engine& engine() { return *self_->state.engine; }

  static std::string error_body(const api::api_error& error) {
    std::string body;
    api::append_error(body, error);
    return body;
  }

  static std::string empty_body() {
    std::string body;
    api::append_empty_result(body);
    return body;
  }

  broadcaster_pointer self_;
  answer_function answer_;
};

}  // namespace

void run_api_call(broadcaster_pointer self, api_call& call) {
  // One body per command, in order, joined by newlines once the last is
  // answered (at once with the memory engine).
  struct progress {
    std::vector<std::string> bodies;
    std::size_t remaining = 1;  // one for the loop below
    std::function<void(std::string)> reply;
  };
  auto state = std::make_shared<progress>();
  state->bodies.resize(call.commands.size());
  state->reply = std::move(call.reply);
  const auto settle = [state] {
    if (--state->remaining != 0) {
      return;
    }
    std::string body;
    for (const auto& part : state->bodies) {
      if (!body.empty()) {
        body += '\n';
      }
      body += part;
    }
    if (state->reply) {
      state->reply(std::move(body));
    }
  };
  for (std::size_t i = 0; i < call.commands.size(); ++i) {
    const auto& command = call.commands[i];
    if (const auto* error = std::get_if<api::api_error>(&command)) {
      api::append_error(state->bodies[i], *error);
      continue;
    }
    ++state->remaining;
    std::visit(api_runner{self,
                          [state, i, settle](std::string body) {
                            state->bodies[i] = std::move(body);
                            settle();
                          }},
               std::get<api::request>(command));
  }
  settle();
}

core::node_announcement describe_node(broadcaster_pointer self) {
  const auto& state = self->state;
  // Connections: every subscriber (/ws sessions are always subscribed)
  // plus connected clients subscribed to nothing.
  std::size_t clients = state.registry.subscriber_count();
  for (const auto& [actor, identity] : state.directory.clients) {
    if (!identity.client_id.empty() && !state.registry.contains(subscriber{actor})) {
      ++clients;
    }
  }
  core::node_announcement node;
  node.uid = state.node_id;
  node.name = state.node_name;
  node.version = node_version;
  node.num_clients = clients;
  node.num_users = state.directory.by_user.size();
  node.num_subs = state.registry.subscription_count();
  node.num_channels = state.registry.channel_count();
  node.uptime = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(now() - state.started).count());
  return node;
}

void carry_out(broadcaster_pointer self, core::control_message&& message) {
  auto& state = self->state;
  if (auto* node = std::get_if<core::node_announcement>(&message)) {
    if (node->uid != state.node_id) {
      const std::string uid = node->uid;  // the move below empties it
      state.nodes[uid] = known_node{std::move(*node), now()};
    }
    return;
  }
  if (auto* command = std::get_if<core::unsubscribe_command>(&message)) {
    for (const auto& actor : connections_of(self, command->user, command->client)) {
      leave_attempts(self, command->channel, actor);  // those still being set up too
      const auto channels = command->channel.empty() ? state.registry.channels_of(subscriber{actor})
                                                     : std::vector<std::string>{command->channel};
      for (const auto& channel : channels) {
        unsubscribe_by_server(self, channel, actor);
      }
    }
    return;
  }
  if (auto* survey = std::get_if<core::channels_survey>(&message)) {
    state.engine->control(
        core::channels_answer{survey->id, state.node_id, local_channels(self, survey->pattern)});
    return;
  }
  if (auto* answer = std::get_if<core::channels_answer>(&message)) {
    auto survey = state.surveys.find(answer->id);
    if (survey == state.surveys.end()) {
      return;  // another node's survey, or one that timed out
    }
    for (const auto& [name, subscribers] : answer->channels) {
      survey->second.channels[name] += subscribers;
    }
    survey->second.waiting_for.erase(answer->origin);
    if (survey->second.waiting_for.empty()) {
      finish_survey(self, answer->id);
    }
    return;
  }
  const auto& command = std::get<core::disconnect_command>(message);
  const auto& spared = command.whitelist;
  for (const auto& actor : connections_of(self, command.user, command.client)) {
    const std::string& client_id = state.directory.clients.at(actor).client_id;
    if (std::find(spared.begin(), spared.end(), client_id) == spared.end()) {
      send_delivery(self, actor, server_disconnect{command.code, command.reason});
    }
  }
}

void forget_silent_nodes(broadcaster_pointer self) {
  auto& nodes = self->state.nodes;
  for (auto it = nodes.begin(); it != nodes.end();) {
    it = now() - it->second.seen > node_silence_limit ? nodes.erase(it) : std::next(it);
  }
  // A survey a node did not answer in time: that node is gone, or Redis.
  std::vector<std::string> overdue;
  for (const auto& [id, survey] : self->state.surveys) {
    if (now() - survey.started >= survey_limit) {
      overdue.push_back(id);
    }
  }
  for (const auto& id : overdue) {
    finish_survey(self, id);
  }
}

}  // namespace herald::actors::broadcaster_parts
