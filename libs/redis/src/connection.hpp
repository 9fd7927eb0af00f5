#pragma once

// One TCP connection to one Redis, on the engine's io_context (one thread,
// so nothing here locks). It connects, authenticates and selects the
// database, and reconnects with backoff whenever the connection is lost.
// Commands are pipelined: what is queued before the connection gets to
// write goes out in one write, and replies are matched to their handlers in
// order. A command with no reply within io_timeout, or a connection that
// does not answer a PING for as long, counts as lost.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "herald/core/resp_value.hpp"
#include "herald/redis/server_address.hpp"
#include "resp_reader.hpp"

namespace herald::redis {

struct connection_settings {
  server_address address;
  std::string user;      // empty: AUTH with the password alone
  std::string password;  // empty: no AUTH
  unsigned db = 0;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds io_timeout{4000};
};

// A command's reply, or nullopt when the connection was lost before it came
// (or was down when the command was made).
using reply_handler = std::function<void(std::optional<core::resp_value>)>;

// Encodes one command as RESP (hiredis' formatter).
std::string encode_command(const std::vector<std::string_view>& arguments);

class connection {
 public:
  struct callbacks {
    // Connected, authenticated and selected: commands may go.
    std::function<void()> ready;
    // Lost (or a connect failed) with the reason; it retries by itself.
    std::function<void(const std::string& why)> lost;
    // A reply no command waits for: what a subscribed connection receives.
    std::function<void(core::resp_value&&)> push;
    // After the replies of one read were handed out.
    std::function<void()> read_done;
  };

  connection(boost::asio::io_context& io, connection_settings settings, callbacks on);
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  void start();
  void stop();

  bool ready() const { return phase_ == phase::ready; }

  // Queues a command; `on_reply` (may be empty: the reply is dropped) runs
  // on this thread. While not ready it gets nullopt at once.
  void command(std::string encoded, reply_handler on_reply);
  // Queues a command whose reply (if any) arrives through callbacks::push:
  // SUBSCRIBE, UNSUBSCRIBE and PING on a subscribed connection.
  void send(std::string encoded);

  std::uint64_t reconnects() const { return reconnects_; }
  std::uint64_t commands() const { return commands_; }
  // Writes to the socket: commands() / writes() is how many commands a
  // write carries on average (the pipelining).
  std::uint64_t writes() const { return writes_; }
  // Round trip of the last command answered, in microseconds.
  std::uint64_t round_trip_us() const { return round_trip_us_; }

 private:
  enum class phase { stopped, waiting, connecting, handshake, ready };
  struct pending {
    reply_handler on_reply;
    std::chrono::steady_clock::time_point sent;
  };

  void connect();
  void on_connected();
  void fail(const std::string& why);
  void queue(std::string encoded);
  void write();
  void read();
  void dispatch(core::resp_value&& reply);
  void watch();

  boost::asio::io_context& io_;
  connection_settings settings_;
  callbacks on_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;     // connect timeout, reconnect backoff
  boost::asio::steady_timer watchdog_;  // reply timeouts and keep-alive pings
  phase phase_ = phase::stopped;
  std::uint64_t generation_ = 0;  // bumped per connection; stale handlers see it changed
  std::unique_ptr<resp_reader> reader_ = std::make_unique<resp_reader>();
  std::vector<char> read_buffer_;
  std::string outgoing_;  // queued, not yet written
  std::string writing_;   // being written
  bool write_scheduled_ = false;
  std::deque<pending> waiting_;  // replies due, in order
  std::size_t handshake_replies_ = 0;
  std::chrono::steady_clock::time_point last_read_{};
  std::chrono::steady_clock::time_point ping_sent_{};  // zero: none outstanding
  std::chrono::milliseconds backoff_{0};
  std::minstd_rand jitter_{std::random_device{}()};
  std::uint64_t reconnects_ = 0;
  std::uint64_t commands_ = 0;
  std::uint64_t writes_ = 0;
  std::uint64_t round_trip_us_ = 0;
};

}  // namespace herald::redis
