#pragma once

// Reading untrusted JSON input, shared by the client protocol's decoder
// (client_protocol_decode.cpp) and the server API's (server_api_decode.cpp):
// parsing with a depth limit, typed member readers with Go's rules (as in
// Centrifugo's decoders: `null` is an absent member, integers must be whole
// and in range), and raw-JSON capture (a member's value as the sender's own
// text, compacted). Internal to herald_core; not a public header.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include "herald/core/client_protocol.hpp"
#include "herald/core/stream_position.hpp"

namespace herald::core::json_reading {

namespace json = boost::json;

// The detail both decoders give a member of the wrong type.
inline constexpr std::string_view wrong_type = "member of the wrong type";

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

// `text` as one JSON value, nested at most `max_depth` deep, its tree in
// `storage`; `ec` is set when it is not valid JSON (invalid UTF-8, trailing
// text, comments and trailing commas included).
json::value parse(std::string_view text, json::storage_ptr storage, std::size_t max_depth,
                  json::error_code& ec);

// Whether `text` is valid JSON, nested at most `max_depth` deep.
bool is_json(std::string_view text, std::size_t max_depth);

// ---------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------

// A member that is there and not null: Go's decoders (and Centrifugo's) leave
// a field alone for `null`, so `"token":null` is no token.
const json::value* member(const json::object& object, std::string_view name);

// Each read_* leaves `out` alone when the member is absent (or null) and
// returns false when it has the wrong type.
bool read_string(const json::object& object, std::string_view name, std::string& out);

bool read_bool(const json::object& object, std::string_view name, bool& out);

// `out` is the object, or nullptr when the member is absent.
bool read_object(const json::object& object, std::string_view name, const json::object*& out);

// Integers only, in T's range: as Go's strconv, `1.0`, `1e3`, `"1"` and `-1`
// for an unsigned field are errors.
template <class T>
bool read_integer(const json::object& object, std::string_view name, T& out) {
  static_assert(std::is_integral_v<T>);
  const json::value* value = member(object, name);
  if (value == nullptr) {
    return true;
  }
  if (const std::int64_t* signed_value = value->if_int64()) {
    if constexpr (std::is_signed_v<T>) {
      if (*signed_value < std::numeric_limits<T>::min() ||
          *signed_value > std::numeric_limits<T>::max()) {
        return false;
      }
    } else {
      if (*signed_value < 0 ||
          static_cast<std::uint64_t>(*signed_value) > std::numeric_limits<T>::max()) {
        return false;
      }
    }
    out = static_cast<T>(*signed_value);
    return true;
  }
  if (const std::uint64_t* unsigned_value = value->if_uint64()) {
    // Boost.JSON only uses uint64 above INT64_MAX.
    if (*unsigned_value > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
      return false;
    }
    out = static_cast<T>(*unsigned_value);
    return true;
  }
  return false;
}

// A stream position object `{"offset":O,"epoch":"E"}` (history's `since`):
// set when the member is there, unknown members of it ignored.
bool read_position(const json::object& object, std::string_view name,
                   std::optional<stream_position>& out);

// The members of a history request, the same in both protocols (channel,
// limit, since, reverse); false when one has the wrong type.
bool read_history_members(const json::object& object, client_protocol::history_request& out);

// ---------------------------------------------------------------------------
// Raw JSON text
// ---------------------------------------------------------------------------
// A member's value as the sender's own text: re-serializing the parsed value
// would turn 1.5 into 1.5E0 and round big integers. These functions only
// take text that parse() has just accepted (they do not validate it); on
// other text they stay in bounds but their result is unspecified.

// The text of the value of `name` in the JSON object `object_text`: the last
// one, as the parser keeps the last of duplicate members. Escaped key names
// match (`"d\u0061ta"` is `data`); `name` must be ASCII.
std::optional<std::string_view> raw_member(std::string_view object_text, std::string_view name);

// JSON text without the whitespace between its tokens: no '\n' is left, as
// valid JSON holds one only there.
std::string compact(std::string_view text);

// The compact text of the value of `name` in `object_text` ("" when there is
// none).
std::string compact_member(std::string_view object_text, std::string_view name);

// The compact text of member `name` of `object`, whose text is
// `object_text`; `out` is left alone when the member is absent or null.
void read_raw(const json::object& object, std::string_view object_text, std::string_view name,
              std::string& out);

}  // namespace herald::core::json_reading
