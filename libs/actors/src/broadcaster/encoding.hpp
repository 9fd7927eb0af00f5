#pragma once

// The broadcaster's state as the client-protocol and server-API encoders
// take it: views into the shared publications and the presence registry,
// valid while those are, and the wire errors of the channel policy's
// refusals.

#include <vector>

#include "herald/core/channel_history.hpp"
#include "herald/core/channel_policy.hpp"
#include "herald/core/client_protocol.hpp"
#include "herald/core/frame.hpp"
#include "herald/core/presence.hpp"
#include "herald/core/server_api.hpp"

namespace herald::actors::broadcaster_parts {

// The info of `publication`'s publisher; unset when it has none (/ws and
// server API publications).
core::client_protocol::client_info_view info_view_of(const core::publication& publication);

// `info` of client `client_id`.
core::client_protocol::client_info_view info_view_of(const std::string& client_id,
                                                     const core::client_info& info);

// Publications, each with its publisher's info where it has one; `views`
// point into `infos`, so the whole is never copied or moved once filled.
struct publication_views {
  std::vector<core::client_protocol::client_info_view> infos;
  std::vector<core::client_protocol::publication_view> views;
};

publication_views views_of(
    const std::vector<core::history_publication<core::publication_ptr>>& publications);

// The bytes of the publications' data: a lower bound of any reply that
// carries them.
std::uint64_t data_bytes(
    const std::vector<core::history_publication<core::publication_ptr>>& publications);

// The clients of a channel's presence.
std::vector<core::client_protocol::client_info_view> presence_views(
    const core::presence_registry::client_map& clients);

// The error a client or API caller gets for `refusal`; nullptr for none,
// and for invalid_token, which disconnects a client instead.
const core::client_protocol::client_error* client_error_of(core::channel_refusal refusal);
const core::server_api::api_error* api_error_of(core::channel_refusal refusal);

}  // namespace herald::actors::broadcaster_parts
