#pragma once

#include "protocol.hpp"

namespace herald::bench {

// The gorilla/websocket chat tutorial's protocol on /ws, as Herald serves it:
// a client sends {"message":"<text>"} and every client, the sender too,
// receives {"message":"<text>"}. Nothing to do after the upgrade.
class ws_json_protocol final : public bench_protocol {
 public:
  std::string_view name() const override { return "ws"; }
  setup_status begin_setup(std::uint32_t channel, std::uint8_t& state,
                           text_message_sink& out) override;
  setup_status continue_setup(std::string_view text, std::uint32_t channel, std::uint8_t& state,
                              text_message_sink& out, setup_detail& detail) override;
  void encode_publication(std::string_view payload, std::uint32_t channel,
                          std::string& text) override;
  void decode(std::string_view text, std::uint32_t channel, std::uint8_t& state, inbound_sink& in,
              text_message_sink& out) override;
};

// The string value of the top-level "message" member, up to the end of
// `text` (the closing quote is not looked for: the stamp is at the start).
// Herald sends exactly {"message":"..."}; other servers may add members or
// whitespace, so anything else falls back to a search. Empty if absent.
std::string_view find_message_value(std::string_view text);

}  // namespace herald::bench
