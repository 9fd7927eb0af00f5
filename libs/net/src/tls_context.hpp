#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "herald/core/settings.hpp"

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;

namespace herald::net {

// The server's TLS configuration: tls-cert and tls-key loaded into an
// OpenSSL context with TLS 1.2 as the minimum, forward-secret AEAD ciphers
// only, and ALPN http/1.1. No Beast or Asio here: the listener asks it for
// one SSL object per accepted connection.
//
// reload() swaps in a context made from the files as they are now, for the
// handshakes that follow; connections already made keep the context they
// started with (OpenSSL counts its references), so none is dropped. A bad
// new file leaves the old context in place.
class tls_context {
 public:
  // What loading found: a config_error stops the server (exit 2); warnings
  // (an expired certificate, one not valid yet) do not.
  struct outcome {
    std::optional<core::config_error> error;
    std::vector<std::string> warnings;
  };

  // Loads the files named by the settings (both must be set).
  static std::variant<std::shared_ptr<tls_context>, core::config_error> load(
      const core::settings& settings, std::vector<std::string>& warnings);

  // Checks the files without keeping anything: --check-config.
  static outcome check(const core::settings& settings);

  outcome reload();

  // A server-side SSL object on the current certificate, owned by the
  // caller (null only when OpenSSL is out of memory).
  SSL* new_session() const;

 private:
  using context_ptr = std::shared_ptr<SSL_CTX>;
  tls_context(std::string cert_path, std::string key_path, context_ptr context);
  static std::variant<context_ptr, core::config_error> make_context(
      const std::string& cert_path, const std::string& key_path,
      std::vector<std::string>& warnings);

  const std::string cert_path_;
  const std::string key_path_;
  mutable std::mutex mutex_;
  context_ptr current_;
};

}  // namespace herald::net
