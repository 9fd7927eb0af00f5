#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "herald/core/channel_options.hpp"
#include "herald/core/token_verifier.hpp"

// Who may watch the live dashboard (`dashboard = true`): a person who knows
// `dashboard-password` trades it at POST /dashboard/token for a short-lived
// HS256 token, which connects a client-protocol session that may subscribe
// to the stats channel and do nothing else. docs/protocol.md, "Dashboard".
namespace herald::core {

// A namespace no configuration can name (namespace names have no `.`), so
// no namespace rule of the operator's applies to the channel; registered by
// add_dashboard_namespace() with every permission off, so that clients can
// neither publish there nor subscribe without the dashboard's token. The
// `$` makes it private too: no token, no subscription.
inline constexpr std::string_view dashboard_namespace = "herald.dashboard";
// Every node publishes its figures there once a second.
inline constexpr std::string_view dashboard_channel = "$herald.dashboard:stats";
inline constexpr std::string_view dashboard_token_path = "/dashboard/token";
// How long an issued token may be presented to connect (and subscribe); a
// connection it admitted lasts until it closes, and the page asks for a
// new token when it has to connect again later (the SDK's getToken).
inline constexpr std::int64_t dashboard_token_ttl_seconds = 600;

// Adds the stats channel's namespace to `namespaces`, every option off.
void add_dashboard_namespace(channel_namespaces& namespaces);

// The password check and the tokens. Every node derives the same signing
// key from the password alone (PBKDF2-HMAC-SHA256, 600,000 rounds, a fixed
// salt: slow on purpose, since every viewer holds a token that a guesser
// could test passwords against), so a token issued by one node is good on every node that
// shares the configuration, token-hmac-secret set or not; and the key is
// not token-hmac-secret, so no token a backend signs is a dashboard token
// and no dashboard token is a client token.
class dashboard_keys {
 public:
  explicit dashboard_keys(std::string_view password);

  // Constant time: compares SHA-256 digests of both, so neither the length
  // nor the first differing byte shows in the time taken.
  bool password_matches(std::string_view given) const;

  // A token for the stats channel: HS256, `aud` "herald-dashboard",
  // `channel`, `iat` and `exp` (now + dashboard_token_ttl_seconds).
  std::string issue_token(std::int64_t now_unix) const;

  // none: signed with this key, HS256, for the dashboard and its channel,
  // `exp` in the future; expired: all that but past its `exp`; invalid:
  // anything else (another key, another algorithm, a client token).
  token_problem verify_token(std::string_view token, std::int64_t now_unix) const;

 private:
  std::array<unsigned char, 32> password_digest_{};
  std::string signing_key_;
};

// The password from the token endpoint's body, `{"password":"..."}`;
// nullopt when the body is not such an object.
std::optional<std::string> decode_dashboard_login(std::string_view body);

// Whom the attempt limiter counts for a peer address: an IPv4 address
// alone, but an IPv6 address's /64 ("2001:db8:1:2::/64"), since one host
// is usually given a whole /64 and could otherwise take a fresh address
// for every five guesses. Text that is no address is returned as it is.
std::string attempt_key(std::string_view address);

// Guessing the password: each address may fail `max_failures` times per
// `window`; then it is refused until its window ends. At most
// `max_addresses` addresses are tracked; when that many failed within their
// windows, new addresses are refused too (a flood of addresses locks the
// endpoint for a window rather than growing the table).
class attempt_limiter {
 public:
  using clock = std::chrono::steady_clock;

  attempt_limiter(std::uint32_t max_failures, clock::duration window, std::size_t max_addresses);

  // Whether `address` may try now.
  bool allowed(const std::string& address, clock::time_point now);
  // Counts a wrong password from `address`.
  void failed(const std::string& address, clock::time_point now);

  std::size_t tracked() const { return failures_.size(); }

 private:
  struct entry {
    std::uint32_t count = 0;
    clock::time_point window_start;
  };
  void forget_expired(clock::time_point now);

  std::uint32_t max_failures_;
  clock::duration window_;
  std::size_t max_addresses_;
  std::unordered_map<std::string, entry> failures_;
};

}  // namespace herald::core
