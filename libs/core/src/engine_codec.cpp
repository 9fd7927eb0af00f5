#include "herald/core/engine_codec.hpp"

#include <charconv>

namespace herald::core {
namespace {

void append_field(std::string& out, std::string_view field) {
  out.append(std::to_string(field.size())).push_back(':');
  out.append(field);
}

void append_number(std::string& out, std::uint64_t number) {
  append_field(out, std::to_string(number));
}

// Whether `digits` spell a number the encoders could have written: no
// leading zero, so that every message has exactly one encoding.
bool canonical(const char* begin, const char* end) {
  return end - begin == 1 || *begin != '0';
}

// Reads fields off the front of a text; any malformed one fails the rest.
class field_reader {
 public:
  explicit field_reader(std::string_view text) : rest_(text) {}

  std::optional<std::string_view> field() {
    std::size_t length = 0;
    const char* const begin = rest_.data();
    const char* const end = begin + rest_.size();
    auto [after, error] = std::from_chars(begin, end, length);
    if (error != std::errc{} || after == begin || !canonical(begin, after) || after == end ||
        *after != ':' || static_cast<std::size_t>(end - after - 1) < length) {
      rest_ = {};
      failed_ = true;
      return std::nullopt;
    }
    const std::string_view value{after + 1, length};
    rest_.remove_prefix(static_cast<std::size_t>(after + 1 - begin) + length);
    return value;
  }

  bool string(std::string& out) {
    auto value = field();
    if (value) {
      out.assign(*value);
    }
    return value.has_value();
  }

  template <class Number>
  bool number(Number& out) {
    auto value = field();
    if (!value || value->empty()) {
      return false;
    }
    auto [after, error] = std::from_chars(value->data(), value->data() + value->size(), out);
    const char* const end = value->data() + value->size();
    return error == std::errc{} && after == end && canonical(value->data(), end);
  }

  // One tag letter; false at the end or on another letter.
  bool tag(char expected) {
    if (rest_.empty() || rest_.front() != expected) {
      return false;
    }
    rest_.remove_prefix(1);
    return true;
  }

  bool done() const { return !failed_ && rest_.empty(); }

 private:
  std::string_view rest_;
  bool failed_ = false;
};

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

constexpr std::string_view publication_prefix = "__p1:";
constexpr std::string_view join_prefix = "__j__";
constexpr std::string_view leave_prefix = "__l__";

}  // namespace

std::string encode_publication_payload(const publication& item) {
  std::string out;
  out.reserve(item.data.size() + 16);
  out.push_back('d');
  append_field(out, item.data);
  if (item.publisher) {
    const publisher_info& who = *item.publisher;
    out.push_back('i');
    append_field(out, who.user);
    append_field(out, who.client);
    append_field(out, who.conn_info);
    append_field(out, who.chan_info);
  }
  return out;
}

std::optional<publication_ptr> decode_publication_payload(std::string_view payload) {
  field_reader reader{payload};
  std::string data;
  if (!reader.tag('d') || !reader.string(data)) {
    return std::nullopt;
  }
  std::shared_ptr<publisher_info> publisher;
  if (reader.tag('i')) {
    publisher = std::make_shared<publisher_info>();
    if (!reader.string(publisher->user) || !reader.string(publisher->client) ||
        !reader.string(publisher->conn_info) || !reader.string(publisher->chan_info)) {
      return std::nullopt;
    }
  }
  if (!reader.done()) {
    return std::nullopt;
  }
  return make_publication(std::move(data), nullptr, std::move(publisher));
}

std::string encode_client_info(const client_info& info) {
  std::string out;
  append_field(out, info.user);
  append_field(out, info.conn_info);
  append_field(out, info.chan_info);
  return out;
}

std::optional<client_info> decode_client_info(std::string_view text) {
  field_reader reader{text};
  client_info info;
  if (!reader.string(info.user) || !reader.string(info.conn_info) ||
      !reader.string(info.chan_info) || !reader.done()) {
    return std::nullopt;
  }
  return info;
}

std::string encode_unpositioned_publication(const publication& item) {
  return std::string{publication_prefix} + "0:__" + encode_publication_payload(item);
}

std::string encode_presence_change(const engine_presence_change& change) {
  std::string out{change.join ? join_prefix : leave_prefix};
  append_field(out, change.client_id);
  out += encode_client_info(change.info);
  return out;
}

std::optional<engine_message> decode_engine_message(std::string_view message) {
  if (starts_with(message, publication_prefix)) {
    message.remove_prefix(publication_prefix.size());
    engine_publication out;
    auto [after, error] =
        std::from_chars(message.data(), message.data() + message.size(), out.offset);
    const std::size_t digits = static_cast<std::size_t>(after - message.data());
    if (error != std::errc{} || digits == 0 || !canonical(message.data(), after) ||
        digits >= message.size() || *after != ':') {
      return std::nullopt;
    }
    message.remove_prefix(digits + 1);
    const std::size_t end_of_epoch = message.find("__");
    if (end_of_epoch == std::string_view::npos) {
      return std::nullopt;
    }
    out.epoch.assign(message.substr(0, end_of_epoch));
    auto publication = decode_publication_payload(message.substr(end_of_epoch + 2));
    if (!publication || (out.offset == 0) != out.epoch.empty()) {
      return std::nullopt;
    }
    out.publication = std::move(*publication);
    return engine_message{std::move(out)};
  }
  const bool join = starts_with(message, join_prefix);
  if (!join && !starts_with(message, leave_prefix)) {
    return std::nullopt;
  }
  message.remove_prefix(join_prefix.size());
  field_reader reader{message};
  engine_presence_change change;
  change.join = join;
  auto client_id = reader.field();
  if (!client_id || client_id->empty()) {
    return std::nullopt;
  }
  change.client_id.assign(*client_id);
  const std::size_t used = client_id->data() + client_id->size() - message.data();
  auto info = decode_client_info(message.substr(used));
  if (!info) {
    return std::nullopt;
  }
  change.info = std::move(*info);
  return engine_message{std::move(change)};
}

namespace {

struct control_encoder {
  std::string& out;

  void operator()(const node_announcement& node) {
    out.push_back('n');
    append_field(out, node.uid);
    append_field(out, node.name);
    append_field(out, node.version);
    append_number(out, node.uptime);
    append_number(out, node.num_clients);
    append_number(out, node.num_users);
    append_number(out, node.num_subs);
    append_number(out, node.num_channels);
  }

  void operator()(const unsubscribe_command& command) {
    out.push_back('u');
    append_field(out, command.user);
    append_field(out, command.client);
    append_field(out, command.channel);
  }

  void operator()(const disconnect_command& command) {
    out.push_back('x');
    append_field(out, command.user);
    append_field(out, command.client);
    append_number(out, command.code);
    append_field(out, command.reason);
    append_number(out, command.whitelist.size());
    for (const auto& client : command.whitelist) {
      append_field(out, client);
    }
  }

  void operator()(const channels_survey& survey) {
    out.push_back('s');
    append_field(out, survey.id);
    append_field(out, survey.pattern);
  }

  void operator()(const channels_answer& answer) {
    out.push_back('a');
    append_field(out, answer.id);
    append_field(out, answer.origin);
    append_number(out, answer.channels.size());
    for (const auto& [name, subscribers] : answer.channels) {
      append_field(out, name);
      append_number(out, subscribers);
    }
  }
};

}  // namespace

std::string encode_control_message(const control_message& message) {
  std::string out;
  std::visit(control_encoder{out}, message);
  return out;
}

std::optional<control_message> decode_control_message(std::string_view message) {
  field_reader reader{message};
  if (reader.tag('n')) {
    node_announcement node;
    if (reader.string(node.uid) && reader.string(node.name) && reader.string(node.version) &&
        reader.number(node.uptime) && reader.number(node.num_clients) &&
        reader.number(node.num_users) && reader.number(node.num_subs) &&
        reader.number(node.num_channels) && reader.done() && !node.uid.empty()) {
      return control_message{std::move(node)};
    }
    return std::nullopt;
  }
  if (reader.tag('u')) {
    unsubscribe_command command;
    if (reader.string(command.user) && reader.string(command.client) &&
        reader.string(command.channel) && reader.done()) {
      return control_message{std::move(command)};
    }
    return std::nullopt;
  }
  if (reader.tag('x')) {
    disconnect_command command;
    std::size_t spared = 0;
    if (!reader.string(command.user) || !reader.string(command.client) ||
        !reader.number(command.code) || !reader.string(command.reason) || !reader.number(spared)) {
      return std::nullopt;
    }
    // Each spared client costs at least two bytes of the message, so a
    // count the message cannot hold is refused before any allocation.
    if (spared > message.size() / 2) {
      return std::nullopt;
    }
    command.whitelist.resize(spared);
    for (auto& client : command.whitelist) {
      if (!reader.string(client)) {
        return std::nullopt;
      }
    }
    if (reader.done()) {
      return control_message{std::move(command)};
    }
    return std::nullopt;
  }
  if (reader.tag('s')) {
    channels_survey survey;
    if (reader.string(survey.id) && reader.string(survey.pattern) && reader.done() &&
        !survey.id.empty()) {
      return control_message{std::move(survey)};
    }
    return std::nullopt;
  }
  if (reader.tag('a')) {
    channels_answer answer;
    std::size_t count = 0;
    if (!reader.string(answer.id) || !reader.string(answer.origin) || !reader.number(count) ||
        count > message.size() / 4) {  // each entry takes at least 4 bytes
      return std::nullopt;
    }
    answer.channels.resize(count);
    for (auto& [name, subscribers] : answer.channels) {
      if (!reader.string(name) || !reader.number(subscribers)) {
        return std::nullopt;
      }
    }
    if (reader.done() && !answer.id.empty()) {
      return control_message{std::move(answer)};
    }
  }
  return std::nullopt;
}

}  // namespace herald::core
