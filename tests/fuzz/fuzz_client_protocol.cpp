// libFuzzer target: a client-protocol text frame through decode_frame. No
// input may crash it; every decoded channel must respect the 255-byte limit
// unless the command was answered with an error; and every raw `data` must be
// compact JSON (no '\n' to split a frame) with the value of its command's
// `data` member, or empty when that member is absent or null.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include <boost/json/value.hpp>

#include "fuzz_support.hpp"
#include "herald/core/client_protocol.hpp"

namespace cp = herald::core::client_protocol;
namespace json = boost::json;
using herald::fuzz::is_compact;
using herald::fuzz::parse_or_abort;
using herald::fuzz::require;
using herald::fuzz::same_json;

namespace {

template <class Request, class = void>
struct has_data : std::false_type {};

template <class Request>
struct has_data<Request, std::void_t<decltype(Request::data)>> : std::true_type {};

// The command's raw data member, or nullptr for a command without one.
const std::string* raw_data(const cp::request& body) {
  return std::visit(
      [](const auto& request) -> const std::string* {
        if constexpr (has_data<std::decay_t<decltype(request)>>::value) {
          return &request.data;
        } else {
          return nullptr;
        }
      },
      body);
}

// `line` decoded into `command`: its data is the member's value, compacted.
void check_data(std::string_view line, const cp::command& command) {
  const std::string* data = raw_data(command.body);
  if (data == nullptr) {
    return;
  }
  const json::value parsed = parse_or_abort(line);
  const json::value& params = parsed.as_object().at(cp::method_name(command.body));
  const json::value* member = params.as_object().if_contains("data");
  if (member == nullptr || member->is_null()) {
    require(data->empty());
    return;
  }
  require(!data->empty());
  require(is_compact(*data));
  require(same_json(parse_or_abort(*data), *member));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view frame{reinterpret_cast<const char*>(data), size};
  const cp::frame_decode_result result = cp::decode_frame(frame);
  // Each item comes from one line of the frame, in order.
  std::size_t line_start = 0;
  for (const auto& item : result.items) {
    const std::size_t newline = frame.find('\n', line_start);
    const std::size_t line_end = newline == std::string_view::npos ? frame.size() : newline;
    const std::string_view line = frame.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    if (const auto* command = std::get_if<cp::command>(&item)) {
      if (const auto* subscribe = std::get_if<cp::subscribe_request>(&command->body)) {
        require(!subscribe->channel.empty() && subscribe->channel.size() <= cp::max_channel_bytes);
      }
      check_data(line, *command);
    }
  }
  return 0;
}
