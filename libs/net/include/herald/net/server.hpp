#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "herald/actors/hub.hpp"
#include "herald/core/settings.hpp"

namespace herald::net {

// The transport: a listener, one I/O thread per worker, HTTP and WebSocket
// sessions. No Beast type in this header, so main() builds quickly.
// Destroy it only after hub.stop(): until then connection actors may hand
// deliveries to its I/O threads' write schedulers.
class server {
 public:
  server(const core::settings& settings, actors::hub& hub);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // The name this node's dashboard figures carry (`dashboard = true`);
  // call before start().
  void set_node_name(std::string name);

  // Binds and starts serving. Returns an error line on failure (nothing is
  // left running then).
  std::string start();

  // The bound address and port ("127.0.0.1:PORT"), port 0 resolved.
  std::string local_endpoint() const;

  // Graceful stop: /health answers 503 and upgrades are refused; every
  // WebSocket client gets its queued frames, then close 1001 (/ws) or 3001
  // (client protocol); sessions still open after shutdown-timeout are cut.
  // Returns when the I/O threads have stopped. The I/O contexts (and sessions
  // still referenced by pending handlers) live on until the server is
  // destroyed, so an actor that still delivers to a session posts into a
  // context that exists: destroy the server only after every actor is done.
  void shutdown();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace herald::net
