#include "herald/actors/hub.hpp"

#include <caf/all.hpp>

#include "caf_handoff.hpp"
#include "herald/actors/broadcaster.hpp"
#include "herald/actors/connection_actor.hpp"

namespace herald::actors {

connection_handle::connection_handle(connection_handle&& other) noexcept : actor_(other.actor_) {
  other.actor_ = nullptr;
}

connection_handle& connection_handle::operator=(connection_handle&& other) noexcept {
  if (this != &other) {
    close();
    actor_ = other.actor_;
    other.actor_ = nullptr;
  }
  return *this;
}

connection_handle::~connection_handle() {
  close();
}

template <class... Message>
void connection_handle::send(Message&&... message) const {
  if (actor_ != nullptr) {
    release_to_caf();
    caf::anon_send(caf::actor_cast<connection_actor>(actor_), std::forward<Message>(message)...);
  }
}

void connection_handle::publish(std::string channel, core::publication_ptr publication) const {
  send(publish_atom::value, std::move(channel), std::move(publication));
}

void connection_handle::publish(std::string channel, core::publication_ptr publication,
                                std::uint32_t id) const {
  send(publish_atom::value, std::move(channel), std::move(publication), id);
}

void connection_handle::connect(core::connect_request request) const {
  send(connect_atom::value, std::move(request));
}

void connection_handle::join(std::string channel, core::subscription_request request) const {
  send(join_atom::value, std::move(channel), std::move(request));
}

void connection_handle::leave(std::string channel) const {
  send(unsubscribe_atom::value, std::move(channel));
}

void connection_handle::query(std::string channel, core::channel_query query) const {
  send(query_atom::value, std::move(channel), std::move(query));
}

void connection_handle::close() {
  if (actor_ == nullptr) {
    return;
  }
  // Adopt the reference this handle owned, so it is released on return.
  connection_actor handle = caf::actor_cast<connection_actor>(caf::strong_actor_ptr{actor_, false});
  actor_ = nullptr;
  caf::anon_send(handle, close_atom::value);
}

struct hub::impl {
  caf::actor_system& system;
  std::shared_ptr<broadcast_counters> counters;
  broadcaster_actor broadcaster;
};

hub::hub(caf::actor_system& system, broadcaster_config config) {
  auto counters = config.counters;
  auto actor = spawn_broadcaster(system, std::move(config));
  impl_ = std::make_unique<impl>(impl{system, std::move(counters), std::move(actor)});
}

const broadcast_counters& hub::counters() const {
  return *impl_->counters;
}

hub::~hub() {
  stop();
  // Destroyed after the actor system's await_all_actors_done(): what the
  // broadcaster wrote last, before it quit, is ours to free.
  acquire_from_caf();
}

connection_handle hub::connect(std::weak_ptr<session_sink> sink, const std::string& channel) {
  connection_actor actor = impl_->system.spawn(connection, impl_->broadcaster, sink);
  // Subscribe from the caller's thread, not from the actor's start: the
  // request is in the broadcaster's mailbox before this returns, so anything
  // published after the caller goes on (after the 101 reaches the client)
  // is queued behind it and reaches the new client.
  release_to_caf();
  caf::anon_send(impl_->broadcaster, subscribe_atom::value, channel, actor, std::move(sink));
  // Transfer one strong reference into the handle.
  caf::strong_actor_ptr strong = caf::actor_cast<caf::strong_actor_ptr>(std::move(actor));
  return connection_handle{strong.release()};
}

connection_handle hub::connect_client(std::weak_ptr<session_sink> sink) {
  connection_actor actor = impl_->system.spawn(connection, impl_->broadcaster, sink);
  // Known to the broadcaster from now on, so that its close_atom at
  // shutdown reaches a session that never sent connect.
  release_to_caf();
  caf::anon_send(impl_->broadcaster, announce_atom::value, actor, std::move(sink));
  caf::strong_actor_ptr strong = caf::actor_cast<caf::strong_actor_ptr>(std::move(actor));
  return connection_handle{strong.release()};
}

void hub::call_api(api_call call) const {
  if (impl_->broadcaster) {
    release_to_caf();
    caf::anon_send(impl_->broadcaster, api_atom::value, std::move(call));
  }
}

void hub::stop() {
  if (impl_ && impl_->broadcaster) {
    caf::anon_send(impl_->broadcaster, close_atom::value);
    impl_->broadcaster = nullptr;
  }
}

}  // namespace herald::actors
