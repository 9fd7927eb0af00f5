#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "message_inflater.hpp"
#include "payload.hpp"
#include "protocol.hpp"
#include "socket_address.hpp"
#include "tls_client.hpp"
#include "ws_frame.hpp"

namespace herald::bench {

class client_connection;
class poller;
class ws_handshake;

// What a connection tells its owner (the runner). Called from inside the
// connection's own methods; the connection is in its new state already.
class connection_events {
 public:
  // Upgraded and, where the protocol needs it, set up: may publish.
  virtual void on_ready(client_connection& connection) = 0;
  // Never became ready (connect error, refused upgrade, timeout...).
  virtual void on_failed(client_connection& connection, std::string_view reason) = 0;
  // A ready connection ended: the server's close code, 1006 without one.
  virtual void on_closed(client_connection& connection, std::uint16_t code) = 0;
  // A publication of this run arrived, read at `received_ns`.
  virtual void on_publication(client_connection& connection, const publication_stamp& stamp,
                              std::int64_t received_ns) = 0;
  // A frame that is no publication (another client's text, binary, a
  // fragment...): counted, otherwise ignored.
  virtual void on_ignored_frame(client_connection& connection) = 0;
  // The server refused a command sent after setup (e.g. a publish) with
  // this protocol error code.
  virtual void on_command_error(client_connection& connection, std::uint32_t code) = 0;

 protected:
  ~connection_events() = default;
};

// What all connections of a run share. One receive buffer serves every
// connection: a read lands in it, every complete frame is handled in place,
// and only an incomplete frame's bytes are copied into the connection's own
// tail. An idle connection therefore holds no buffer at all. Compressed
// messages likewise inflate into one buffer, read before the next inflates.
struct connection_shared {
  poller* poll = nullptr;
  bench_protocol* protocol = nullptr;
  connection_events* events = nullptr;
  const tls_client_context* tls = nullptr;  // null: plain TCP (ws://)
  mask_key_source masks{0x2545F491u};
  std::vector<char> receive_buffer;
  std::vector<char> inflate_buffer;  // --compression: one message's text
  // Bytes every connection read from its socket, after TLS decryption: the
  // runner reads it at the window's edges.
  std::uint64_t bytes_read = 0;
  // Connections with output waiting for the end of the event round: their
  // frames of one round leave in one send() (see flush()).
  std::vector<std::uint32_t> flush_queue;
};

// One client WebSocket over a non-blocking socket: connect, TLS handshake
// (wss://), HTTP upgrade, protocol setup, then frames both ways.
class client_connection final : public text_message_sink {
 public:
  enum class state : std::uint8_t {
    unused,
    connecting,
    tls_handshaking,
    upgrading,
    setting_up,
    ready,
    closed
  };

  // `channel`: the protocol's channel index for this connection (see
  // bench_protocol).
  client_connection(std::uint32_t index, std::uint32_t channel, connection_shared& shared)
      : shared_(&shared), index_(index), channel_(channel) {}

  std::uint32_t index() const { return index_; }
  std::uint32_t channel() const { return channel_; }
  state current_state() const { return state_; }
  bool in_progress() const {
    return state_ == state::connecting || state_ == state::tls_handshaking ||
           state_ == state::upgrading || state_ == state::setting_up;
  }
  bool is_ready() const { return state_ == state::ready; }
  std::size_t unsent_bytes() const { return out_.size() - out_sent_; }

  // Starts a non-blocking connect to `server`, upgraded with `handshake`
  // (which must outlive the connection); failures are reported through
  // on_failed. With shared TLS, `tls_server_name` is the name sent and
  // verified in the TLS handshake.
  void start(const socket_address& server, const ws_handshake& handshake,
             const socket_address* source, std::int64_t deadline_ns,
             const std::string& tls_server_name);
  std::int64_t deadline_ns() const { return deadline_ns_; }

  // epoll readiness.
  void on_readable();
  void on_writable();

  // A ready connection stops or starts watching for input (its output is
  // still watched while some waits); a paused one is still told of errors
  // and hang-ups.
  void pause_reading();
  void resume_reading();
  bool reading_paused() const { return reading_paused_; }

  // Queues a masked text frame; it leaves with the next flush().
  void send_text(std::string_view text) override;
  // Sends what is queued; arms EPOLLOUT if the socket is full.
  void flush();

  // Gives up a connection still in progress (timeout).
  void fail(std::string_view reason);
  // End of run: a close frame (1000) if ready, then close(). No event.
  void shut_down();

 private:
  void continue_tls_handshake();
  void send_upgrade_request();
  // Where the next read lands in the shared buffer, after the tail; sets
  // `kept` (the tail's bytes) and `want` (room for the read).
  char* prepare_receive(std::size_t& kept, std::size_t& want);
  void receive_tls();
  void flush_tls();
  void handle_received(char* data, std::size_t size, std::int64_t now_ns);
  // Returns false when the frame ended the connection.
  bool handle_frame(const ws_frame_header& header, char* payload, std::int64_t now_ns);
  // A frame of a permessage-deflate message (RSV1 on its first frame).
  bool handle_compressed_frame(const ws_frame_header& header, std::string_view payload,
                               std::int64_t now_ns);
  class inbound_events;  // the protocol's findings in one frame -> the owner's events
  void handle_text(std::string_view text, std::int64_t now_ns);
  void decode_text(std::string_view text, std::int64_t now_ns);
  void become_ready();
  // The protocol reported the server's goodbye: a close frame (1000) back,
  // then on_closed with the server's code.
  void close_for_server_disconnect(std::uint16_t code);
  // Tells the server why (1002) and hangs up.
  void close_for_protocol_error(std::string_view reason);
  void queue_frame(ws_opcode opcode, std::string_view payload);
  void queue_for_flush();
  void set_write_interest(bool want_write);
  void update_ready_interest();
  // Closes the socket and reports: on_closed if it was ready, else on_failed.
  void finish(std::uint16_t code, std::string_view reason);

  connection_shared* shared_;
  const ws_handshake* handshake_ = nullptr;
  std::vector<char> tail_;  // bytes of an incomplete frame or response head
  std::vector<char> out_;   // frames not yet accepted by the kernel
  std::size_t out_sent_ = 0;
  // A frame that straddles reads: its full size, so that the next read asks
  // for all of it at once (large messages are not re-copied per 64 KiB).
  std::size_t pending_frame_bytes_ = 0;
  std::int64_t deadline_ns_ = 0;
  tls_session tls_;  // inactive on ws://
  // Only when the upgrade agreed on permessage-deflate: without it a
  // connection carries no zlib state.
  std::unique_ptr<message_inflater> inflater_;
  int fd_ = -1;
  std::uint32_t index_;
  std::uint32_t channel_;
  state state_ = state::unused;
  std::uint8_t protocol_state_ = 0;
  bool write_interest_ = false;
  bool reading_paused_ = false;
  bool flush_queued_ = false;
  // Continuation frames now belong to a compressed message: they go through
  // the inflater, whose window has to see every byte the server compressed.
  bool in_compressed_message_ = false;
};

}  // namespace herald::bench
