#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "herald/actors/hub.hpp"
#include "herald/core/settings.hpp"

namespace herald::net {

// What tls-cert and tls-key hold, checked with OpenSSL before the server
// binds: a certificate and its key (else errors, exit 2, naming the key),
// and whether the certificate is in its validity period (warnings).
struct tls_check {
  std::vector<core::config_error> errors;
  std::vector<std::string> warnings;
};
tls_check check_tls_files(const core::settings& settings);

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
  // Where TLS is spoken (`port`'s own endpoint, or tls-port's); "" without
  // TLS.
  std::string tls_endpoint() const;

  // Reads tls-cert and tls-key again for the handshakes that follow (SIGHUP);
  // connections already made keep theirs. A bad file leaves the old
  // certificate in place: the result's errors say why.
  tls_check reload_tls();

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
