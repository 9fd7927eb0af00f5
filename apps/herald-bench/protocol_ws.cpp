#include "protocol_ws.hpp"

namespace herald::bench {

namespace {

constexpr std::string_view exact_prefix = "{\"message\":\"";
constexpr std::string_view member_name = "\"message\"";

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

std::string_view find_message_value(std::string_view text) {
  if (text.substr(0, exact_prefix.size()) == exact_prefix) {
    return text.substr(exact_prefix.size());
  }
  std::size_t at = text.find(member_name);
  if (at == std::string_view::npos) {
    return {};
  }
  std::size_t i = at + member_name.size();
  while (i < text.size() && is_json_space(text[i])) {
    ++i;
  }
  if (i == text.size() || text[i] != ':') {
    return {};
  }
  ++i;
  while (i < text.size() && is_json_space(text[i])) {
    ++i;
  }
  if (i == text.size() || text[i] != '"') {
    return {};
  }
  return text.substr(i + 1);
}

setup_status ws_json_protocol::begin_setup(std::uint32_t, std::uint8_t&, text_message_sink&) {
  return setup_status::ready;
}

setup_status ws_json_protocol::continue_setup(std::string_view, std::uint32_t, std::uint8_t&,
                                              text_message_sink&, setup_detail&) {
  return setup_status::ready;
}

void ws_json_protocol::encode_publication(std::string_view payload, std::uint32_t,
                                          std::string& text) {
  text.append(exact_prefix);
  text.append(payload);
  text.append("\"}");
}

void ws_json_protocol::decode(std::string_view text, std::uint32_t, std::uint8_t&, inbound_sink& in,
                              text_message_sink&) {
  std::string_view value = find_message_value(text);
  publication_stamp stamp;
  if (!value.empty() && parse_payload(value, stamp)) {
    in.on_publication(stamp);
  } else {
    in.on_ignored();
  }
}

}  // namespace herald::bench
