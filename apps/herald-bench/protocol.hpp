#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "payload.hpp"

namespace herald::bench {

struct bench_options;

// Where a protocol's outgoing text messages go; the connection frames and
// masks them, and they leave with the connection's next flush (so several
// of them, e.g. a pong and a publication, share one send()).
class text_message_sink {
 public:
  virtual void send_text(std::string_view text) = 0;

 protected:
  ~text_message_sink() = default;
};

// What a protocol finds in a text frame received by a ready connection. One
// frame may hold several messages (Centrifugo batches them, one per line),
// so each is reported on its own.
class inbound_sink {
 public:
  // A publication carrying a stamp (of this run or not: the runner checks).
  virtual void on_publication(const publication_stamp& stamp) = 0;
  // A message that is none of the others (counted in ignored_frames).
  virtual void on_ignored() = 0;
  // A reply refusing a command sent after setup (e.g. a publish), with the
  // protocol's error code (counted in command_errors).
  virtual void on_command_error(std::uint32_t code) = 0;
  // The server said it is closing the connection, with this code (recorded
  // as a close code). The connection is closed on return: the protocol must
  // read nothing more of the frame.
  virtual void on_server_disconnect(std::uint16_t code) = 0;

 protected:
  ~inbound_sink() = default;
};

enum class setup_status { ready, waiting, failed };

// What continue_setup() says besides its status.
struct setup_detail {
  // On `ready`: the part of the frame after the message that completed the
  // setup, which the connection decodes as traffic of a ready connection.
  std::string_view rest;
  // On `failed`: why, as a short key of connect_failures ("connect error
  // 101"); empty: "protocol setup failed".
  std::string failure;
};

// What differs between the application protocols a bench run can speak over
// one WebSocket: the bench handles sockets, framing, pacing and figures, a
// protocol only the text inside the frames. One protocol object serves every
// connection of a run (one thread); what it must remember per connection
// lives in the connection's `state` byte. `channel` is the connection's
// channel, an index below channel_count(): publisher i and the subscribers
// spread over its channel with --channel-per-publisher, else 0.
class bench_protocol {
 public:
  virtual ~bench_protocol() = default;

  virtual std::string_view name() const = 0;

  // How many channels the protocol was set up with (1 unless
  // --channel-per-publisher).
  virtual std::uint32_t channel_count() const { return 1; }

  // Called once the HTTP upgrade succeeded. A protocol that needs commands
  // before the connection may publish or receive sends them through `out`
  // and answers `waiting`; `state` is a byte per connection, 0 at first, that
  // the protocol may use to track its steps.
  virtual setup_status begin_setup(std::uint32_t channel, std::uint8_t& state,
                                   text_message_sink& out) = 0;

  // Each text frame received while setup is `waiting`.
  virtual setup_status continue_setup(std::string_view text, std::uint32_t channel,
                                      std::uint8_t& state, text_message_sink& out,
                                      setup_detail& detail) = 0;

  // Appends to `text` the message that publishes `payload` on `channel`.
  virtual void encode_publication(std::string_view payload, std::uint32_t channel,
                                  std::string& text) = 0;

  // Reads a text frame received by a ready connection and reports what it
  // holds through `in`. A protocol may answer through `out` (e.g. to a ping).
  // Runs for every delivery: it must not allocate.
  virtual void decode(std::string_view text, std::uint32_t channel, std::uint8_t& state,
                      inbound_sink& in, text_message_sink& out) = 0;
};

// The protocol named by options.protocol (see protocol_names()), set up with
// the options it reads (--channel, --token, --channel-per-publisher), or
// nullptr for an unknown name.
std::unique_ptr<bench_protocol> make_protocol(const bench_options& options);

// The names make_protocol() knows, for --help and error messages.
std::string_view protocol_names();

// The --url of a protocol when none is given (its usual endpoint on
// 127.0.0.1:8000); empty for an unknown name.
std::string_view default_url(std::string_view protocol_name);

}  // namespace herald::bench
