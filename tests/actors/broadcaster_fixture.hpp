#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "deterministic_system.hpp"
#include "frame_payload.hpp"
#include "herald/actors/broadcaster.hpp"
#include "herald/actors/connection_actor.hpp"

namespace herald::test {

// Channel options under which any client, anonymous ones too, may
// subscribe, and subscribers may read presence and history: what a test
// adds on top is its subject.
inline core::channel_options open_channels() {
  core::channel_options options;
  options.allow_subscribe_for_client = true;
  options.allow_subscribe_for_anonymous = true;
  options.allow_presence_for_subscriber = true;
  options.allow_presence_for_anonymous = true;
  options.allow_history_for_subscriber = true;
  options.allow_history_for_anonymous = true;
  return options;
}

// open_channels() with a history (100 publications for 60 s) that clients
// may recover from.
inline core::channel_options recoverable_channels() {
  core::channel_options options = open_channels();
  options.history_size = 100;
  options.history_ttl = std::chrono::seconds{60};
  options.allow_recovery = true;
  return options;
}

// A broadcaster on the deterministic scheduler and the connections a test
// makes, each with its recording sink; every actor is stopped when the
// fixture goes.
struct broadcaster_fixture {
  explicit broadcaster_fixture(actors::broadcaster_config config = {})
      : counters(config.counters),
        broadcaster(actors::spawn_broadcaster(sys.system, std::move(config))) {}

  // Every channel with `options`; `max_rounds_in_flight` rounds at once.
  explicit broadcaster_fixture(core::channel_options options, unsigned max_rounds_in_flight = 1)
      : broadcaster_fixture(config_of(std::move(options), max_rounds_in_flight)) {}

  ~broadcaster_fixture() {
    for (auto& connection : connections) {
      caf::anon_send_exit(connection, caf::exit_reason::user_shutdown);
    }
    if (publisher) {
      caf::anon_send_exit(publisher, caf::exit_reason::user_shutdown);
    }
    caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
    sys.run();
  }

  broadcaster_fixture(const broadcaster_fixture&) = delete;
  broadcaster_fixture& operator=(const broadcaster_fixture&) = delete;

  static actors::broadcaster_config config_of(core::channel_options options,
                                              unsigned max_rounds_in_flight) {
    actors::broadcaster_config config;
    config.namespaces = std::make_shared<const core::channel_namespaces>(options);
    config.max_rounds_in_flight = max_rounds_in_flight;
    return config;
  }

  // A connection actor for a new sink, not yet known to the broadcaster.
  std::size_t spawn_connection() {
    sinks.push_back(std::make_shared<recording_sink>());
    sinks.back()->via = route_of_new_sinks;
    connections.push_back(sys.system.spawn(actors::connection, broadcaster,
                                           std::weak_ptr<actors::session_sink>{sinks.back()}));
    return connections.size() - 1;
  }

  // The session the broadcaster is given for connection `index`.
  std::weak_ptr<actors::session_sink> session_of(std::size_t index) const { return sinks[index]; }

  // A /ws connection, subscribed as hub::connect does: from the caller, so
  // the subscription is queued before anything the test sends next. Runs
  // nothing.
  std::size_t seed_subscriber(const std::string& channel) {
    const std::size_t index = spawn_connection();
    caf::anon_send(broadcaster, actors::subscribe_atom::value, channel, connections[index],
                   session_of(index));
    return index;
  }

  // A client-protocol connection, announced as hub::connect_client does,
  // then connected as its session does after a successful connect command;
  // runs, and forgets the connect reply, so that a test sees what follows.
  std::size_t client(std::string client_id, std::string user, std::string conn_info = {}) {
    const std::size_t index = spawn_connection();
    caf::anon_send(broadcaster, actors::announce_atom::value, connections[index],
                   session_of(index));
    core::connect_request connect;
    connect.id = 1;
    connect.identity =
        core::client_identity{std::move(client_id), std::move(user), std::move(conn_info)};
    caf::anon_send(connections[index], actors::connect_atom::value, std::move(connect));
    sys.run();
    sink(index).clear();
    return index;
  }

  // What the session sends through its connection actor; each runs.
  void join(std::size_t who, const std::string& channel, core::subscription_request request) {
    caf::anon_send(connections[who], actors::join_atom::value, channel, std::move(request));
    sys.run();
  }
  void leave(std::size_t who, const std::string& channel) {
    caf::anon_send(connections[who], actors::unsubscribe_atom::value, channel);
    sys.run();
  }
  void query(std::size_t who, const std::string& channel, core::channel_query request) {
    caf::anon_send(connections[who], actors::query_atom::value, channel, std::move(request));
    sys.run();
  }
  void client_publish(std::size_t who, const std::string& channel, std::string data,
                      std::uint32_t id) {
    caf::anon_send(connections[who], actors::publish_atom::value, channel,
                   core::make_publication(std::move(data)), id);
    sys.run();
  }

  // A /ws client's publication, from a publisher connection of the
  // fixture's own (made at the first call, subscribed to nothing; its sink
  // gets the acknowledgements), queued at the broadcaster; runs nothing.
  void publish(const std::string& channel, core::publication_ptr publication) {
    if (!publisher_sink) {
      publisher_sink = std::make_shared<recording_sink>();
      publisher = sys.system.spawn(actors::connection, broadcaster,
                                   std::weak_ptr<actors::session_sink>{publisher_sink});
    }
    caf::anon_send(broadcaster, actors::publish_atom::value, channel, std::move(publication),
                   publisher);
  }

  // A server API request; returns the response body.
  std::string call(core::server_api::request request) {
    std::string body;
    caf::anon_send(broadcaster, actors::api_atom::value,
                   actors::api_call{{std::move(request)},
                                    [&body](std::string reply) { body = std::move(reply); }});
    sys.run();
    return body;
  }

  std::size_t run() { return sys.run(); }

  recording_sink& sink(std::size_t who) { return *sinks.at(who); }

  // The JSON messages connection `who` received, newline-batched ones split.
  std::vector<boost::json::value> messages(std::size_t who) {
    std::vector<boost::json::value> out;
    for (const auto& frame : sink(who).received()) {
      const std::string text = payload_of(frame);
      std::size_t start = 0;
      while (start <= text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        out.push_back(boost::json::parse(text.substr(start, end - start)));
        start = end + 1;
      }
    }
    return out;
  }

  deterministic_system sys;
  std::shared_ptr<actors::broadcast_counters> counters;
  actors::broadcaster_actor broadcaster;
  std::vector<actors::connection_actor> connections;
  std::vector<std::shared_ptr<recording_sink>> sinks;
  // The route the sinks made from here on give (none: one hand-over each).
  actors::delivery_route* route_of_new_sinks = nullptr;
  actors::connection_actor publisher;  // publish()'s
  std::shared_ptr<recording_sink> publisher_sink;
};

}  // namespace herald::test
