#include "protocol.hpp"

#include "bench_options.hpp"
#include "protocol_centrifuge.hpp"
#include "protocol_ws.hpp"

namespace herald::bench {

std::unique_ptr<bench_protocol> make_protocol(const bench_options& options) {
  if (options.protocol == "ws") {
    return std::make_unique<ws_json_protocol>();
  }
  if (options.protocol == "centrifuge") {
    std::uint32_t channels =
        options.channel_per_publisher ? static_cast<std::uint32_t>(options.publishers) : 0;
    return std::make_unique<centrifuge_json_protocol>(
        options.channel, options.token, channels,
        static_cast<std::uint32_t>(options.extra_channels));
  }
  return nullptr;
}

std::string_view protocol_names() {
  return "ws, centrifuge";
}

std::string_view default_url(std::string_view protocol_name) {
  if (protocol_name == "ws") {
    return "ws://127.0.0.1:8000/ws";
  }
  if (protocol_name == "centrifuge") {
    return "ws://127.0.0.1:8000/connection/websocket";
  }
  return {};
}

}  // namespace herald::bench
