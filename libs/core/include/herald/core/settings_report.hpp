#pragma once

// The settings as the start line reports them: every top-level key with its
// value, and the secrets masked, so that a log shipped elsewhere does not
// carry them.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "herald/core/settings.hpp"

namespace herald::core {

// token-hmac-secret, api-key, redis-password, dashboard-password, and any
// later key named *-secret or *-password.
bool is_secret_key(std::string_view key);

// What the log shows of a secret: "***" when it is set, "" when it is not
// (which an operator needs to know: no key means loopback-only API, no
// secret means no token is valid).
std::string masked(std::string_view secret);

// Every top-level key, in option_table() order, with its value as text:
// strings unquoted, lists as "[a, b]", durations with their unit; secrets
// masked. Then "namespaces": the configured namespaces' names.
std::vector<std::pair<std::string, std::string>> reported_settings(const settings& s);

}  // namespace herald::core
