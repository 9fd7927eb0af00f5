#include "client_connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "clock.hpp"
#include "poller.hpp"
#include "ws_handshake.hpp"

namespace herald::bench {

namespace {

// One read takes up to this much: enough for hundreds of small frames per
// system call when a subscriber has fallen behind, small enough to stay in
// the cache.
constexpr std::size_t read_chunk_bytes = 64 * 1024;

// A server frame larger than this is treated as a protocol error instead of
// growing a buffer without bound.
constexpr std::uint64_t max_frame_bytes = 256ull << 20;

constexpr std::uint16_t close_normal = 1000;
constexpr std::uint16_t close_protocol_error = 1002;
constexpr std::uint16_t close_no_status = 1005;
constexpr std::uint16_t close_abnormal = 1006;

}  // namespace

void client_connection::start(const socket_address& server, const ws_handshake& handshake,
                              const socket_address* source, std::int64_t deadline_ns,
                              const std::string& tls_server_name) {
  handshake_ = &handshake;
  deadline_ns_ = deadline_ns;
  state_ = state::connecting;
  fd_ = socket(server.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    finish(close_abnormal, std::string("socket: ") + std::strerror(errno));
    return;
  }
  // Publishers' frames must not wait for Nagle's algorithm: they are
  // batched per event round already.
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source != nullptr) {
    // Defers the choice of the local port to connect(), which may then reuse
    // a port across different server addresses/ports.
    setsockopt(fd_, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd_, source->get(), source->length) < 0) {
      finish(close_abnormal, std::string("bind: ") + std::strerror(errno));
      return;
    }
  }
  if (shared_->tls != nullptr) {
    std::string error;
    if (!tls_.begin(*shared_->tls, fd_, tls_server_name, error)) {
      finish(close_abnormal, error);
      return;
    }
  }
  if (connect(fd_, server.get(), server.length) < 0 && errno != EINPROGRESS) {
    finish(close_abnormal, errno == EADDRNOTAVAIL
                               ? std::string("connect: no free local port")
                               : std::string("connect: ") + std::strerror(errno));
    return;
  }
  shared_->poll->add(fd_, index_, EPOLLOUT);
}

void client_connection::on_writable() {
  if (state_ == state::connecting) {
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      finish(close_abnormal, std::string("connect: ") + std::strerror(error));
      return;
    }
    if (tls_.active()) {
      state_ = state::tls_handshaking;
      continue_tls_handshake();
    } else {
      send_upgrade_request();
    }
    return;
  }
  if (state_ == state::tls_handshaking) {
    continue_tls_handshake();
    return;
  }
  if (state_ != state::closed) {
    flush();
  }
  if (state_ != state::closed && tls_.active() && tls_.read_waits_for_write()) {
    receive_tls();
  }
}

void client_connection::continue_tls_handshake() {
  switch (tls_.handshake()) {
    case tls_status::done:
      send_upgrade_request();
      return;
    case tls_status::want_read:
      shared_->poll->modify(fd_, index_, EPOLLIN);
      return;
    case tls_status::want_write:
      shared_->poll->modify(fd_, index_, EPOLLOUT);
      return;
    case tls_status::closed:
      finish(close_abnormal, "TLS handshake: closed by the server");
      return;
    case tls_status::failed:
      finish(close_abnormal, tls_.error_text());
      return;
  }
}

void client_connection::send_upgrade_request() {
  const std::string& request = handshake_->request();
  // A few hundred bytes into an empty socket buffer: taken at once or a
  // failure.
  std::size_t sent = 0;
  if (tls_.active()) {
    sent = tls_.write(request.data(), request.size()).bytes;
  } else {
    ssize_t result = send(fd_, request.data(), request.size(), MSG_NOSIGNAL);
    sent = result < 0 ? 0 : static_cast<std::size_t>(result);
  }
  if (sent != request.size()) {
    finish(close_abnormal, "sending the upgrade request failed");
    return;
  }
  state_ = state::upgrading;
  shared_->poll->modify(fd_, index_, EPOLLIN);
}

void client_connection::on_readable() {
  if (state_ == state::connecting) {
    on_writable();  // an error or hang-up while connecting: SO_ERROR says which
    return;
  }
  if (state_ == state::tls_handshaking) {
    continue_tls_handshake();
    return;
  }
  if (state_ == state::closed || state_ == state::unused) {
    return;
  }
  if (tls_.active()) {
    receive_tls();
    return;
  }
  std::size_t kept = 0;
  std::size_t want = 0;
  char* buffer = prepare_receive(kept, want);
  ssize_t received = recv(fd_, buffer + kept, want, 0);
  if (received == 0) {
    finish(close_abnormal, "closed by the server");
    return;
  }
  if (received < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      finish(close_abnormal, "receive error");
    }
    return;
  }
  shared_->bytes_read += static_cast<std::uint64_t>(received);
  // One clock reading per read: every frame in it arrived at the same time
  // as far as the bench can tell.
  handle_received(buffer, kept + static_cast<std::size_t>(received), monotonic_ns());
}

char* client_connection::prepare_receive(std::size_t& kept, std::size_t& want) {
  std::vector<char>& buffer = shared_->receive_buffer;
  kept = tail_.size();
  want = read_chunk_bytes;
  if (pending_frame_bytes_ > kept + want) {
    want = pending_frame_bytes_ - kept;
  }
  if (buffer.size() < kept + want) {
    buffer.resize(kept + want);
  }
  if (kept > 0) {
    std::memcpy(buffer.data(), tail_.data(), kept);
  }
  return buffer.data();
}

void client_connection::receive_tls() {
  // Unlike the plain path (one recv() per readiness), this reads until
  // OpenSSL has nothing left: what it read ahead of the last record it
  // handed out sits in its buffer, where the level-triggered poll cannot
  // see it.
  tls_transfer got;
  do {
    std::size_t kept = 0;
    std::size_t want = 0;
    char* buffer = prepare_receive(kept, want);
    got = tls_.read(buffer + kept, want);
    if (got.bytes > 0) {
      shared_->bytes_read += got.bytes;
      handle_received(buffer, kept + got.bytes, monotonic_ns());
      if (state_ == state::closed) {
        return;
      }
    }
  } while (got.status == tls_status::done && tls_.has_buffered());
  switch (got.status) {
    case tls_status::done:
    case tls_status::want_read:
      break;
    case tls_status::want_write:
      set_write_interest(true);  // on_writable reads again
      break;
    case tls_status::closed:
      finish(close_abnormal, "closed by the server");
      return;
    case tls_status::failed:
      finish(close_abnormal, tls_.error_text());
      return;
  }
  if (tls_.write_waits_for_read()) {
    flush();
  }
}

void client_connection::handle_received(char* data, std::size_t size, std::int64_t now_ns) {
  std::size_t position = 0;
  if (state_ == state::upgrading) {
    std::size_t header_bytes = 0;
    std::string reason;
    std::optional<deflate_agreement> deflate;
    auto verdict =
        handshake_->check_response(std::string_view(data, size), header_bytes, reason, deflate);
    if (verdict == ws_handshake::result::incomplete) {
      tail_.assign(data, data + size);
      return;
    }
    if (verdict == ws_handshake::result::rejected) {
      finish(close_abnormal, reason);
      return;
    }
    if (deflate) {
      // Node's ws keeps its compression context across messages unless
      // told otherwise; Herald sends server_no_context_takeover, since it
      // compresses each publication once for every subscriber.
      inflater_ = message_inflater::create(!deflate->server_no_context_takeover);
      if (!inflater_) {
        finish(close_abnormal, "zlib: no memory for an inflater");
        return;
      }
    }
    position = header_bytes;
    state_ = state::setting_up;
    switch (shared_->protocol->begin_setup(channel_, protocol_state_, *this)) {
      case setup_status::ready:
        become_ready();
        break;
      case setup_status::waiting:
        break;
      case setup_status::failed:
        finish(close_abnormal, "protocol setup failed");
        return;
    }
  }

  pending_frame_bytes_ = 0;
  while (position < size) {
    ws_frame_header header;
    auto status =
        parse_frame_header(data + position, size - position, header, inflater_ != nullptr);
    if (status == frame_header_status::need_more) {
      break;
    }
    if (status == frame_header_status::invalid || header.payload_bytes > max_frame_bytes) {
      close_for_protocol_error("invalid frame from the server");
      return;
    }
    std::size_t frame_bytes = header.header_bytes + static_cast<std::size_t>(header.payload_bytes);
    if (size - position < frame_bytes) {
      pending_frame_bytes_ = frame_bytes;
      break;
    }
    if (!handle_frame(header, data + position + header.header_bytes, now_ns)) {
      return;
    }
    position += frame_bytes;
  }
  // Keeps the unfinished frame, usually nothing: assign() into an empty
  // vector allocates nothing, and a connection that once needed a tail
  // keeps its capacity.
  tail_.assign(data + position, data + size);
}

bool client_connection::handle_frame(const ws_frame_header& header, char* payload,
                                     std::int64_t now_ns) {
  auto size = static_cast<std::size_t>(header.payload_bytes);
  if (header.masked) {
    unmask_payload(payload, size, header.mask_key);
  }
  switch (header.opcode) {
    case ws_opcode::text:
    case ws_opcode::binary:
      if (header.compressed) {
        return handle_compressed_frame(header, std::string_view(payload, size), now_ns);
      }
      in_compressed_message_ = false;
      // Fragmented messages are not reassembled: no server under test sends
      // them for small messages, and skipping them keeps the buffers flat.
      if (!header.fin) {
        shared_->events->on_ignored_frame(*this);
      } else if (header.opcode == ws_opcode::text) {
        handle_text(std::string_view(payload, size), now_ns);
      } else {
        shared_->events->on_ignored_frame(*this);
      }
      return state_ != state::closed;
    case ws_opcode::continuation:
      if (in_compressed_message_) {
        return handle_compressed_frame(header, std::string_view(payload, size), now_ns);
      }
      shared_->events->on_ignored_frame(*this);
      return true;
    case ws_opcode::ping:
      queue_frame(ws_opcode::pong, std::string_view(payload, size));
      flush();
      return state_ != state::closed;
    case ws_opcode::pong:
      return true;
    case ws_opcode::close: {
      std::uint16_t code = close_no_status;
      if (size >= 2) {
        code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                          static_cast<std::uint8_t>(payload[1]));
      }
      // Echo the code (RFC 6455 5.5.1), then hang up without waiting: the
      // server closes its side after our close frame anyway.
      queue_frame(ws_opcode::close, std::string_view(payload, size >= 2 ? 2 : 0));
      flush();
      // The reason only counts during setup: e.g. Centrifugo's 3500 (invalid
      // token) in answer to connect.
      finish(code, "closed by the server during setup (" + std::to_string(code) + ")");
      return false;
    }
    default:
      close_for_protocol_error("unknown opcode from the server");
      return false;
  }
}

bool client_connection::handle_compressed_frame(const ws_frame_header& header,
                                                std::string_view payload, std::int64_t now_ns) {
  // Fragments are inflated too, though their message is then ignored like
  // any fragmented one: with context takeover the server's next messages
  // may refer to their bytes.
  in_compressed_message_ = !header.fin;
  std::string_view text;
  switch (inflater_->inflate(payload, header.fin, shared_->inflate_buffer, text)) {
    case message_inflater::status::ok:
      break;
    case message_inflater::status::too_big:
      close_for_protocol_error("compressed message inflates past 16 MiB");
      return false;
    case message_inflater::status::corrupt:
      close_for_protocol_error("invalid compressed data from the server");
      return false;
  }
  // A whole text message in one frame: read as if it had come uncompressed.
  if (header.fin && header.opcode == ws_opcode::text) {
    handle_text(text, now_ns);
  } else {
    shared_->events->on_ignored_frame(*this);
  }
  return state_ != state::closed;
}

// Lives on the stack for one frame, so that a connection keeps no read time.
class client_connection::inbound_events final : public inbound_sink {
 public:
  inbound_events(client_connection& connection, std::int64_t now_ns)
      : connection_(connection), now_ns_(now_ns) {}

  void on_publication(const publication_stamp& stamp) override {
    connection_.shared_->events->on_publication(connection_, stamp, now_ns_);
  }
  void on_ignored() override { connection_.shared_->events->on_ignored_frame(connection_); }
  void on_command_error(std::uint32_t code) override {
    connection_.shared_->events->on_command_error(connection_, code);
  }
  void on_server_disconnect(std::uint16_t code) override {
    connection_.close_for_server_disconnect(code);
  }

 private:
  client_connection& connection_;
  std::int64_t now_ns_;
};

void client_connection::handle_text(std::string_view text, std::int64_t now_ns) {
  if (state_ == state::setting_up) {
    setup_detail detail;
    switch (shared_->protocol->continue_setup(text, channel_, protocol_state_, *this, detail)) {
      case setup_status::ready:
        become_ready();
        // Messages batched after the one that completed the setup.
        if (!detail.rest.empty() && state_ == state::ready) {
          decode_text(detail.rest, now_ns);
        }
        break;
      case setup_status::waiting:
        break;
      case setup_status::failed:
        finish(close_abnormal, detail.failure.empty() ? std::string_view("protocol setup failed")
                                                      : std::string_view(detail.failure));
        break;
    }
    return;
  }
  decode_text(text, now_ns);
}

void client_connection::decode_text(std::string_view text, std::int64_t now_ns) {
  inbound_events events(*this, now_ns);
  shared_->protocol->decode(text, channel_, protocol_state_, events, *this);
}

void client_connection::close_for_server_disconnect(std::uint16_t code) {
  const char normal[2] = {static_cast<char>(close_normal >> 8),
                          static_cast<char>(close_normal & 0xFF)};
  queue_frame(ws_opcode::close, std::string_view(normal, 2));
  flush();
  finish(code, "disconnected by the server");
}

void client_connection::become_ready() {
  state_ = state::ready;
  shared_->events->on_ready(*this);
}

void client_connection::send_text(std::string_view text) {
  queue_frame(ws_opcode::text, text);
}

void client_connection::queue_frame(ws_opcode opcode, std::string_view payload) {
  if (state_ == state::closed || state_ == state::unused) {
    return;
  }
  append_client_frame(out_, opcode, payload, shared_->masks.next());
  queue_for_flush();
}

void client_connection::queue_for_flush() {
  if (!flush_queued_) {
    flush_queued_ = true;
    shared_->flush_queue.push_back(index_);
  }
}

void client_connection::flush() {
  flush_queued_ = false;
  if (state_ == state::closed || state_ == state::unused || state_ == state::connecting ||
      state_ == state::tls_handshaking) {
    return;
  }
  if (tls_.active()) {
    flush_tls();
    return;
  }
  while (out_sent_ < out_.size()) {
    ssize_t sent = send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        set_write_interest(true);
        return;
      }
      finish(close_abnormal, "send error");
      return;
    }
    out_sent_ += static_cast<std::size_t>(sent);
  }
  out_.clear();
  out_sent_ = 0;
  set_write_interest(false);
}

void client_connection::flush_tls() {
  if (out_sent_ < out_.size()) {
    tls_transfer wrote = tls_.write(out_.data() + out_sent_, out_.size() - out_sent_);
    out_sent_ += wrote.bytes;
    switch (wrote.status) {
      case tls_status::done:
        break;
      case tls_status::want_write:
        set_write_interest(true);
        return;
      case tls_status::want_read:
        set_write_interest(false);  // receive_tls() flushes once it has read
        return;
      case tls_status::closed:
        finish(close_abnormal, "closed by the server");
        return;
      case tls_status::failed:
        finish(close_abnormal, tls_.error_text());
        return;
    }
  }
  out_.clear();
  out_sent_ = 0;
  set_write_interest(false);
}

void client_connection::set_write_interest(bool want_write) {
  if (want_write != write_interest_) {
    write_interest_ = want_write;
    update_ready_interest();
  }
}

void client_connection::pause_reading() {
  if (!reading_paused_ && state_ == state::ready) {
    reading_paused_ = true;
    update_ready_interest();
  }
}

void client_connection::resume_reading() {
  if (reading_paused_ && state_ == state::ready) {
    reading_paused_ = false;
    update_ready_interest();
  }
}

void client_connection::update_ready_interest() {
  std::uint32_t events = (reading_paused_ ? 0u : std::uint32_t{EPOLLIN}) |
                         (write_interest_ ? std::uint32_t{EPOLLOUT} : 0u);
  shared_->poll->modify(fd_, index_, events);
}

void client_connection::close_for_protocol_error(std::string_view reason) {
  const char code[2] = {static_cast<char>(close_protocol_error >> 8),
                        static_cast<char>(close_protocol_error & 0xFF)};
  queue_frame(ws_opcode::close, std::string_view(code, 2));
  flush();
  finish(close_protocol_error, reason);
}

void client_connection::fail(std::string_view reason) {
  finish(close_abnormal, reason);
}

void client_connection::shut_down() {
  // A close frame may only follow whole frames: not after a frame the
  // socket took part of, nor, over TLS, while OpenSSL holds a record that
  // it must be handed again (a write that wanted the socket writable).
  const bool unsent = out_sent_ < out_.size();
  const bool cut = tls_.active() ? unsent : unsent && out_sent_ > 0;
  if (state_ == state::ready && !cut) {
    out_.clear();  // what the run did not send by now no longer matters
    out_sent_ = 0;
    char code[2] = {static_cast<char>(close_normal >> 8), static_cast<char>(close_normal & 0xFF)};
    append_client_frame(out_, ws_opcode::close, std::string_view(code, 2), shared_->masks.next());
    if (tls_.active()) {
      tls_.write(out_.data(), out_.size());
      tls_.say_goodbye();
    } else {
      send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  }
  tls_.end();
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  state_ = state::closed;
  std::vector<char>().swap(tail_);
  std::vector<char>().swap(out_);
  inflater_.reset();
}

void client_connection::finish(std::uint16_t code, std::string_view reason) {
  state previous = state_;
  tls_.end();
  if (fd_ >= 0) {
    close(fd_);  // also removes it from the epoll set
    fd_ = -1;
  }
  state_ = state::closed;
  std::vector<char>().swap(tail_);
  std::vector<char>().swap(out_);
  out_sent_ = 0;
  inflater_.reset();
  if (previous == state::ready) {
    shared_->events->on_closed(*this, code);
  } else if (previous != state::closed) {
    shared_->events->on_failed(*this, reason);
  }
}

}  // namespace herald::bench
