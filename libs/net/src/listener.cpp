#include "listener.hpp"

#include <iostream>

#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "connection_log.hpp"
#include "http_session.hpp"

namespace herald::net {

listener::listener(boost::asio::io_context& accept_context,
                   std::vector<boost::asio::io_context*> worker_contexts, server_context& ctx,
                   std::shared_ptr<const tls_context> tls)
    : accept_context_(accept_context),
      worker_contexts_(std::move(worker_contexts)),
      acceptor_(accept_context),
      backoff_(accept_context),
      ctx_(ctx),
      tls_(std::move(tls)) {}

boost::beast::error_code listener::open(const boost::asio::ip::tcp::endpoint& endpoint) {
  boost::beast::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    boost::beast::error_code ignored;
    acceptor_.close(ignored);
  }
  return ec;
}

boost::asio::ip::tcp::endpoint listener::local_endpoint() const {
  return acceptor_.local_endpoint();
}

void listener::run() {
  boost::asio::post(accept_context_,
                    boost::beast::bind_front_handler(&listener::do_accept, shared_from_this()));
}

void listener::stop() {
  boost::asio::post(accept_context_, [self = shared_from_this()] {
    boost::beast::error_code ignored;
    self->acceptor_.close(ignored);
    self->backoff_.cancel();
  });
}

void listener::do_accept() {
  if (!acceptor_.is_open()) {
    return;
  }
  auto& target = *worker_contexts_[next_worker_];
  next_worker_ = (next_worker_ + 1) % worker_contexts_.size();
  acceptor_.async_accept(
      target, boost::beast::bind_front_handler(&listener::on_accept, shared_from_this()));
}

void listener::on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket) {
  if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) {
    return;
  }
  if (ec && ec != boost::asio::error::connection_aborted) {
    // Out of file descriptors (process or system) or another persistent
    // failure: back off instead of spinning; connections wait in the
    // kernel's backlog meanwhile.
    constexpr std::chrono::milliseconds backoff{50};
    connection_log::accept_failed(ec, backoff);
    backoff_.expires_after(backoff);
    backoff_.async_wait([self = shared_from_this()](boost::beast::error_code wait_ec) {
      if (!wait_ec) {
        self->do_accept();
      }
    });
    return;
  }
  if (!ec) {
    ctx_.counters.accepted_tcp.fetch_add(1, std::memory_order_relaxed);
    boost::beast::error_code ignored;
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
    if (!tls_) {
      std::make_shared<http_session>(std::move(socket), ctx_)->run();
    } else if (SSL* session = tls_->new_session()) {
      auto stream = std::make_unique<tls_stream>(std::move(socket), session);
      std::make_shared<http_session>(std::move(stream), ctx_)->run();
    }  // else OpenSSL is out of memory: the socket closes here
  }
  do_accept();
}

}  // namespace herald::net
