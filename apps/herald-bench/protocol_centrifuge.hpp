#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol.hpp"

namespace herald::bench {

// Centrifugo's bidirectional client protocol, version 2, JSON encoding, as
// the `centrifuge` JavaScript SDK 5.x speaks it on /connection/websocket:
//
//   -> {"connect":{"name":"herald-bench"[,"token":"..."]},"id":1}
//   <- {"id":1,"connect":{...,"ping":25,"pong":true}}   (or "error": failed)
//   -> {"subscribe":{"channel":"bench"},"id":2}
//   <- {"id":2,"subscribe":{...}}                        (ready; "error": failed)
//   -> {"publish":{"channel":"bench","data":{"message":"<payload>"}},"id":N}
//   <- {"id":N,"publish":{}}                             ("error": command_errors)
//   <- {"push":{"channel":"bench","pub":{"data":{"message":"<payload>"},..}}}
//   <- {}  -> {}                    server ping, answered only when the connect
//                                   reply said "pong":true (as the SDK does)
//   <- {"push":{"disconnect":{"code":C,"reason":".."}}}  closes with code C
//
// A frame holds one or more of these, separated by '\n'; each is read in
// place (no allocation): the exact push prefix servers write is checked
// first, else a minimal JSON scanner takes members in any order and skips the
// ones it does not need. Publish ids come from one
// counter shared by all connections: increasing on each connection, from 3,
// wrapping within the protocol's uint32.
//
// With `per_publisher_channels` K above 0 there are K channels,
// "<channel>.0" to "<channel>.<K-1>" (--channel-per-publisher), and each
// connection subscribes to (and publishes on) the one its `channel` index
// names; with 0, one channel, `channel` itself.
//
// With `extra_channels` E above 0 every connection also subscribes to
// "<channel>.extra.0" to "<channel>.extra.<E-1>", which nobody publishes on
// (--extra-channels: what subscriptions cost a server). Those commands follow
// the main subscribe in the same frame, so the connection is ready, and its
// channel subscribed, with the first reply; theirs arrive afterwards, and a
// refusal among them counts as a command error.
class centrifuge_json_protocol final : public bench_protocol {
 public:
  centrifuge_json_protocol(std::string_view channel, std::string_view token,
                           std::uint32_t per_publisher_channels = 0,
                           std::uint32_t extra_channels = 0);

  std::string_view name() const override { return "centrifuge"; }
  std::uint32_t channel_count() const override {
    return static_cast<std::uint32_t>(channels_.size());
  }
  setup_status begin_setup(std::uint32_t channel, std::uint8_t& state,
                           text_message_sink& out) override;
  setup_status continue_setup(std::string_view text, std::uint32_t channel, std::uint8_t& state,
                              text_message_sink& out, setup_detail& detail) override;
  void encode_publication(std::string_view payload, std::uint32_t channel,
                          std::string& text) override;
  void decode(std::string_view text, std::uint32_t channel, std::uint8_t& state, inbound_sink& in,
              text_message_sink& out) override;

 private:
  // What differs between channels: built once, before the run.
  struct channel_texts {
    std::string subscribe_command;
    std::string publish_prefix;  // up to the payload's opening quote
    // The pub push as Herald and Centrifugo write it, up to the payload's
    // opening quote: checked first, the scanner handles anything else.
    std::string push_prefix;
  };

  std::string connect_command_;
  std::vector<channel_texts> channels_;
  std::uint32_t next_publish_id_;
};

// What one line (one JSON object) of a server frame is, as the SDK tells
// them apart: an id above 0 makes a reply, else "push" a push, else a ping.
enum class centrifuge_message_type {
  ping,
  reply,        // `id`, and the error's `code` when `has_error`
  publication,  // a pub push; `payload` holds data.message
  disconnect,   // a disconnect push; `code`
  other_push,   // join, leave, unsubscribe, message, ...
  unparsable,   // not a JSON object, or a pub without data.message
};

struct centrifuge_message {
  centrifuge_message_type type = centrifuge_message_type::unparsable;
  std::uint32_t id = 0;
  bool has_error = false;
  std::uint32_t code = 0;  // the error's code, or the disconnect's
  bool pong = false;       // a connect reply with "pong":true
  // A publication: data.message from just after its opening quote to the
  // line's end (the stamp is at its start; the closing quote is not looked
  // for).
  std::string_view payload;
};

// Reads one line (without its '\n'). Exposed for tests of the scanner.
centrifuge_message read_centrifuge_message(std::string_view line);

}  // namespace herald::bench
