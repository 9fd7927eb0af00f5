#include "herald/core/text.hpp"

namespace herald::core {

std::vector<std::string_view> split_comma_list(std::string_view text) {
  std::vector<std::string_view> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    auto item = text.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      items.push_back(item);
    }
    start = end + 1;
  }
  return items;
}

}  // namespace herald::core
