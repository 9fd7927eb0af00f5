#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "payload.hpp"

namespace herald::bench {

// Where a protocol's outgoing text messages go; the connection frames and
// masks them.
class text_message_sink {
 public:
  virtual void send_text(std::string_view text) = 0;

 protected:
  ~text_message_sink() = default;
};

enum class setup_status { ready, waiting, failed };

enum class inbound_kind { publication, other };

// What differs between the application protocols a bench run can speak over
// one WebSocket: the bench handles sockets, framing, pacing and figures, a
// protocol only the text inside the frames. The seam is sized for
// Centrifugo's JSON client protocol (connect and subscribe commands after the
// upgrade, publish commands, pushes and protocol-level pings), which can be
// added as a second implementation without touching the runner.
class bench_protocol {
 public:
  virtual ~bench_protocol() = default;

  virtual std::string_view name() const = 0;

  // Called once the HTTP upgrade succeeded. A protocol that needs commands
  // before the connection may publish or receive sends them through `out`
  // and answers `waiting`; `state` is a byte per connection, 0 at first, that
  // the protocol may use to track its steps.
  virtual setup_status begin_setup(std::uint8_t& state, text_message_sink& out) = 0;

  // Each text frame received while setup is `waiting`.
  virtual setup_status continue_setup(std::string_view text, std::uint8_t& state,
                                      text_message_sink& out) = 0;

  // Appends to `text` the message that publishes `payload`.
  virtual void encode_publication(std::string_view payload, std::string& text) = 0;

  // Looks at a text frame received by a ready connection: a publication of
  // this run (its stamp in `stamp`) or anything else, which the bench
  // ignores. A protocol may answer through `out` (e.g. to a ping).
  virtual inbound_kind decode(std::string_view text, publication_stamp& stamp,
                              text_message_sink& out) = 0;
};

// The protocol called `name` (see protocol_names()), or nullptr.
std::unique_ptr<bench_protocol> make_protocol(std::string_view name);

// The names make_protocol() knows, for --help and error messages.
std::string_view protocol_names();

}  // namespace herald::bench
