#pragma once

#include <utility>
#include <vector>

namespace herald::core {

// Removes the first element equal to `value` by moving the last element
// into its place: O(1) after the search, for vectors whose order does not
// matter (a subscriber's channels, a client's presence). Returns whether
// one was found.
template <class T>
bool swap_erase(std::vector<T>& items, const T& value) {
  for (auto& item : items) {
    if (item == value) {
      item = std::move(items.back());
      items.pop_back();
      return true;
    }
  }
  return false;
}

}  // namespace herald::core
