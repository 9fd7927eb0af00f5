#pragma once

#include <string_view>

namespace herald::core {

// Who may call the server API (docs/protocol.md): with `api-key` set, a caller
// carrying that key (401 otherwise); without one, loopback callers only
// (403 for others, whom no key could let in).
enum class api_access { allowed, unauthorized, loopback_only };

// The key a request carries: `X-API-Key: KEY`, else `Authorization: apikey
// KEY` (the scheme in any case); empty when neither.
std::string_view api_key_of(std::string_view x_api_key, std::string_view authorization);

api_access check_api_access(std::string_view configured_key, std::string_view given_key,
                            bool from_loopback);

}  // namespace herald::core
