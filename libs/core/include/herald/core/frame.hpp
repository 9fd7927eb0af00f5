#pragma once

#include <memory>
#include <string>

namespace herald::core {

// One encoded outgoing message, serialized once per publication and shared by
// every subscriber: copies of the payload per delivery are zero.
using frame_ptr = std::shared_ptr<const std::string>;

inline frame_ptr make_frame(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

}  // namespace herald::core
