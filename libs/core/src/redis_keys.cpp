#include "herald/core/redis_keys.hpp"

namespace herald::core {

std::optional<std::string_view> redis_keys::channel_of_pubsub(std::string_view pubsub) const {
  constexpr std::string_view infix = ".client.";
  if (pubsub.size() < prefix_.size() + infix.size() ||
      pubsub.substr(0, prefix_.size()) != prefix_ ||
      pubsub.substr(prefix_.size(), infix.size()) != infix) {
    return std::nullopt;
  }
  return pubsub.substr(prefix_.size() + infix.size());
}

}  // namespace herald::core
