#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "herald/core/resp_value.hpp"

struct redisReader;

namespace herald::redis {

// hiredis' RESP parser, building core::resp_value trees instead of
// redisReply objects, so that the engine reads replies with the pure
// parsers of libs/core. Sans I/O: feed it what the socket read, then take
// whole replies. Guards a client against a Redis that sends what no
// command asks for: an array of more than max_elements, or more than
// max_buffered bytes not yet parsed, is a protocol error.
class resp_reader {
 public:
  static constexpr std::size_t max_elements = 1u << 20;
  static constexpr std::size_t default_max_buffered = 512u << 20;

  explicit resp_reader(std::size_t max_buffered = default_max_buffered);
  ~resp_reader();
  resp_reader(const resp_reader&) = delete;
  resp_reader& operator=(const resp_reader&) = delete;

  // False once the stream is broken (then error() says why).
  bool feed(const char* data, std::size_t size);
  // The next whole reply, or nullopt when more bytes are needed or on error.
  std::optional<core::resp_value> next();

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  redisReader* reader_;
  std::size_t max_buffered_;
  std::string error_;
};

}  // namespace herald::redis
