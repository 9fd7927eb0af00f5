#pragma once

#include <string_view>
#include <vector>

namespace herald::core {

// Splits a comma-separated list (a config value, an HTTP list header such as
// If-None-Match) into its items, spaces around each trimmed, empty items
// dropped. The views point into `text`.
std::vector<std::string_view> split_comma_list(std::string_view text);

}  // namespace herald::core
