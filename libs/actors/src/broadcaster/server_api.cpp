#include "server_api.hpp"

#include <algorithm>

#include "encoding.hpp"
#include "fanout.hpp"
#include "herald/core/channel_pattern.hpp"
#include "herald/core/client_protocol.hpp"
#include "subscriptions.hpp"

namespace herald::actors::broadcaster_parts {
namespace {

namespace api = core::server_api;

constexpr std::string_view node_name = "herald";
constexpr std::string_view node_version = "0.1.0";

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

class api_runner {
 public:
  explicit api_runner(broadcaster_pointer self) : self_(self) {}

  std::string operator()(const api::publish_request& request) {
    if (const auto* error = unknown(request.channel)) {
      return error_body(*error);
    }
    const auto position =
        publish(self_, request.channel, core::make_publication(request.data), request.skip_history);
    std::string body;
    api::append_publish_result(body, api::publish_result{position.offset, position.epoch});
    return body;
  }

  std::string operator()(const api::broadcast_request& request) {
    std::vector<core::stream_position> positions(request.channels.size());
    std::vector<api::broadcast_item> items(request.channels.size());
    // One publication shared by every channel: its data is the same.
    auto publication = core::make_publication(request.data);
    for (std::size_t i = 0; i < request.channels.size(); ++i) {
      if (!api::valid_channel(request.channels[i])) {
        items[i].error = api::errors::bad_request;  // in its slot, as Centrifugo
        continue;
      }
      if (const auto* error = unknown(request.channels[i])) {
        items[i].error = *error;
        continue;
      }
      positions[i] = publish(self_, request.channels[i], publication, request.skip_history);
      items[i].result = api::publish_result{positions[i].offset, positions[i].epoch};
    }
    std::string body;
    api::append_broadcast_result(body, items);
    return body;
  }

  // An empty channel: every channel of those connections, as Centrifugo.
  std::string operator()(const api::unsubscribe_request& request) {
    if (!request.channel.empty()) {
      if (const auto* error = unknown(request.channel)) {
        return error_body(*error);
      }
    }
    for (const auto& actor : connections_of(self_, request.user, request.client)) {
      const auto channels = request.channel.empty()
                                ? self_->state.registry.channels_of(subscriber{actor})
                                : std::vector<std::string>{request.channel};
      for (const auto& channel : channels) {
        unsubscribe_by_server(self_, channel, actor);
      }
    }
    return empty_body();
  }

  std::string operator()(const api::disconnect_request& request) {
    const auto& whitelist = request.whitelist;
    for (const auto& actor : connections_of(self_, request.user, request.client)) {
      const std::string& client_id = self_->state.directory.clients.at(actor).client_id;
      if (std::find(whitelist.begin(), whitelist.end(), client_id) == whitelist.end()) {
        send_delivery(self_, actor, server_disconnect{request.code, request.reason});
      }
    }
    return empty_body();
  }

  std::string operator()(const api::presence_request& request) {
    if (const auto* error = refused(core::channel_read::presence, request.channel)) {
      return error_body(*error);
    }
    std::string body;
    api::append_presence_result(body, presence_views(engine().presence.presence(request.channel)));
    return body;
  }

  std::string operator()(const api::presence_stats_request& request) {
    if (const auto* error = refused(core::channel_read::presence, request.channel)) {
      return error_body(*error);
    }
    const auto stats = engine().presence.stats(request.channel);
    std::string body;
    api::append_presence_stats_result(body, static_cast<std::uint32_t>(stats.num_clients),
                                      static_cast<std::uint32_t>(stats.num_users));
    return body;
  }

  std::string operator()(const api::history_request& request) {
    if (const auto* error = refused(core::channel_read::history, request.channel)) {
      return error_body(*error);
    }
    const auto found = engine().history.history(request.channel, request.since, request.limit,
                                                request.reverse, now());
    if (found.error == core::history_error::bad_request) {
      return error_body(api::errors::bad_request);
    }
    if (found.error == core::history_error::unrecoverable_position) {
      return error_body(api::errors::unrecoverable_position);
    }
    const publication_views publications = views_of(found.publications);
    std::string body;
    api::append_history_result(body, publications.views, found.position.epoch,
                               found.position.offset);
    return body;
  }

  std::string operator()(const api::history_remove_request& request) {
    if (const auto* error = refused(core::channel_read::history, request.channel)) {
      return error_body(*error);
    }
    engine().history.remove(request.channel);
    return empty_body();
  }

  std::string operator()(const api::channels_request& request) {
    std::vector<api::channel_info> channels;
    // Compiled once; decode() has checked that it compiles.
    const auto pattern = core::channel_pattern::compile(request.pattern);
    self_->state.registry.for_each_channel([&](const std::string& name, const auto& subscribers) {
      if (request.pattern.empty() || (pattern && pattern->matches(name))) {
        channels.push_back(api::channel_info{name, static_cast<std::uint32_t>(subscribers.size())});
      }
    });
    std::string body;
    api::append_channels_result(body, channels);
    return body;
  }

  std::string operator()(const api::info_request&) {
    const auto& state = self_->state;
    // Connections: every subscriber (/ws sessions are always subscribed)
    // plus connected clients subscribed to nothing.
    std::size_t clients = state.registry.subscriber_count();
    for (const auto& [actor, identity] : state.directory.clients) {
      if (!identity.client_id.empty() && !state.registry.contains(subscriber{actor})) {
        ++clients;
      }
    }
    api::node_info node;
    node.uid = state.node_id;
    node.name = node_name;
    node.version = node_version;
    node.num_clients = static_cast<std::uint32_t>(clients);
    node.num_users = static_cast<std::uint32_t>(state.directory.by_user.size());
    node.num_subs = static_cast<std::uint32_t>(state.registry.subscription_count());
    node.num_channels = static_cast<std::uint32_t>(state.registry.channel_count());
    node.uptime = std::chrono::duration_cast<std::chrono::seconds>(now() - state.started).count();
    std::string body;
    api::append_info_result(body, node);
    return body;
  }

 private:
  const api::api_error* unknown(const std::string& channel) const {
    return self_->state.policy.known(channel) ? nullptr : &api::errors::unknown_channel;
  }

  // Why a channel cannot take this read: 102, or 108 when it keeps none.
  const api::api_error* refused(core::channel_read what, const std::string& channel) const {
    return api_error_of(self_->state.policy.api_read(what, channel));
  }

  memory_engine& engine() { return self_->state.engine; }

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
};

}  // namespace

void run_api_call(broadcaster_pointer self, api_call& call) {
  std::string body;
  for (const auto& command : call.commands) {
    if (!body.empty()) {
      body += '\n';
    }
    if (const auto* error = std::get_if<api::api_error>(&command)) {
      api::append_error(body, *error);
    } else {
      body += std::visit(api_runner{self}, std::get<api::request>(command));
    }
  }
  if (call.reply) {
    call.reply(std::move(body));
  }
}

}  // namespace herald::actors::broadcaster_parts
