#pragma once

#include <zlib.h>

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace herald::bench {

// Inflates the compressed messages one connection receives
// (permessage-deflate, RFC 7692 section 7.2.2), with zlib's raw inflate.
// Made only for a connection that negotiated the extension: its zlib state
// (about 7 KiB, and the 32 KiB window once data arrives) is the price of
// compression, and a connection without it pays nothing.
class message_inflater {
 public:
  // `keep_context`: the server compresses with context takeover (it did not
  // send server_no_context_takeover), so a message may refer to bytes of the
  // ones before it and the window must outlive each message. Otherwise the
  // inflater starts every message afresh. Null if zlib has no memory.
  static std::unique_ptr<message_inflater> create(bool keep_context);

  ~message_inflater();
  message_inflater(const message_inflater&) = delete;
  message_inflater& operator=(const message_inflater&) = delete;

  enum class status { ok, too_big, corrupt };

  // Inflates one frame of a compressed message; `last` when the frame ends
  // the message, which puts back the 00 00 ff ff its sender removed. The
  // frame's text is written to the start of `out`, which grows as needed up
  // to max_message_bytes and is shared by every connection (one inflated
  // message at a time); `text` views it. After `too_big` or `corrupt` the
  // inflater is unusable and the connection must close.
  status inflate(std::string_view compressed, bool last, std::vector<char>& out,
                 std::string_view& text);

  // The most one frame may inflate to: a bound on what a hostile or broken
  // server can make the bench allocate (a few KiB of deflate data can
  // inflate to gigabytes).
  static constexpr std::size_t max_message_bytes = std::size_t{16} << 20;

 private:
  explicit message_inflater(bool keep_context) : keep_context_(keep_context) {}
  // Feeds `size` bytes to zlib, writing after the `produced` bytes of `out`.
  status feed(const unsigned char* data, std::size_t size, std::vector<char>& out,
              std::size_t& produced);

  z_stream stream_{};
  bool keep_context_;
  // The server ended its deflate stream (a final block): nothing more comes
  // out of this one, whatever follows starts a new stream.
  bool stream_ended_ = false;
};

}  // namespace herald::bench
