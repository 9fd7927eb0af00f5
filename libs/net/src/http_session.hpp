#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message_generator.hpp>
#include <boost/beast/http/parser.hpp>

#include "accepted_stream.hpp"
#include "http_responses.hpp"
#include "server_context.hpp"

namespace herald::net {

// One HTTP/1.1 connection: reads requests (headers bounded, 431 beyond),
// routes /ws and /connection/websocket upgrades to their sessions, hands
// /api/<method> to the server API, and answers /health, /metrics and static
// files, with keep-alive. Over TLS it completes the handshake first (within
// handshake-timeout) and speaks the same HTTP through it.
class http_session : public std::enable_shared_from_this<http_session> {
 public:
  http_session(boost::asio::ip::tcp::socket&& socket, server_context& ctx);
  http_session(std::unique_ptr<tls_stream> stream, server_context& ctx);
  ~http_session();
  http_session(const http_session&) = delete;
  http_session& operator=(const http_session&) = delete;

  void run();

 private:
  void on_handshake(boost::beast::error_code ec);
  void do_read();
  void on_header(boost::beast::error_code ec, std::size_t bytes);
  void read_body();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void route(request&& req);
  void upgrade(request&& req, bool client_protocol);
  // POST /api/<method>, or the legacy POST /api (no method); answered
  // through send(), maybe later.
  void serve_api_request(request&& req, std::optional<std::string_view> method);
  void send(http::message_generator&& response, bool keep_alive);
  void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  void do_close();
  void drain_input();
  bool from_loopback();
  // The client's IP address as text, IPv4-mapped IPv6 as IPv4; "" unknown.
  std::string peer_address();

  // Runs `operation` on the stream HTTP is spoken on: the TLS stream, or
  // the plain one.
  template <class Operation>
  void with_stream(Operation&& operation) {
    if (tls_) {
      operation(*tls_);
    } else {
      operation(stream_);
    }
  }
  // The TCP stream, under TLS or not: its deadline and its socket.
  boost::beast::tcp_stream& tcp() { return tls_ ? tls_->next_layer() : stream_; }

  boost::beast::tcp_stream stream_;  // plain; unused (closed) under TLS
  std::unique_ptr<tls_stream> tls_;  // null: plain
  boost::beast::flat_buffer buffer_;
  server_context& ctx_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace herald::net
