// libFuzzer target: the server HTTP API codec. The first byte picks what to
// run (modulo 12; the seeds use '0'..'9', ':' and ';'):
//   0-9  decode() of the method in that slot (publish ... info) with the rest
//        as the body;
//   10   decode() of an unknown method;
//   11   channel_pattern: the rest is `pattern\0channel`.
// No input may crash it, and a decoded request must keep the header's
// promises: one outcome only, channels of 1..255 bytes, `data` that is
// compact JSON with the value of the body's `data` member, a `channels`
// pattern that compiles. Every response built from it must be valid JSON.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/value.hpp>

#include "fuzz_support.hpp"
#include "herald/core/channel_pattern.hpp"
#include "herald/core/server_api.hpp"

namespace api = herald::core::server_api;
namespace json = boost::json;
using herald::fuzz::is_compact;
using herald::fuzz::parse_or_abort;
using herald::fuzz::require;
using herald::fuzz::same_json;

namespace {

constexpr std::string_view method_slots[] = {
    "publish", "broadcast",      "unsubscribe", "disconnect", "presence", "presence_stats",
    "history", "history_remove", "channels",    "info",       "batch"};

bool has_b64data(const json::value& body) {
  const json::object* object = body.if_object();
  if (object == nullptr) {
    return false;
  }
  const json::value* b64 = object->if_contains("b64data");
  return b64 != nullptr && b64->is_string() && !b64->as_string().empty();
}

// `data` is compact and holds the same value as the body's member.
void check_data(std::string_view body, const std::string& data) {
  require(!data.empty());
  require(is_compact(data));
  const json::value value = parse_or_abort(data);
  const json::value parsed_body = parse_or_abort(body);
  if (!has_b64data(parsed_body)) {
    require(same_json(value, parsed_body.as_object().at("data")));
  }
  std::string out;
  api::append_history_result(out, {herald::core::client_protocol::publication_view{data, 1}}, "e",
                             1);
  parse_or_abort(out);
}

void check_request(std::string_view body, const api::request& request) {
  if (const auto* publish = std::get_if<api::publish_request>(&request)) {
    require(api::valid_channel(publish->channel));
    check_data(body, publish->data);
  } else if (const auto* broadcast = std::get_if<api::broadcast_request>(&request)) {
    require(!broadcast->channels.empty());
    check_data(body, broadcast->data);
  } else if (const auto* unsubscribe = std::get_if<api::unsubscribe_request>(&request)) {
    require(unsubscribe->channel.size() <= api::max_channel_bytes);
  } else if (const auto* presence = std::get_if<api::presence_request>(&request)) {
    require(api::valid_channel(presence->channel));
  } else if (const auto* history = std::get_if<api::history_request>(&request)) {
    require(api::valid_channel(history->channel));
  } else if (const auto* channels = std::get_if<api::channels_request>(&request)) {
    require(channels->pattern.empty() || herald::core::channel_pattern::compile(channels->pattern));
    std::string out;
    api::append_channels_result(out, {api::channel_info{channels->pattern, 1}});
    parse_or_abort(out);
  }
}

void fuzz_decode(std::string_view method, std::string_view body) {
  const api::decode_result result = api::decode(method, body);
  const int outcomes =
      (result.value ? 1 : 0) + (result.error ? 1 : 0) + (result.http_status != 200 ? 1 : 0);
  require(outcomes == 1);
  require(result.value.has_value() == result.detail.empty());
  if (result.value) {
    require(api::method_name(*result.value) == method);
    check_request(body, *result.value);
  } else if (result.error) {
    std::string out;
    api::append_error(out, *result.error);
    parse_or_abort(out);
  } else {
    require(!api::plain_text_body(result.http_status).empty());
  }
}

// The legacy form: every line decoded or refused, never both; a 400 holds
// no command.
void fuzz_legacy(std::string_view body) {
  const api::legacy_decode_result result = api::decode_legacy(body);
  require((result.http_status == 200) != result.commands.empty());
  for (const auto& command : result.commands) {
    if (const auto* error = std::get_if<api::api_error>(&command)) {
      std::string out;
      api::append_error(out, *error);
      parse_or_abort(out);
    }
  }
}

void fuzz_pattern(std::string_view input) {
  const std::size_t split = input.find('\0');
  const std::string_view pattern = input.substr(0, split);
  const std::string_view channel =
      split == std::string_view::npos ? std::string_view() : input.substr(split + 1);
  const auto compiled = herald::core::channel_pattern::compile(pattern);
  const bool matched = compiled && compiled->matches(channel);
  require(herald::core::channel_matches(pattern, channel) == (pattern.empty() || matched));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view rest{reinterpret_cast<const char*>(data) + 1, size - 1};
  // Seeds start with the byte 52 + slot ('4' for publish).
  const std::size_t slot = data[0] % 13;
  if (slot < std::size(method_slots)) {
    fuzz_decode(method_slots[slot], rest);
  } else if (slot == std::size(method_slots)) {
    fuzz_legacy(rest);
  } else {
    fuzz_pattern(rest);
  }
  return 0;
}
