#include "herald/core/api_access.hpp"

#include <algorithm>

namespace herald::core {
namespace {

// Compares in time that depends on the lengths only, so a caller cannot
// find the key byte by byte from response times.
bool same_key(std::string_view given, std::string_view expected) {
  if (given.size() != expected.size()) {
    return false;
  }
  unsigned char difference = 0;
  for (std::size_t i = 0; i < given.size(); ++i) {
    difference |= static_cast<unsigned char>(given[i] ^ expected[i]);
  }
  return difference == 0;
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::string_view api_key_of(std::string_view x_api_key, std::string_view authorization) {
  if (!x_api_key.empty()) {
    return x_api_key;
  }
  constexpr std::string_view scheme = "apikey ";
  if (authorization.size() > scheme.size() &&
      std::equal(scheme.begin(), scheme.end(), authorization.begin(),
                 [](char a, char b) { return a == lower(b); })) {
    return authorization.substr(scheme.size());
  }
  return {};
}

api_access check_api_access(std::string_view configured_key, std::string_view given_key,
                            bool from_loopback) {
  if (configured_key.empty()) {
    return from_loopback ? api_access::allowed : api_access::loopback_only;
  }
  return same_key(given_key, configured_key) ? api_access::allowed : api_access::unauthorized;
}

}  // namespace herald::core
