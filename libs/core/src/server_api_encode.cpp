// Response bodies of the server HTTP API, written straight into the caller's
// buffer. Field order and omitted members follow Go's encoding/json of
// Centrifugo's apiproto structs (see the header's sources).

#include <algorithm>
#include <charconv>

#include "herald/core/server_api.hpp"

namespace herald::core::server_api {

namespace {

using client_protocol::append_json_string;

template <class Integer>
void append_number(std::string& out, Integer value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

// `"name":` - member names are literals of this file and need no escaping.
void append_key(std::string& out, std::string_view name) {
  out.push_back('"');
  out.append(name);
  out.append("\":");
}

// `{"code":C,"message":".."}`: message is `omitempty` in Go.
void append_error_object(std::string& out, const api_error& error) {
  out.append("{\"code\":");
  append_number(out, error.code);
  if (!error.message.empty()) {
    out.append(",\"message\":");
    append_json_string(out, error.message);
  }
  out.push_back('}');
}

// `{"offset":O,"epoch":"E"}`, each `omitempty`.
void append_publish_object(std::string& out, const publish_result& result) {
  out.push_back('{');
  if (result.offset != 0) {
    append_key(out, "offset");
    append_number(out, result.offset);
  }
  if (!result.epoch.empty()) {
    if (result.offset != 0) {
      out.push_back(',');
    }
    append_key(out, "epoch");
    append_json_string(out, result.epoch);
  }
  out.push_back('}');
}

// ClientInfo: user and client always, the raw infos when set.
void append_client_info(std::string& out, const client_protocol::client_info_view& info) {
  out.append("{\"user\":");
  append_json_string(out, info.user);
  out.append(",\"client\":");
  append_json_string(out, info.client);
  if (!info.conn_info.empty()) {
    out.append(",\"conn_info\":");
    out.append(info.conn_info);
  }
  if (!info.chan_info.empty()) {
    out.append(",\"chan_info\":");
    out.append(info.chan_info);
  }
  out.push_back('}');
}

// Go writes a map's members sorted by key.
template <class Item, class Key>
std::vector<const Item*> sorted_by(const std::vector<Item>& items, Key key) {
  std::vector<const Item*> sorted;
  sorted.reserve(items.size());
  for (const Item& item : items) {
    sorted.push_back(&item);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&key](const Item* a, const Item* b) { return key(*a) < key(*b); });
  return sorted;
}

// `{"result":` - the caller writes the result object and one '}'.
void begin_result(std::string& out) {
  out.append("{\"result\":");
}

}  // namespace

void append_error(std::string& out, const api_error& error) {
  out.append("{\"error\":");
  append_error_object(out, error);
  out.push_back('}');
}

void append_empty_result(std::string& out) {
  out.append("{\"result\":{}}");
}

void append_publish_result(std::string& out, const publish_result& result) {
  begin_result(out);
  append_publish_object(out, result);
  out.push_back('}');
}

void append_broadcast_result(std::string& out, const std::vector<broadcast_item>& items) {
  begin_result(out);
  out.append("{\"responses\":[");
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) {
      out.push_back(',');
    }
    // A PublishResponse: its error, or its result.
    if (items[i].error) {
      append_error(out, *items[i].error);
    } else {
      append_publish_result(out, items[i].result);
    }
  }
  out.append("]}}");
}

void append_presence_result(std::string& out,
                            const std::vector<client_protocol::client_info_view>& clients) {
  begin_result(out);
  out.append("{\"presence\":{");
  const auto sorted =
      sorted_by(clients, [](const client_protocol::client_info_view& info) { return info.client; });
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i != 0) {
      out.push_back(',');
    }
    append_json_string(out, sorted[i]->client);
    out.push_back(':');
    append_client_info(out, *sorted[i]);
  }
  out.append("}}}");
}

void append_presence_stats_result(std::string& out, std::uint32_t num_clients,
                                  std::uint32_t num_users) {
  begin_result(out);
  out.append("{\"num_clients\":");
  append_number(out, num_clients);
  out.append(",\"num_users\":");
  append_number(out, num_users);
  out.append("}}");
}

void append_history_result(std::string& out,
                           const std::vector<client_protocol::publication_view>& publications,
                           std::string_view epoch, std::uint64_t offset) {
  begin_result(out);
  out.append("{\"publications\":[");
  for (std::size_t i = 0; i < publications.size(); ++i) {
    if (i != 0) {
      out.push_back(',');
    }
    client_protocol::append_publication(out, publications[i]);
  }
  out.append("],\"epoch\":");
  append_json_string(out, epoch);
  out.append(",\"offset\":");
  append_number(out, offset);
  out.append("}}");
}

void append_channels_result(std::string& out, const std::vector<channel_info>& channels) {
  begin_result(out);
  out.append("{\"channels\":{");
  const auto sorted = sorted_by(channels, [](const channel_info& info) { return info.name; });
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i != 0) {
      out.push_back(',');
    }
    append_json_string(out, sorted[i]->name);
    out.append(":{");
    if (sorted[i]->num_clients != 0) {
      append_key(out, "num_clients");
      append_number(out, sorted[i]->num_clients);
    }
    out.push_back('}');
  }
  out.append("}}}");
}

void append_info_result(std::string& out, const node_info& node) {
  append_info_result(out, std::vector<node_info>{node});
}

void append_info_result(std::string& out, const std::vector<node_info>& nodes) {
  begin_result(out);
  out.append("{\"nodes\":[");
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const node_info& node = nodes[i];
    out.append(i == 0 ? "{\"uid\":" : ",{\"uid\":");
    append_json_string(out, node.uid);
    out.append(",\"name\":");
    append_json_string(out, node.name);
    out.append(",\"version\":");
    append_json_string(out, node.version);
    out.append(",\"num_clients\":");
    append_number(out, node.num_clients);
    out.append(",\"num_users\":");
    append_number(out, node.num_users);
    out.append(",\"num_channels\":");
    append_number(out, node.num_channels);
    if (node.uptime != 0) {
      out.append(",\"uptime\":");
      append_number(out, node.uptime);
    }
    out.append(",\"num_subs\":");
    append_number(out, node.num_subs);
    out.push_back('}');
  }
  out.append("]}}");
}

std::string_view plain_text_body(unsigned http_status) {
  switch (http_status) {
    case 400:
      return "Bad Request\n";  // http.Error(w, http.StatusText(400), 400)
    case 404:
      return "404 page not found\n";  // http.NotFound, ServeMux's answer
    default:
      return {};
  }
}

}  // namespace herald::core::server_api
