#include "message_inflater.hpp"

#include <algorithm>

namespace herald::bench {

namespace {

// A message's sender drops the empty stored block that ends its sync flush
// (RFC 7692 section 7.2.1); the receiver appends it again.
constexpr unsigned char sync_flush_tail[4] = {0x00, 0x00, 0xff, 0xff};

// The shared output buffer starts here and doubles: typical messages fit at
// once, and the buffer keeps its size, so steady state allocates nothing.
constexpr std::size_t first_output_bytes = 64 * 1024;

// Raw deflate (no zlib header or checksum, as the extension sends it) with
// the largest window: whatever window the server compresses with, at most
// 2^15 (its server_max_window_bits, if any, only makes it smaller), its
// back references stay inside this one.
constexpr int raw_deflate_window_bits = -15;

}  // namespace

std::unique_ptr<message_inflater> message_inflater::create(bool keep_context) {
  std::unique_ptr<message_inflater> inflater(new message_inflater(keep_context));
  if (inflateInit2(&inflater->stream_, raw_deflate_window_bits) != Z_OK) {
    return nullptr;
  }
  return inflater;
}

message_inflater::~message_inflater() {
  inflateEnd(&stream_);
}

message_inflater::status message_inflater::inflate(std::string_view compressed, bool last,
                                                   std::vector<char>& out, std::string_view& text) {
  std::size_t produced = 0;
  status result = feed(reinterpret_cast<const unsigned char*>(compressed.data()), compressed.size(),
                       out, produced);
  if (result == status::ok && last) {
    result = feed(sync_flush_tail, sizeof sync_flush_tail, out, produced);
  }
  if (result != status::ok) {
    return result;
  }
  text = std::string_view(out.data(), produced);
  if (last && (!keep_context_ || stream_ended_)) {
    // Keeps the allocated window: a reset is a few stores, not a new stream.
    inflateReset(&stream_);
    stream_ended_ = false;
  }
  return status::ok;
}

message_inflater::status message_inflater::feed(const unsigned char* data, std::size_t size,
                                                std::vector<char>& out, std::size_t& produced) {
  // zlib never writes through next_in; it is only declared without const.
  stream_.next_in = const_cast<Bytef*>(data);
  // Frames are capped at 256 MiB (client_connection), far below uInt's range.
  stream_.avail_in = static_cast<uInt>(size);
  while (!stream_ended_) {
    if (produced == out.size()) {
      if (out.size() >= max_message_bytes) {
        return status::too_big;
      }
      out.resize(std::min(max_message_bytes, std::max(first_output_bytes, out.size() * 2)));
    }
    stream_.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    stream_.avail_out = static_cast<uInt>(out.size() - produced);
    int code = ::inflate(&stream_, Z_SYNC_FLUSH);
    produced = out.size() - stream_.avail_out;
    if (code == Z_STREAM_END) {
      stream_ended_ = true;
    } else if (code != Z_OK && code != Z_BUF_ERROR) {
      return status::corrupt;  // Z_DATA_ERROR, Z_MEM_ERROR...
    } else if (stream_.avail_out != 0) {
      // inflate() stops when it runs out of input or of room: room is left,
      // so this input is done.
      return status::ok;
    }
  }
  return status::ok;
}

}  // namespace herald::bench
