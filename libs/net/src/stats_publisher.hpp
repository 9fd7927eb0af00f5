#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "herald/core/metrics.hpp"
#include "server_context.hpp"

namespace herald::net {

// With `dashboard = true`: once a second, this node's figures as a stats
// document (core::encode_stats_document) on the dashboard's channel,
// published through the broadcaster as the server API publishes, so that
// the engine carries it to every node's subscribers (with engine = redis,
// one document per node per second). Runs on one of the server's I/O
// contexts; lives while its timer is pending.
class stats_publisher : public std::enable_shared_from_this<stats_publisher> {
 public:
  stats_publisher(boost::asio::io_context& io, server_context& ctx, std::string node_name);

  void start();
  // Cancels the timer (posted onto its context).
  void stop();

 private:
  void schedule();
  void on_tick(boost::system::error_code ec);

  boost::asio::steady_timer timer_;
  server_context& ctx_;
  std::string node_name_;
  core::metrics_snapshot previous_;
  std::chrono::steady_clock::time_point previous_at_;
  std::chrono::steady_clock::time_point next_;
};

}  // namespace herald::net
