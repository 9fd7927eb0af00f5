#include "herald/core/seed_codec.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace herald::core {

seed_decode_result decode_seed_frame(std::string_view frame) {
  seed_decode_result result;
  boost::json::error_code ec;
  boost::json::value parsed = boost::json::parse(frame, ec);
  if (ec) {
    result.reason = "invalid JSON";
    return result;
  }
  const auto* object = parsed.if_object();
  if (object == nullptr) {
    result.reason = "expected a JSON object";
    return result;
  }
  const auto* member = object->if_contains("message");
  if (member == nullptr) {
    result.reason = "missing \"message\"";
    return result;
  }
  const auto* text = member->if_string();
  if (text == nullptr) {
    result.reason = "\"message\" must be a string";
    return result;
  }
  result.ok = true;
  result.message.assign(text->data(), text->size());
  return result;
}

std::string encode_seed_message(std::string_view message) {
  boost::json::object object;
  object.emplace("message", boost::json::string_view{message.data(), message.size()});
  return boost::json::serialize(object);
}

std::string encode_seed_data(const boost::json::value& data) {
  return boost::json::serialize(data);
}

}  // namespace herald::core
