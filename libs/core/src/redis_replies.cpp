#include "herald/core/redis_replies.hpp"

#include <charconv>

#include "herald/core/engine_codec.hpp"

namespace herald::core {
namespace {

std::optional<std::uint64_t> number_in(std::string_view text) {
  std::uint64_t number = 0;
  auto [after, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc{} || text.empty() || after != text.data() + text.size()) {
    return std::nullopt;
  }
  return number;
}

// A stream entry ID "<offset>-0" (the publish script adds entries with
// their offset as ID).
std::optional<std::uint64_t> offset_of_entry_id(std::string_view id) {
  const std::size_t dash = id.find('-');
  if (dash == std::string_view::npos || id.substr(dash + 1) != "0") {
    return std::nullopt;
  }
  return number_in(id.substr(0, dash));
}

// One XRANGE entry: {id, {field, value, ...}} with field "d" the payload.
std::optional<history_publication<publication_ptr>> entry_of(const resp_value& entry) {
  if (!entry.is_array() || entry.elements.size() != 2 || !entry.elements[0].is_string() ||
      !entry.elements[1].is_array()) {
    return std::nullopt;
  }
  auto offset = offset_of_entry_id(entry.elements[0].text);
  const auto& fields = entry.elements[1].elements;
  if (!offset || fields.size() != 2 || !fields[0].is_string() || fields[0].text != "d" ||
      !fields[1].is_string()) {
    return std::nullopt;
  }
  auto publication = decode_publication_payload(fields[1].text);
  if (!publication) {
    return std::nullopt;
  }
  return history_publication<publication_ptr>{*offset, std::move(*publication)};
}

}  // namespace

std::optional<std::uint64_t> unsigned_of(const resp_value& value) {
  if (value.type == resp_value::kind::integer) {
    if (value.integer < 0) {
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(value.integer);
  }
  if (value.type == resp_value::kind::string) {
    return number_in(value.text);
  }
  return std::nullopt;
}

std::optional<stream_position> parse_stream_position(const resp_value& value) {
  if (!value.is_array() || value.elements.size() < 2 || !value.elements[1].is_string()) {
    return std::nullopt;
  }
  auto offset = unsigned_of(value.elements[0]);
  if (!offset || value.elements[1].text.empty()) {
    return std::nullopt;
  }
  return stream_position{*offset, value.elements[1].text};
}

std::optional<stream_read> parse_stream_read(const resp_value& value, std::size_t max_entries) {
  auto position = parse_stream_position(value);
  if (!position || value.elements.size() != 3) {
    return std::nullopt;
  }
  stream_read read;
  read.position = std::move(*position);
  const resp_value& entries = value.elements[2];
  if (entries.type == resp_value::kind::nil) {
    return read;
  }
  if (!entries.is_array() || entries.elements.size() > max_entries) {
    return std::nullopt;
  }
  read.publications.reserve(entries.elements.size());
  for (const auto& entry : entries.elements) {
    auto publication = entry_of(entry);
    if (!publication || publication->offset == 0 || publication->offset > read.position.offset) {
      return std::nullopt;
    }
    read.publications.push_back(std::move(*publication));
  }
  return read;
}

bool is_recovered(const stream_read& read, std::uint64_t since_offset,
                  const std::string& since_epoch, std::size_t max_publications) {
  const std::uint64_t top = read.position.offset;
  if ((!since_epoch.empty() && since_epoch != read.position.epoch) || since_offset > top) {
    return false;
  }
  const std::uint64_t missed = top - since_offset;
  if (missed > max_publications || read.publications.size() != missed) {
    return false;
  }
  // Contiguous from since_offset + 1: none was trimmed or expired.
  for (std::size_t i = 0; i < read.publications.size(); ++i) {
    if (read.publications[i].offset != since_offset + 1 + i) {
      return false;
    }
  }
  return true;
}

std::optional<std::unordered_map<std::string, client_info>> parse_presence(
    const resp_value& value) {
  if (!value.is_array() || value.elements.size() % 2 != 0) {
    return std::nullopt;
  }
  std::unordered_map<std::string, client_info> clients;
  clients.reserve(value.elements.size() / 2);
  for (std::size_t i = 0; i < value.elements.size(); i += 2) {
    const auto& id = value.elements[i];
    const auto& info = value.elements[i + 1];
    if (!id.is_string() || id.text.empty() || !info.is_string()) {
      return std::nullopt;
    }
    auto decoded = decode_client_info(info.text);
    if (!decoded) {
      return std::nullopt;
    }
    clients.insert_or_assign(id.text, std::move(*decoded));
  }
  return clients;
}

std::optional<presence_stats> parse_presence_stats(const resp_value& value) {
  if (!value.is_array() || value.elements.size() != 2) {
    return std::nullopt;
  }
  auto clients = unsigned_of(value.elements[0]);
  auto users = unsigned_of(value.elements[1]);
  if (!clients || !users || *users > *clients) {
    return std::nullopt;
  }
  return presence_stats{static_cast<std::size_t>(*clients), static_cast<std::size_t>(*users)};
}

std::optional<pubsub_event> parse_pubsub_event(resp_value&& value) {
  if (!value.is_array() || value.elements.size() < 2) {
    return std::nullopt;
  }
  auto& parts = value.elements;
  if (!parts[0].is_string() || !parts[1].is_string()) {
    return std::nullopt;
  }
  const std::string& kind = parts[0].text;
  pubsub_event event;
  event.channel = std::move(parts[1].text);
  if (kind == "message" && parts.size() == 3 && parts[2].is_string()) {
    event.what = pubsub_event::kind::message;
    event.payload = std::move(parts[2].text);
    return event;
  }
  if (parts.size() == 3 && parts[2].type == resp_value::kind::integer) {
    if (kind == "subscribe") {
      event.what = pubsub_event::kind::subscribed;
      return event;
    }
    if (kind == "unsubscribe") {
      event.what = pubsub_event::kind::unsubscribed;
      return event;
    }
  }
  if (kind == "pong" && parts.size() == 2) {
    event.what = pubsub_event::kind::pong;
    return event;
  }
  return std::nullopt;
}

}  // namespace herald::core
