#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::core {

// Why a token was not accepted. Centrifugo answers an expired connect token
// with error 109 (the client refreshes in band) and any other bad token with
// disconnect 3500 (invalid token, no reconnect).
enum class token_problem { none, invalid, expired };

// Claims of a connection token (Centrifugo's connect JWT).
struct connect_claims {
  std::string user;                        // `sub`; "" is anonymous
  std::optional<std::int64_t> expires_at;  // `exp`, Unix seconds; none: never
  std::string info_json;                   // `info`, raw JSON; "" if absent
  std::vector<std::string> channels;       // `channels`: server-side subscriptions
};

// Claims of a subscription token for one channel.
struct channel_claims {
  std::string user;     // `sub`: must be the connection's user
  std::string channel;  // `channel`: must be the channel subscribed
  std::optional<std::int64_t> expires_at;
  std::string info_json;  // `info`: channel info for presence and pubs
};

template <class Claims>
struct token_result {
  token_problem problem = token_problem::invalid;
  Claims claims;
  bool ok() const { return problem == token_problem::none; }
};

// Checks HS256 JWTs with the configured `token-hmac-secret`, through
// libjwt: signature (constant-time, by libjwt), algorithm (only HS256: a
// token that names another algorithm, "none" included, is invalid), and
// expiry against the `now` given, so that callers and tests control time.
class token_verifier {
 public:
  explicit token_verifier(std::string hmac_secret);

  // Without a secret every token is invalid.
  bool enabled() const { return !secret_.empty(); }

  token_result<connect_claims> verify_connect(std::string_view token, std::int64_t now_unix) const;
  token_result<channel_claims> verify_channel(std::string_view token, std::int64_t now_unix) const;

 private:
  std::string secret_;
};

}  // namespace herald::core
