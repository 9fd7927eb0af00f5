#include "permessage_deflate.hpp"

#include <charconv>

#include "http_text.hpp"

namespace herald::bench {

namespace {

constexpr std::string_view extension_name = "permessage-deflate";

// The part of `text` before `separator`, removed from `text` with the
// separator; all of `text` when there is none.
std::string_view take_until(std::string_view& text, char separator) {
  std::size_t at = text.find(separator);
  std::string_view item = text.substr(0, at);
  text = at == std::string_view::npos ? std::string_view() : text.substr(at + 1);
  return item;
}

// "10" or "\"10\"" (RFC 7692 allows the quoted form) between 8 and 15.
bool parse_window_bits(std::string_view text, int& bits) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  auto parsed = std::from_chars(text.data(), text.data() + text.size(), bits);
  return parsed.ec == std::errc() && parsed.ptr == text.data() + text.size() && bits >= 8 &&
         bits <= 15;
}

// One extension's parameters ("; a; b=1"), already past its name.
bool read_parameters(std::string_view parameters, deflate_agreement& agreement,
                     std::string& reason) {
  bool seen_server_no_context = false;
  bool seen_client_no_context = false;
  bool seen_server_bits = false;
  bool seen_client_bits = false;
  while (!parameters.empty()) {
    std::string_view parameter = trim(take_until(parameters, ';'));
    std::string_view name = trim(take_until(parameter, '='));
    std::string_view value = trim(parameter);
    if (name.empty()) {
      continue;  // a stray ';'
    }
    bool has_value = !value.empty();
    bool* seen = nullptr;
    bool valid = false;
    if (equals_ignoring_case(name, "server_no_context_takeover")) {
      seen = &seen_server_no_context;
      agreement.server_no_context_takeover = true;
      valid = !has_value;
    } else if (equals_ignoring_case(name, "client_no_context_takeover")) {
      seen = &seen_client_no_context;
      agreement.client_no_context_takeover = true;
      valid = !has_value;
    } else if (equals_ignoring_case(name, "server_max_window_bits")) {
      seen = &seen_server_bits;
      valid = parse_window_bits(value, agreement.server_max_window_bits);
    } else if (equals_ignoring_case(name, "client_max_window_bits")) {
      // Offered without a value: the response must give one (section 7.1.2.2).
      seen = &seen_client_bits;
      valid = parse_window_bits(value, agreement.client_max_window_bits);
    } else {
      reason = "server sent an unknown permessage-deflate parameter: " + std::string(name);
      return false;
    }
    if (*seen || !valid) {
      reason = "server sent a bad permessage-deflate parameter: " + std::string(name);
      return false;
    }
    *seen = true;
  }
  return true;
}

}  // namespace

bool read_extensions_response(std::string_view value, std::optional<deflate_agreement>& agreement,
                              std::string& reason) {
  while (!value.empty()) {
    std::string_view element = take_until(value, ',');
    std::string_view name = trim(take_until(element, ';'));
    if (name.empty()) {
      continue;  // "a, , b": empty list elements are allowed
    }
    if (!equals_ignoring_case(name, extension_name)) {
      reason = "server accepted an extension that was not offered: " + std::string(name);
      return false;
    }
    if (agreement) {
      reason = "server accepted permessage-deflate twice";
      return false;
    }
    deflate_agreement accepted;
    if (!read_parameters(element, accepted, reason)) {
      return false;
    }
    agreement = accepted;
  }
  return true;
}

}  // namespace herald::bench
