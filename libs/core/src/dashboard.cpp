#include "herald/core/dashboard.hpp"

#include <arpa/inet.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <memory>

#include <boost/json.hpp>

namespace herald::core {
namespace {

// Changing it invalidates every token issued before (and every node must
// agree on it).
constexpr std::string_view key_label = "herald dashboard token key v2";
constexpr const char* audience = "herald-dashboard";

struct jwt_deleter {
  void operator()(jwt_t* token) const { jwt_free(token); }
};
using jwt_handle = std::unique_ptr<jwt_t, jwt_deleter>;

struct text_deleter {
  void operator()(char* text) const { std::free(text); }
};

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

// PBKDF2-HMAC-SHA256, salted with key_label: every node derives the same
// key from the password alone, and a token someone obtained (any viewer's
// browser holds one) costs a password guesser this many HMACs per guess
// instead of one. OWASP's figure for PBKDF2-HMAC-SHA256; about a quarter
// of a second, once, at start.
constexpr int key_iterations = 600'000;

std::string derive_signing_key(std::string_view password) {
  unsigned char key[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(key_label.data()),
                    static_cast<int>(key_label.size()), key_iterations, EVP_sha256(), sizeof key,
                    key);
  return std::string(reinterpret_cast<const char*>(key), sizeof key);
}

// An integer claim; nullopt when absent or not an integer.
std::optional<std::int64_t> integer_claim(jwt_t* token, const char* name) {
  std::unique_ptr<char, text_deleter> raw{jwt_get_grants_json(token, name)};
  if (raw == nullptr) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(raw.get(), ec);
  if (ec || !value.is_int64()) {
    return std::nullopt;
  }
  return value.get_int64();
}

bool string_claim_is(jwt_t* token, const char* name, std::string_view expected) {
  const char* value = jwt_get_grant(token, name);
  return value != nullptr && std::string_view{value} == expected;
}

}  // namespace

void add_dashboard_namespace(channel_namespaces& namespaces) {
  namespaces.set_namespace(std::string{dashboard_namespace}, channel_options{});
}

dashboard_keys::dashboard_keys(std::string_view password)
    : password_digest_(sha256(password)), signing_key_(derive_signing_key(password)) {}

bool dashboard_keys::password_matches(std::string_view given) const {
  const auto digest = sha256(given);
  return CRYPTO_memcmp(digest.data(), password_digest_.data(), digest.size()) == 0;
}

std::string dashboard_keys::issue_token(std::int64_t now_unix) const {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) {
    return {};
  }
  jwt_handle token{raw};
  const std::string channel{dashboard_channel};
  if (jwt_add_grant(token.get(), "aud", audience) != 0 ||
      jwt_add_grant(token.get(), "channel", channel.c_str()) != 0 ||
      jwt_add_grant_int(token.get(), "iat", static_cast<long>(now_unix)) != 0 ||
      jwt_add_grant_int(token.get(), "exp",
                        static_cast<long>(now_unix + dashboard_token_ttl_seconds)) != 0 ||
      jwt_set_alg(token.get(), JWT_ALG_HS256,
                  reinterpret_cast<const unsigned char*>(signing_key_.data()),
                  static_cast<int>(signing_key_.size())) != 0) {
    return {};
  }
  std::unique_ptr<char, text_deleter> text{jwt_encode_str(token.get())};
  return text == nullptr ? std::string{} : std::string{text.get()};
}

token_problem dashboard_keys::verify_token(std::string_view token, std::int64_t now_unix) const {
  if (token.empty()) {
    return token_problem::invalid;
  }
  const std::string text{token};
  jwt_t* raw = nullptr;
  if (jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(signing_key_.data()),
                 static_cast<int>(signing_key_.size())) != 0) {
    return token_problem::invalid;
  }
  const jwt_handle decoded{raw};
  if (jwt_get_alg(decoded.get()) != JWT_ALG_HS256 ||
      !string_claim_is(decoded.get(), "aud", audience) ||
      !string_claim_is(decoded.get(), "channel", dashboard_channel)) {
    return token_problem::invalid;
  }
  const auto expires_at = integer_claim(decoded.get(), "exp");
  if (!expires_at) {
    return token_problem::invalid;  // never a token without an end
  }
  return *expires_at <= now_unix ? token_problem::expired : token_problem::none;
}

std::optional<std::string> decode_dashboard_login(std::string_view body) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 4;
  const boost::json::value value = boost::json::parse(body, ec, {}, options);
  if (ec || !value.is_object()) {
    return std::nullopt;
  }
  const auto* password = value.get_object().if_contains("password");
  if (password == nullptr || !password->is_string()) {
    return std::nullopt;
  }
  return std::string{password->get_string()};
}

std::string attempt_key(std::string_view address) {
  const std::string text{address};
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) {
    return text;  // IPv4 (IPv4-mapped addresses arrive as IPv4 already) or not an address
  }
  for (std::size_t i = 8; i < sizeof v6.s6_addr; ++i) {
    v6.s6_addr[i] = 0;
  }
  char prefix[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, &v6, prefix, sizeof prefix) == nullptr) {
    return text;
  }
  return std::string{prefix} + "/64";
}

attempt_limiter::attempt_limiter(std::uint32_t max_failures, clock::duration window,
                                 std::size_t max_addresses)
    : max_failures_(max_failures), window_(window), max_addresses_(max_addresses) {}

void attempt_limiter::forget_expired(clock::time_point now) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    if (now - it->second.window_start >= window_) {
      it = failures_.erase(it);
    } else {
      ++it;
    }
  }
}

bool attempt_limiter::allowed(const std::string& address, clock::time_point now) {
  auto it = failures_.find(address);
  if (it == failures_.end()) {
    if (failures_.size() >= max_addresses_) {
      forget_expired(now);
    }
    return failures_.size() < max_addresses_;
  }
  if (now - it->second.window_start >= window_) {
    failures_.erase(it);
    return true;
  }
  return it->second.count < max_failures_;
}

void attempt_limiter::failed(const std::string& address, clock::time_point now) {
  auto it = failures_.find(address);
  if (it != failures_.end() && now - it->second.window_start >= window_) {
    failures_.erase(it);
    it = failures_.end();
  }
  if (it == failures_.end()) {
    if (failures_.size() >= max_addresses_) {
      forget_expired(now);
      if (failures_.size() >= max_addresses_) {
        return;  // allowed() refuses new addresses meanwhile
      }
    }
    it = failures_.emplace(address, entry{0, now}).first;
  }
  ++it->second.count;
}

}  // namespace herald::core
