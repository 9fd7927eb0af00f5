#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include "server_context.hpp"
#include "tls_context.hpp"

namespace herald::net {

// Accepts TCP connections and spreads them round-robin over the workers'
// I/O contexts, where each one's HTTP session then lives. With a TLS
// context, every connection speaks TLS.
class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(boost::asio::io_context& accept_context,
           std::vector<boost::asio::io_context*> worker_contexts, server_context& ctx,
           std::shared_ptr<const tls_context> tls = nullptr);

  // Opens, binds and listens; returns the error, if any.
  boost::beast::error_code open(const boost::asio::ip::tcp::endpoint& endpoint);

  boost::asio::ip::tcp::endpoint local_endpoint() const;

  void run();

  // Stops accepting; thread-safe.
  void stop();

 private:
  void do_accept();
  void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& accept_context_;
  std::vector<boost::asio::io_context*> worker_contexts_;
  std::size_t next_worker_ = 0;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_;
  server_context& ctx_;
  std::shared_ptr<const tls_context> tls_;
};

}  // namespace herald::net
