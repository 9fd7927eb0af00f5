#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "herald/actors/api_call.hpp"
#include "herald/actors/broadcaster_config.hpp"
#include "herald/actors/session_sink.hpp"
#include "herald/core/client_requests.hpp"
#include "herald/core/frame.hpp"

// No CAF header on purpose: the transport layer (Beast) includes this file,
// and a translation unit with both costs 1.3 GB and half a minute to build.
namespace caf {
class actor_system;
class actor_control_block;
}  // namespace caf

namespace herald::actors {

// A session's reference to its connection actor. Dropping it tells the actor
// to quit, which in turn drops its subscriptions.
class connection_handle {
 public:
  connection_handle() = default;
  connection_handle(connection_handle&& other) noexcept;
  connection_handle& operator=(connection_handle&& other) noexcept;
  connection_handle(const connection_handle&) = delete;
  connection_handle& operator=(const connection_handle&) = delete;
  ~connection_handle();

  // A /ws client's publication, through the connection actor, so that one
  // client's messages reach the broadcaster in the order they were sent.
  void publish(std::string channel, core::publication_ptr publication) const;

  // Client protocol. Each goes through the connection actor, in order; what
  // the broadcaster answers arrives as a delivery.
  // A publish command (`id`): checked by the broadcaster, which replies.
  void publish(std::string channel, core::publication_ptr publication, std::uint32_t id) const;
  // A connect that succeeded here (its token checked): the broadcaster makes
  // the client known, with any server-side subscriptions, and sends the
  // connect reply as a delivery, before any push.
  void connect(core::connect_request request) const;
  // A subscribe to `channel`; the reply (the subscription's outcome, with
  // any recovered publications) arrives before the channel's pushes.
  void join(std::string channel, core::subscription_request request) const;
  // An unsubscribe from `channel`.
  void leave(std::string channel) const;
  // presence, presence_stats or history of `channel`.
  void query(std::string channel, core::channel_query query) const;

  // Tells the actor to quit now; later calls do nothing.
  void close();

  explicit operator bool() const { return actor_ != nullptr; }

 private:
  friend class hub;
  explicit connection_handle(caf::actor_control_block* actor) : actor_(actor) {}
  // Sends `message` to the actor unless the handle is closed. Defined (and
  // only used) in hub.cpp, which includes CAF.
  template <class... Message>
  void send(Message&&... message) const;
  caf::actor_control_block* actor_ = nullptr;  // strong reference
};

// The actor side as the transport sees it: spawns connection actors wired to
// the broadcaster.
class hub {
 public:
  // Spawns the broadcaster with `config`.
  hub(caf::actor_system& system, broadcaster_config config);
  ~hub();
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  // Spawns a connection actor for `sink` and subscribes it to `channel`;
  // the subscription is queued at the broadcaster when this returns.
  connection_handle connect(std::weak_ptr<session_sink> sink, const std::string& channel);

  // Spawns a connection actor for a client-protocol session, subscribed to
  // nothing yet.
  connection_handle connect_client(std::weak_ptr<session_sink> sink);

  // Runs one server API request at the broadcaster; `call.reply` gets the
  // response body on the broadcaster's thread.
  void call_api(api_call call) const;

  // The broadcaster's figures, for /metrics; readable from any thread.
  const broadcast_counters& counters() const;

  // Stops the broadcaster, which first tells every connection actor to
  // quit; call once the I/O threads have stopped. Then
  // actor_system::await_all_actors_done() returns.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace herald::actors
