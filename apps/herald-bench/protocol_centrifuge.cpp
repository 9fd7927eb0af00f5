#include "protocol_centrifuge.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

namespace herald::bench {

namespace {

// The connection's state byte: the setup step in the low bits, and whether
// the server wants pongs.
constexpr std::uint8_t step_mask = 0x03;
constexpr std::uint8_t step_connect_sent = 1;
constexpr std::uint8_t step_subscribe_sent = 2;
constexpr std::uint8_t step_ready = 3;
constexpr std::uint8_t pong_wanted = 0x80;

constexpr std::uint32_t connect_id = 1;
constexpr std::uint32_t subscribe_id = 2;
constexpr std::uint32_t first_publish_id = 3;

constexpr std::string_view pong_message = "{}";

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_json_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_json_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

// The line of `text` that starts at `position` (without its '\n'); moves
// `position` past it. JSON strings cannot hold a raw newline, so '\n' only
// ever separates messages.
std::string_view next_line(std::string_view text, std::size_t& position) {
  const char* start = text.data() + position;
  std::size_t left = text.size() - position;
  const void* newline = std::memchr(start, '\n', left);
  std::size_t length = newline == nullptr ? left : static_cast<const char*>(newline) - start;
  position += newline == nullptr ? length : length + 1;
  return {start, length};
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += "\\u00";
      out += hex[byte >> 4];
      out += hex[byte & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
}

// A forward-only reader over one JSON text, in place. Just enough JSON for
// Centrifugo's replies and pushes: strings are taken raw (escapes left as
// they are, which is fine for keys and the bench's ASCII payloads), values
// that do not matter are skipped whatever they hold.
class json_reader {
 public:
  explicit json_reader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool failed() const { return failed_; }
  const char* position() const { return p_; }
  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }

  bool at(char c) {
    skip_space();
    return p_ < end_ && *p_ == c;
  }

  bool consume(char c) {
    if (at(c)) {
      ++p_;
      return true;
    }
    return false;
  }

  // After begin_object(): the next member's key, its ':' consumed; false at
  // the object's end ('}' consumed) or on malformed input (failed()).
  bool begin_object() {
    if (!consume('{')) {
      failed_ = true;
      return false;
    }
    return true;
  }

  bool next_member(std::string_view& key) {
    if (consume('}')) {
      return false;
    }
    consume(',');  // lenient: a comma before the first member passes
    if (!string(key) || !consume(':')) {
      failed_ = true;
      return false;
    }
    return true;
  }

  // A string value's raw text between its quotes.
  bool string(std::string_view& raw) {
    if (!consume('"')) {
      return false;
    }
    const char* start = p_;
    while (p_ < end_) {
      char c = *p_;
      if (c == '"') {
        raw = std::string_view(start, static_cast<std::size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (end_ - p_ < 2) {
          break;
        }
        ++p_;
      }
      ++p_;
    }
    failed_ = true;
    return false;
  }

  // An unsigned integer up to `max`; anything else is skipped and gives 0.
  std::uint32_t unsigned_value(std::uint32_t max = std::numeric_limits<std::uint32_t>::max()) {
    skip_space();
    std::uint64_t value = 0;
    auto parsed = std::from_chars(p_, end_, value);
    if (parsed.ec == std::errc() && (parsed.ptr == end_ || !is_number_char(*parsed.ptr))) {
      p_ = parsed.ptr;
      return value > max ? max : static_cast<std::uint32_t>(value);
    }
    skip_value();
    return 0;
  }

  bool true_value() {
    skip_space();
    if (left() >= 4 && std::memcmp(p_, "true", 4) == 0) {
      p_ += 4;
      return true;
    }
    skip_value();
    return false;
  }

  // Skips one value of any kind.
  void skip_value() {
    skip_space();
    if (p_ == end_) {
      failed_ = true;
      return;
    }
    char c = *p_;
    if (c == '"') {
      std::string_view ignored;
      string(ignored);
      return;
    }
    if (c == '{' || c == '[') {
      std::size_t depth = 0;
      while (p_ < end_) {
        char d = *p_;
        if (d == '"') {
          std::string_view ignored;
          if (!string(ignored)) {
            return;
          }
          continue;
        }
        if (d == '{' || d == '[') {
          ++depth;
        } else if (d == '}' || d == ']') {
          if (--depth == 0) {
            ++p_;
            return;
          }
        }
        ++p_;
      }
      failed_ = true;
      return;
    }
    // A number or a literal: up to the next delimiter.
    const char* start = p_;
    while (p_ < end_ && !is_json_space(*p_) && *p_ != ',' && *p_ != '}' && *p_ != ']') {
      ++p_;
    }
    if (p_ == start) {
      failed_ = true;
    }
  }

  // Skips the rest of the object whose members are being read ('}'
  // consumed).
  void skip_rest_of_object() {
    std::string_view key;
    while (!failed_ && next_member(key)) {
      skip_value();
    }
  }

 private:
  static bool is_number_char(char c) {
    return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+';
  }

  void skip_space() {
    while (p_ < end_ && is_json_space(*p_)) {
      ++p_;
    }
  }

  const char* p_;
  const char* end_;
  bool failed_ = false;
};

// `"code":N` of an error or disconnect object, the reader at its '{'.
std::uint32_t read_code(json_reader& reader) {
  std::uint32_t code = 0;
  if (!reader.begin_object()) {
    return 0;
  }
  std::string_view key;
  while (reader.next_member(key)) {
    if (key == "code") {
      code = reader.unsigned_value();
    } else {
      reader.skip_value();
    }
  }
  return code;
}

// The push object, the reader at its '{'. Stops as soon as a publication's
// payload is found: nothing after it matters.
void read_push(json_reader& reader, centrifuge_message& message) {
  message.type = centrifuge_message_type::other_push;
  if (!reader.begin_object()) {
    return;
  }
  std::string_view key;
  while (reader.next_member(key)) {
    if (key == "pub") {
      // {"data":{"message":"<payload>"},"offset":..,"info":{..}}
      message.type = centrifuge_message_type::unparsable;
      if (!reader.begin_object()) {
        return;
      }
      std::string_view pub_key;
      while (reader.next_member(pub_key)) {
        if (pub_key != "data" || !reader.at('{')) {
          reader.skip_value();
          continue;
        }
        reader.begin_object();
        std::string_view data_key;
        while (reader.next_member(data_key)) {
          if (data_key == "message" && reader.consume('"')) {
            message.type = centrifuge_message_type::publication;
            message.payload = std::string_view(reader.position(), reader.left());
            return;
          }
          reader.skip_value();
        }
      }
      continue;  // no data.message: the rest of the push is read as usual
    }
    if (key == "disconnect") {
      message.type = centrifuge_message_type::disconnect;
      message.code = read_code(reader);
      return;
    }
    reader.skip_value();
  }
}

}  // namespace

centrifuge_message read_centrifuge_message(std::string_view line) {
  centrifuge_message message;
  json_reader reader(line);
  if (!reader.begin_object()) {
    return message;
  }
  bool has_push = false;
  std::string_view key;
  while (reader.next_member(key)) {
    if (key == "id") {
      message.id = reader.unsigned_value();
    } else if (key == "push") {
      has_push = true;
      read_push(reader, message);
      if (message.type == centrifuge_message_type::publication ||
          message.type == centrifuge_message_type::disconnect) {
        return message;  // pushes carry no id: nothing else can change this
      }
    } else if (key == "error") {
      message.has_error = true;
      message.code = read_code(reader);
    } else if (key == "connect" && reader.at('{')) {
      reader.begin_object();
      std::string_view result_key;
      while (reader.next_member(result_key)) {
        if (result_key == "pong") {
          message.pong = reader.true_value();
        } else {
          reader.skip_value();
        }
      }
    } else {
      reader.skip_value();
    }
  }
  if (reader.failed()) {
    message.type = centrifuge_message_type::unparsable;
  } else if (message.id > 0) {
    message.type = centrifuge_message_type::reply;
  } else if (has_push) {
    // other_push, or unparsable for a pub without data.message
  } else {
    message.type = centrifuge_message_type::ping;
  }
  return message;
}

centrifuge_json_protocol::centrifuge_json_protocol(std::string_view channel, std::string_view token,
                                                   std::uint32_t per_publisher_channels,
                                                   std::uint32_t extra_channels)
    : next_publish_id_(first_publish_id) {
  connect_command_ = R"({"connect":{"name":"herald-bench")";
  if (!token.empty()) {
    connect_command_ += R"(,"token":)";
    append_json_string(connect_command_, token);
  }
  connect_command_ += R"(},"id":1})";

  // Subscribe ids are all 2: publish ids start above it, and only the first
  // reply (the main subscribe's) is waited for.
  auto subscribe_command = [](std::string& text, std::string_view name) {
    text += R"({"subscribe":{"channel":)";
    append_json_string(text, name);
    text += R"(},"id":2})";
  };
  std::string extra_subscribes;
  for (std::uint32_t i = 0; i < extra_channels; ++i) {
    extra_subscribes += '\n';
    subscribe_command(extra_subscribes, std::string(channel) + ".extra." + std::to_string(i));
  }

  auto add_channel = [&](std::string_view name) {
    channel_texts& texts = channels_.emplace_back();
    subscribe_command(texts.subscribe_command, name);
    texts.subscribe_command += extra_subscribes;

    texts.publish_prefix = R"({"publish":{"channel":)";
    append_json_string(texts.publish_prefix, name);
    texts.publish_prefix += R"(,"data":{"message":")";

    texts.push_prefix = R"({"push":{"channel":)";
    append_json_string(texts.push_prefix, name);
    texts.push_prefix += R"(,"pub":{"data":{"message":")";
  };
  if (per_publisher_channels == 0) {
    add_channel(channel);
    return;
  }
  channels_.reserve(per_publisher_channels);
  for (std::uint32_t i = 0; i < per_publisher_channels; ++i) {
    add_channel(std::string(channel) + "." + std::to_string(i));
  }
}

setup_status centrifuge_json_protocol::begin_setup(std::uint32_t, std::uint8_t& state,
                                                   text_message_sink& out) {
  out.send_text(connect_command_);
  state = step_connect_sent;
  return setup_status::waiting;
}

setup_status centrifuge_json_protocol::continue_setup(std::string_view text, std::uint32_t channel,
                                                      std::uint8_t& state, text_message_sink& out,
                                                      setup_detail& detail) {
  std::size_t position = 0;
  while (position < text.size()) {
    std::string_view line = trim(next_line(text, position));
    if (line.empty()) {
      continue;
    }
    centrifuge_message message = read_centrifuge_message(line);
    std::uint8_t step = state & step_mask;
    switch (message.type) {
      case centrifuge_message_type::ping:
        if ((state & pong_wanted) != 0) {
          out.send_text(pong_message);
        }
        break;
      case centrifuge_message_type::disconnect:
        detail.failure = "disconnect " + std::to_string(message.code);
        return setup_status::failed;
      case centrifuge_message_type::reply:
        if (step == step_connect_sent && message.id == connect_id) {
          if (message.has_error) {
            detail.failure = "connect error " + std::to_string(message.code);
            return setup_status::failed;
          }
          if (message.pong) {
            state |= pong_wanted;
          }
          out.send_text(channels_[channel].subscribe_command);
          state = static_cast<std::uint8_t>((state & ~step_mask) | step_subscribe_sent);
        } else if (step == step_subscribe_sent && message.id == subscribe_id) {
          if (message.has_error) {
            detail.failure = "subscribe error " + std::to_string(message.code);
            return setup_status::failed;
          }
          state = static_cast<std::uint8_t>((state & ~step_mask) | step_ready);
          detail.rest = text.substr(position);
          return setup_status::ready;
        }
        break;
      default:
        break;  // nothing a connection that is not ready needs
    }
  }
  return setup_status::waiting;
}

void centrifuge_json_protocol::encode_publication(std::string_view payload, std::uint32_t channel,
                                                  std::string& text) {
  text.append(channels_[channel].publish_prefix);
  text.append(payload);
  text.append(R"("}},"id":)");
  char digits[16];
  text.append(digits, std::to_chars(digits, digits + sizeof digits, next_publish_id_).ptr);
  text += '}';
  next_publish_id_ = next_publish_id_ == std::numeric_limits<std::uint32_t>::max()
                         ? first_publish_id
                         : next_publish_id_ + 1;
}

void centrifuge_json_protocol::decode(std::string_view text, std::uint32_t channel,
                                      std::uint8_t& state, inbound_sink& in,
                                      text_message_sink& out) {
  const std::string& push_prefix = channels_[channel].push_prefix;
  std::size_t position = 0;
  while (position < text.size()) {
    std::string_view line = trim(next_line(text, position));
    if (line.empty()) {
      continue;
    }
    publication_stamp fast_stamp;
    if (line.size() > push_prefix.size() &&
        std::memcmp(line.data(), push_prefix.data(), push_prefix.size()) == 0 &&
        parse_payload(line.substr(push_prefix.size()), fast_stamp)) {
      in.on_publication(fast_stamp);
      continue;
    }
    centrifuge_message message = read_centrifuge_message(line);
    switch (message.type) {
      case centrifuge_message_type::publication: {
        publication_stamp stamp;
        if (parse_payload(message.payload, stamp)) {
          in.on_publication(stamp);
        } else {
          in.on_ignored();
        }
        break;
      }
      case centrifuge_message_type::ping:
        if ((state & pong_wanted) != 0) {
          out.send_text(pong_message);
        }
        break;
      case centrifuge_message_type::reply:
        if (message.has_error) {
          in.on_command_error(message.code);
        }
        break;  // a publish's {"id":N,"publish":{}}: nothing to do
      case centrifuge_message_type::disconnect:
        in.on_server_disconnect(static_cast<std::uint16_t>(
            std::min<std::uint32_t>(message.code, std::numeric_limits<std::uint16_t>::max())));
        return;
      case centrifuge_message_type::other_push:
      case centrifuge_message_type::unparsable:
        in.on_ignored();
        break;
    }
  }
}

}  // namespace herald::bench
