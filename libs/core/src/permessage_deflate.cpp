#include "herald/core/permessage_deflate.hpp"

#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <utility>

#include "websocket_frame_layout.hpp"

namespace herald::core {
namespace {

constexpr int full_window_bits = 15;  // 32 KiB, the most DEFLATE allows
// RFC 7692 7.2.1: a message's compressed bytes end with an empty stored
// block, which the sender removes and the receiver puts back.
constexpr std::array<char, 4> flush_tail{'\x00', '\x00', '\xff', '\xff'};
// zlib's avail_in and avail_out are 32-bit; a larger message goes plain.
constexpr std::size_t max_deflate_input = 1u << 30;
// A thread's compression buffer that grew past this for one message is
// freed after it.
constexpr std::size_t kept_scratch_capacity = 256 * 1024;
constexpr std::string_view deflate_response =
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
constexpr std::string_view deflate_response_with_window =
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
    "server_max_window_bits=15";

// One zlib deflater per thread, reset for every message: compressing
// allocates nothing per connection or per message.
class thread_deflater {
 public:
  thread_deflater() = default;
  thread_deflater(const thread_deflater&) = delete;
  thread_deflater& operator=(const thread_deflater&) = delete;
  ~thread_deflater() {
    if (level_ >= 0) {
      deflateEnd(&stream_);
    }
  }

  z_stream& ready_for(int level) {
    if (level_ == level) {
      deflateReset(&stream_);
      return stream_;
    }
    if (level_ >= 0) {
      deflateEnd(&stream_);
      level_ = -1;
    }
    stream_ = z_stream{};
    // Negative window bits: raw DEFLATE, no zlib header or checksum.
    if (deflateInit2(&stream_, level, Z_DEFLATED, -full_window_bits, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
      throw std::bad_alloc();
    }
    level_ = level;
    return stream_;
  }

 private:
  z_stream stream_{};
  int level_ = -1;  // not initialised
};

class thread_inflater {
 public:
  thread_inflater() = default;
  thread_inflater(const thread_inflater&) = delete;
  thread_inflater& operator=(const thread_inflater&) = delete;
  ~thread_inflater() {
    if (ready_) {
      inflateEnd(&stream_);
    }
  }

  z_stream& ready() {
    if (ready_) {
      inflateReset(&stream_);
      return stream_;
    }
    stream_ = z_stream{};
    if (inflateInit2(&stream_, -full_window_bits) != Z_OK) {
      throw std::bad_alloc();
    }
    ready_ = true;
    return stream_;
  }

 private:
  z_stream stream_{};
  bool ready_ = false;
};

// Extension parameter names are tokens, compared without case (as Beast's
// own negotiation does).
bool same_token(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

// The value of a *_max_window_bits parameter: 8 to 15, digits only.
std::optional<int> window_bits(std::string_view value) {
  if (value.empty() || value.size() > 2 || value.front() == '0') {
    return std::nullopt;  // RFC 7692 7.1.2: no leading zeros
  }
  int bits = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    bits = bits * 10 + (c - '0');
  }
  if (bits < 8 || bits > full_window_bits) {
    return std::nullopt;
  }
  return bits;
}

// Reads Sec-WebSocket-Extensions (RFC 6455 9.1):
//   extension-list = 1#( token *( OWS ";" OWS token [ "=" ( token / quoted-string ) ] ) )
// one extension, then its parameters, at a time. A quoted value is given
// without its quotes; one with a backslash escape is not accepted (no
// parameter of permessage-deflate needs it). After a syntax error, ok() is
// false and nothing more is read.
class extension_list_reader {
 public:
  using param = std::pair<std::string_view, std::optional<std::string_view>>;

  explicit extension_list_reader(std::string_view text) : text_(text) {}

  bool ok() const { return ok_; }

  std::optional<std::string_view> next_extension() {
    if (!ok_) {
      return std::nullopt;
    }
    // Empty list elements (",,") are allowed by the # rule.
    for (;;) {
      skip_spaces();
      if (at_ >= text_.size()) {
        return std::nullopt;
      }
      if (text_[at_] != ',') {
        break;
      }
      ++at_;
    }
    const auto name = token();
    if (!name) {
      ok_ = false;
    }
    return name;
  }

  std::optional<param> next_param() {
    if (!ok_) {
      return std::nullopt;
    }
    skip_spaces();
    if (at_ >= text_.size() || text_[at_] == ',') {
      return std::nullopt;
    }
    if (text_[at_] != ';') {
      ok_ = false;
      return std::nullopt;
    }
    ++at_;
    skip_spaces();
    const auto name = token();
    if (!name) {
      ok_ = false;
      return std::nullopt;
    }
    skip_spaces();
    if (at_ >= text_.size() || text_[at_] != '=') {
      return param{*name, std::nullopt};
    }
    ++at_;
    skip_spaces();
    const auto value = at_ < text_.size() && text_[at_] == '"' ? quoted() : token();
    if (!value) {
      ok_ = false;
      return std::nullopt;
    }
    return param{*name, value};
  }

 private:
  static bool is_token_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      return true;
    }
    return std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
  }

  void skip_spaces() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t')) {
      ++at_;
    }
  }

  std::optional<std::string_view> token() {
    const std::size_t start = at_;
    while (at_ < text_.size() && is_token_char(text_[at_])) {
      ++at_;
    }
    if (at_ == start) {
      return std::nullopt;
    }
    return text_.substr(start, at_ - start);
  }

  std::optional<std::string_view> quoted() {
    const std::size_t start = ++at_;  // past the opening quote
    while (at_ < text_.size() && text_[at_] != '"') {
      if (text_[at_] == '\\') {
        return std::nullopt;
      }
      ++at_;
    }
    if (at_ >= text_.size()) {
      return std::nullopt;
    }
    return text_.substr(start, at_++ - start);
  }

  std::string_view text_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

}  // namespace

std::optional<std::string_view> accept_deflate_offer(std::string_view extensions) {
  extension_list_reader list(extensions);
  while (const auto extension = list.next_extension()) {
    bool acceptable = same_token(*extension, "permessage-deflate");
    bool seen_server_context = false;
    bool seen_client_context = false;
    bool seen_server_bits = false;
    bool seen_client_bits = false;
    const auto once = [](bool& seen) {
      const bool first = !seen;
      seen = true;
      return first;
    };
    while (const auto param = list.next_param()) {
      if (!acceptable) {
        continue;  // read past the rest of an offer already declined
      }
      const auto& [name, value] = *param;
      if (same_token(name, "server_no_context_takeover")) {
        acceptable = once(seen_server_context) && !value;
      } else if (same_token(name, "client_no_context_takeover")) {
        acceptable = once(seen_client_context) && !value;
      } else if (same_token(name, "server_max_window_bits")) {
        // Herald's compressed bytes are made once for everyone, with the
        // full window: a client that needs a smaller one gets plain frames.
        acceptable = once(seen_server_bits) && value && window_bits(*value) == full_window_bits;
      } else if (same_token(name, "client_max_window_bits")) {
        acceptable = once(seen_client_bits) && (!value || window_bits(*value));
      } else {
        acceptable = false;  // RFC 7692 7.1: an unknown parameter declines the offer
      }
    }
    if (!list.ok()) {
      return std::nullopt;
    }
    if (acceptable) {
      // RFC 7692 7.1.2.1: a server_max_window_bits offered is accepted by
      // naming it in the response.
      return seen_server_bits ? deflate_response_with_window : deflate_response;
    }
  }
  return std::nullopt;
}

frame_ptr deflate_frame(std::string_view frame, const compression_options& options) {
  const auto layout = frame_layout::of_server_frame(frame);
  if (!layout || layout->is_control() || layout->rsv1() ||
      layout->payload_size < options.min_bytes) {
    return nullptr;
  }
  const std::string_view payload = frame.substr(layout->header_size);
  if (payload.size() > max_deflate_input) {
    return nullptr;  // zlib counts in 32 bits; no message Herald takes is this large
  }
  thread_local thread_deflater deflater;
  thread_local std::string scratch;  // the compressed bytes, before the exact-size frame
  z_stream& stream = deflater.ready_for(options.level);
  scratch.resize(deflateBound(&stream, payload.size()) + 16);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
  stream.avail_in = static_cast<uInt>(payload.size());
  stream.next_out = reinterpret_cast<Bytef*>(scratch.data());
  stream.avail_out = static_cast<uInt>(scratch.size());
  // deflateBound's room (and the 16 bytes more) suffices for one
  // Z_SYNC_FLUSH of the whole input; were it not so, the plain frame goes.
  const int status = deflate(&stream, Z_SYNC_FLUSH);
  std::size_t compressed = scratch.size() - stream.avail_out;
  const bool whole = status == Z_OK && stream.avail_in == 0 && stream.avail_out > 0 &&
                     compressed >= flush_tail.size() &&
                     std::memcmp(scratch.data() + compressed - flush_tail.size(), flush_tail.data(),
                                 flush_tail.size()) == 0;
  if (scratch.capacity() > kept_scratch_capacity) {
    // One large message must not pin its buffer on the thread for good.
    std::string kept = whole ? scratch.substr(0, compressed) : std::string();
    std::string().swap(scratch);
    scratch = std::move(kept);
  }
  if (!whole) {
    return nullptr;
  }
  compressed -= flush_tail.size();
  if (compressed >= payload.size()) {
    return nullptr;  // incompressible: the plain frame is smaller
  }
  // Exactly the frame's size: the queue's byte bound counts what is held.
  std::string out(frame_layout::server_header_size(compressed) + compressed, '\0');
  frame_layout::write_server_header(out.data(), layout->first_byte | frame_layout::rsv1_bit,
                                    compressed);
  std::memcpy(out.data() + out.size() - compressed, scratch.data(), compressed);
  return make_frame(std::move(out));
}

namespace {

// The batch's frames, each compressed where worth it; null when none is.
std::shared_ptr<const frame_batch> compress_batch(const frame_batch& batch,
                                                  const compression_options& options) {
  std::shared_ptr<frame_batch> twin;
  for (std::size_t i = 0; i < batch.frames.size(); ++i) {
    frame_ptr compressed = deflate_frame(*batch.frames[i], options);
    if (!compressed) {
      if (twin) {
        twin->append(batch.frames[i]);
      }
      continue;
    }
    if (!twin) {
      twin = std::make_shared<frame_batch>();
      twin->channel = batch.channel;
      twin->frames.reserve(batch.frames.size());
      for (std::size_t before = 0; before < i; ++before) {
        twin->append(batch.frames[before]);
      }
    }
    twin->append(std::move(compressed));
  }
  return twin;
}

}  // namespace

frame_batch_ptr deflated(const frame_batch_ptr& batch, const compression_options& options) {
  std::call_once(batch->deflate_once, [&] {
    // Out of memory while compressing: the batch goes plain. (An exception
    // would leave the flag unset and make the next subscriber try again.)
    try {
      batch->deflated_twin = compress_batch(*batch, options);
    } catch (const std::bad_alloc&) {
      batch->deflated_twin = nullptr;
    }
  });
  return batch->deflated_twin ? batch->deflated_twin : batch;
}

inflate_result inflate_message(std::string_view compressed, std::size_t limit, std::string& out) {
  if (compressed.size() > max_deflate_input) {
    return inflate_result::too_big;  // never reached: the reader bounds what it gathers
  }
  thread_local thread_inflater inflater;
  z_stream& stream = inflater.ready();
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  const std::size_t start = out.size();
  // Grows as the output does, never past limit + 1 (the byte that tells
  // too_big), so a small bomb does not reserve a large buffer up front.
  // (limit is at most max-message-bytes, 64 MiB: the sizes fit zlib's
  // 32-bit counts.)
  std::size_t capacity = std::min<std::size_t>(limit + 1, compressed.size() * 4 + 256);
  for (;;) {
    const std::size_t produced = out.size() - start;
    out.resize(start + capacity);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + start + produced);
    stream.avail_out = static_cast<uInt>(capacity - produced);
    const int status = inflate(&stream, Z_SYNC_FLUSH);
    const std::size_t total = capacity - stream.avail_out;
    out.resize(start + total);
    if (total > limit) {
      out.resize(start);
      return inflate_result::too_big;
    }
    if (status == Z_STREAM_END) {
      return inflate_result::ok;  // a final block: anything after it is ignored
    }
    if (status == Z_MEM_ERROR) {
      out.resize(start);
      return inflate_result::no_memory;
    }
    if (status != Z_OK && status != Z_BUF_ERROR) {
      out.resize(start);
      return inflate_result::corrupt;
    }
    if (stream.avail_in == 0 && stream.avail_out > 0) {
      return inflate_result::ok;  // all input used, and zlib had room to spare
    }
    if (stream.avail_out > 0 && status == Z_BUF_ERROR) {
      out.resize(start);
      return inflate_result::corrupt;  // no progress with input left: cannot happen on good data
    }
    capacity = std::min(limit + 1, capacity * 2);
  }
}

}  // namespace herald::core
