#include "protocol.hpp"

#include "protocol_ws.hpp"

namespace herald::bench {

std::unique_ptr<bench_protocol> make_protocol(std::string_view name) {
  if (name == "ws") {
    return std::make_unique<ws_json_protocol>();
  }
  return nullptr;
}

std::string_view protocol_names() {
  return "ws";
}

}  // namespace herald::bench
