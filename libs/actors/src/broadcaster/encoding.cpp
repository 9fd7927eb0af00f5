#include "encoding.hpp"

#include <cassert>

namespace herald::actors::broadcaster_parts {

namespace cp = core::client_protocol;

cp::client_info_view info_view_of(const core::publication& publication) {
  if (!publication.publisher) {
    return {};
  }
  const core::publisher_info& who = *publication.publisher;
  return cp::client_info_view{who.user, who.client, who.conn_info, who.chan_info};
}

cp::client_info_view info_view_of(const std::string& client_id, const core::client_info& info) {
  return cp::client_info_view{info.user, client_id, info.conn_info, info.chan_info};
}

publication_views views_of(
    const std::vector<core::history_publication<core::publication_ptr>>& publications) {
  publication_views out;
  out.infos.reserve(publications.size());  // never reallocated: the views point into it
  out.views.reserve(publications.size());
  for (const auto& item : publications) {
    out.infos.push_back(info_view_of(*item.payload));
    out.views.push_back(cp::publication_view{
        item.payload->data, item.offset, item.payload->publisher ? &out.infos.back() : nullptr});
  }
  return out;
}

std::uint64_t data_bytes(
    const std::vector<core::history_publication<core::publication_ptr>>& publications) {
  std::uint64_t bytes = 0;
  for (const auto& item : publications) {
    bytes += item.payload->data.size();
  }
  return bytes;
}

std::vector<cp::client_info_view> presence_views(const core::presence_registry::client_map& map) {
  std::vector<cp::client_info_view> views;
  views.reserve(map.size());
  for (const auto& [client_id, info] : map) {
    views.push_back(info_view_of(client_id, info));
  }
  return views;
}

const cp::client_error* client_error_of(core::channel_refusal refusal) {
  using core::channel_refusal;
  switch (refusal) {
    case channel_refusal::unknown_channel:
      return &cp::errors::unknown_channel;
    case channel_refusal::permission_denied:
      return &cp::errors::permission_denied;
    case channel_refusal::not_available:
      return &cp::errors::not_available;
    case channel_refusal::token_expired:
      return &cp::errors::token_expired;
    case channel_refusal::none:
    case channel_refusal::invalid_token:
      break;
  }
  return nullptr;
}

const core::server_api::api_error* api_error_of(core::channel_refusal refusal) {
  namespace api = core::server_api;
  using core::channel_refusal;
  switch (refusal) {
    case channel_refusal::unknown_channel:
      return &api::errors::unknown_channel;
    case channel_refusal::not_available:
      return &api::errors::not_available;
    case channel_refusal::none:
      return nullptr;
    case channel_refusal::permission_denied:
    case channel_refusal::token_expired:
    case channel_refusal::invalid_token:
      break;
  }
  // The API is trusted: the policy's api_read and known() never refuse for
  // a client's permissions or tokens.
  assert(false && "a client-only refusal reached the server API");
  return &api::errors::internal;
}

}  // namespace herald::actors::broadcaster_parts
