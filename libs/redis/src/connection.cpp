#include "connection.hpp"

#include <algorithm>

#include <hiredis/hiredis.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace herald::redis {
namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds first_backoff{100};
constexpr std::chrono::milliseconds most_backoff{3000};
constexpr std::size_t read_size = 64 * 1024;

}  // namespace

std::string encode_command(const std::vector<std::string_view>& arguments) {
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  pointers.reserve(arguments.size());
  lengths.reserve(arguments.size());
  for (const auto& argument : arguments) {
    pointers.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  char* formatted = nullptr;
  const int length = redisFormatCommandArgv(&formatted, static_cast<int>(arguments.size()),
                                            pointers.data(), lengths.data());
  if (length < 0) {
    throw std::bad_alloc{};
  }
  std::string encoded{formatted, static_cast<std::size_t>(length)};
  redisFreeCommand(formatted);
  return encoded;
}

connection::connection(asio::io_context& io, connection_settings settings, callbacks on)
    : io_(io),
      settings_(std::move(settings)),
      on_(std::move(on)),
      resolver_(io),
      socket_(io),
      timer_(io),
      watchdog_(io),
      read_buffer_(read_size) {}

void connection::start() {
  if (phase_ == phase::stopped) {
    connect();
    watch();
  }
}

void connection::stop() {
  phase_ = phase::stopped;
  ++generation_;
  resolver_.cancel();
  timer_.cancel();
  watchdog_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& entry : waiting) {
    if (entry.on_reply) {
      entry.on_reply(std::nullopt);
    }
  }
}

void connection::connect() {
  phase_ = phase::connecting;
  const std::uint64_t generation = ++generation_;
  timer_.expires_after(settings_.connect_timeout);
  timer_.async_wait([this, generation](const boost::system::error_code& error) {
    if (!error && generation == generation_ && phase_ == phase::connecting) {
      fail("no connection within redis-connect-timeout");
    }
  });
  resolver_.async_resolve(
      settings_.address.host, std::to_string(settings_.address.port),
      [this, generation](const boost::system::error_code& error,
                         asio::ip::tcp::resolver::results_type endpoints) {
        if (generation != generation_) {
          return;
        }
        if (error) {
          fail("cannot resolve " + settings_.address.host + ": " + error.message());
          return;
        }
        asio::async_connect(socket_, endpoints,
                            [this, generation](const boost::system::error_code& error,
                                               const asio::ip::tcp::endpoint&) {
                              if (generation != generation_) {
                                return;
                              }
                              if (error) {
                                fail("cannot connect: " + error.message());
                                return;
                              }
                              on_connected();
                            });
      });
}

void connection::on_connected() {
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  phase_ = phase::handshake;
  reader_ = std::make_unique<resp_reader>();
  last_read_ = clock::now();
  ping_sent_ = {};
  read();
  // AUTH and SELECT go first; the connection is ready when both said OK.
  std::vector<std::string> handshake;
  if (!settings_.password.empty()) {
    handshake.push_back(settings_.user.empty()
                            ? encode_command({"AUTH", settings_.password})
                            : encode_command({"AUTH", settings_.user, settings_.password}));
  }
  if (settings_.db != 0) {
    handshake.push_back(encode_command({"SELECT", std::to_string(settings_.db)}));
  }
  handshake.push_back(encode_command({"PING"}));  // proves the server answers at all
  handshake_replies_ = handshake.size();
  const std::uint64_t generation = generation_;
  for (auto& encoded : handshake) {
    queue(std::move(encoded));
    waiting_.push_back(pending{[this, generation](std::optional<core::resp_value> reply) {
                                 if (generation != generation_) {
                                   return;
                                 }
                                 if (!reply || reply->is_error()) {
                                   fail(reply ? "refused: " + reply->text : "lost during set-up");
                                   return;
                                 }
                                 if (--handshake_replies_ == 0) {
                                   phase_ = phase::ready;
                                   backoff_ = std::chrono::milliseconds{0};
                                   if (on_.ready) {
                                     on_.ready();
                                   }
                                 }
                               },
                               clock::now()});
  }
}

void connection::fail(const std::string& why) {
  if (phase_ == phase::stopped || phase_ == phase::waiting) {
    return;
  }
  const bool was_ready = phase_ == phase::ready;
  phase_ = phase::waiting;
  ++generation_;
  if (was_ready) {
    ++reconnects_;
  }
  resolver_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
  outgoing_.clear();
  writing_.clear();
  write_scheduled_ = false;
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& entry : waiting) {
    if (entry.on_reply) {
      entry.on_reply(std::nullopt);
    }
  }
  if (on_.lost) {
    on_.lost(why);
  }
  // Backoff with jitter, so that nodes that lost one Redis together do
  // not all come back in the same millisecond.
  backoff_ = std::clamp(backoff_ * 2, first_backoff, most_backoff);
  std::uniform_int_distribution<long> spread(backoff_.count() / 2, backoff_.count());
  timer_.expires_after(std::chrono::milliseconds{spread(jitter_)});
  const std::uint64_t generation = generation_;
  timer_.async_wait([this, generation](const boost::system::error_code& error) {
    if (!error && generation == generation_ && phase_ == phase::waiting) {
      connect();
    }
  });
}

void connection::command(std::string encoded, reply_handler on_reply) {
  if (phase_ != phase::ready) {
    if (on_reply) {
      on_reply(std::nullopt);
    }
    return;
  }
  ++commands_;
  queue(std::move(encoded));
  waiting_.push_back(pending{std::move(on_reply), clock::now()});
}

void connection::send(std::string encoded) {
  if (phase_ == phase::ready) {
    ++commands_;
    queue(std::move(encoded));
  }
}

void connection::queue(std::string encoded) {
  outgoing_ += encoded;
  // Written once what is queued now has been: commands queued in the same
  // turn of the io_context (a broadcaster round's) go out in one write.
  if (!write_scheduled_ && writing_.empty()) {
    write_scheduled_ = true;
    const std::uint64_t generation = generation_;
    asio::post(io_, [this, generation] {
      if (generation == generation_) {
        write_scheduled_ = false;
        write();
      }
    });
  }
}

void connection::write() {
  if (!writing_.empty() || outgoing_.empty()) {
    return;
  }
  writing_.swap(outgoing_);
  ++writes_;
  const std::uint64_t generation = generation_;
  asio::async_write(socket_, asio::buffer(writing_),
                    [this, generation](const boost::system::error_code& error, std::size_t) {
                      if (generation != generation_) {
                        return;
                      }
                      if (error) {
                        fail("write failed: " + error.message());
                        return;
                      }
                      writing_.clear();
                      write();
                    });
}

void connection::read() {
  const std::uint64_t generation = generation_;
  socket_.async_read_some(asio::buffer(read_buffer_), [this, generation](
                                                          const boost::system::error_code& error,
                                                          std::size_t size) {
    if (generation != generation_) {
      return;
    }
    if (error) {
      fail(error == asio::error::eof ? "closed by the server" : "read failed: " + error.message());
      return;
    }
    last_read_ = clock::now();
    ping_sent_ = {};
    if (!reader_->feed(read_buffer_.data(), size)) {
      fail("bad reply: " + reader_->error());
      return;
    }
    while (auto reply = reader_->next()) {
      dispatch(std::move(*reply));
      if (generation != generation_) {
        return;  // a handler failed or stopped the connection
      }
    }
    if (reader_->failed()) {
      fail("bad reply: " + reader_->error());
      return;
    }
    if (on_.read_done) {
      on_.read_done();
    }
    if (generation == generation_) {
      read();
    }
  });
}

void connection::dispatch(core::resp_value&& reply) {
  if (!waiting_.empty()) {
    pending entry = std::move(waiting_.front());
    waiting_.pop_front();
    round_trip_us_ = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - entry.sent).count());
    if (entry.on_reply) {
      entry.on_reply(std::move(reply));
    }
    return;
  }
  if (on_.push) {
    on_.push(std::move(reply));
  }
  // A reply nobody waits for on a command connection is dropped: it can
  // only be a stray, and the order of the others still holds.
}

void connection::watch() {
  const auto tick = std::max(std::chrono::milliseconds{50}, settings_.io_timeout / 4);
  watchdog_.expires_after(tick);
  watchdog_.async_wait([this](const boost::system::error_code& error) {
    if (error || phase_ == phase::stopped) {
      return;
    }
    const auto now = clock::now();
    if (phase_ == phase::handshake || phase_ == phase::ready) {
      const bool reply_late =
          !waiting_.empty() && now - waiting_.front().sent > settings_.io_timeout;
      const bool ping_late =
          ping_sent_ != clock::time_point{} && now - ping_sent_ > settings_.io_timeout;
      if (reply_late || ping_late) {
        fail("no reply within redis-io-timeout");
      } else if (phase_ == phase::ready && waiting_.empty() && ping_sent_ == clock::time_point{} &&
                 now - last_read_ > settings_.io_timeout / 2) {
        // Quiet: prove the connection still stands.
        ping_sent_ = now;
        if (on_.push) {
          send(encode_command({"PING"}));
        } else {
          command(encode_command({"PING"}), nullptr);
        }
      }
    }
    watch();
  });
}

}  // namespace herald::redis
