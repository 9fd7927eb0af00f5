#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "herald/actors/api_call.hpp"
#include "herald/actors/broadcast_counters.hpp"
#include "herald/actors/session_sink.hpp"
#include "herald/core/channel_options.hpp"
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

  // Forwards a client's publication through the connection actor, so one
  // client's messages reach the broadcaster in the order they were sent.
  void publish(std::string channel, core::publication_ptr publication) const;

  // Client protocol: who the client is, once its connect succeeded; sent
  // before its first join.
  void identify(core::client_identity identity) const;

  // Client protocol: a connect with server-side subscriptions; the connect
  // reply arrives as a delivery (after the identity, before any push).
  void connect_with(core::connect_reply_request request) const;

  // Client protocol: subscribes to `channel`; the subscribe reply (with the
  // recovered publications) arrives as a delivery, before the channel's
  // publications.
  void join(std::string channel, core::join_request request) const;

  // Client protocol: leaves `channel`.
  void leave(std::string channel) const;

  // Client protocol: presence, presence_stats or history of `channel`; the
  // reply arrives as a delivery.
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
  // `namespaces` gives each channel its options (history, ...); a channel's
  // history metadata (epoch, offset) is forgotten `history_meta_ttl` after
  // its last use (0: kept for the process's life). At most
  // `max_rounds_in_flight` broadcaster rounds are being written at once
  // (round_ticket; the server passes its I/O thread count).
  hub(caf::actor_system& system, core::channel_namespaces namespaces,
      std::chrono::seconds history_meta_ttl = std::chrono::seconds{0},
      unsigned max_rounds_in_flight = 1);
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
