#pragma once

#include <memory>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace herald::net {

// A TLS connection: OpenSSL's session over the TCP stream, whose timeouts
// bound the handshake and the HTTP requests. It moves from the HTTP
// session to the WebSocket session whole, session state included.
using tls_stream = boost::asio::ssl::stream<boost::beast::tcp_stream>;

// What an HTTP session hands to the WebSocket session it upgrades to: the
// plain socket, or (TLS) the stream holding it.
struct accepted_stream {
  boost::asio::ip::tcp::socket socket;
  std::unique_ptr<tls_stream> tls;  // null: plain

  explicit accepted_stream(boost::asio::ip::tcp::socket&& plain) : socket(std::move(plain)) {}
  explicit accepted_stream(std::unique_ptr<tls_stream> secure)
      : socket(secure->get_executor()), tls(std::move(secure)) {}
};

}  // namespace herald::net
