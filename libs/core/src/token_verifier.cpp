#include "herald/core/token_verifier.hpp"

#include <jwt.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include <boost/json.hpp>

namespace herald::core {
namespace {

struct jwt_deleter {
  void operator()(jwt_t* token) const { jwt_free(token); }
};
using jwt_handle = std::unique_ptr<jwt_t, jwt_deleter>;

struct json_text_deleter {
  void operator()(char* text) const { std::free(text); }
};

// Decodes and checks the signature; null if the token is malformed, signed
// with another key, or names any algorithm but HS256.
jwt_handle decode_hs256(std::string_view token, const std::string& secret) {
  if (secret.empty() || token.empty()) {
    return {};
  }
  const std::string text{token};  // libjwt wants a terminated string
  jwt_t* raw = nullptr;
  if (jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 0) {
    return {};
  }
  jwt_handle decoded{raw};
  if (jwt_get_alg(decoded.get()) != JWT_ALG_HS256) {
    return {};
  }
  return decoded;
}

std::string string_claim(jwt_t* token, const char* name) {
  const char* value = jwt_get_grant(token, name);
  return value == nullptr ? std::string{} : std::string{value};
}

// Raw JSON of a claim that may be any value (`info`), "" if absent.
std::string json_claim(jwt_t* token, const char* name) {
  std::unique_ptr<char, json_text_deleter> text{jwt_get_grants_json(token, name)};
  return text == nullptr ? std::string{} : std::string{text.get()};
}

// A NumericDate claim (`exp`, `nbf`): absent or 0 means none (as
// Centrifugo); anything but an integer is bad.
bool read_time(jwt_t* token, const char* name, std::optional<std::int64_t>& at) {
  const std::string raw = json_claim(token, name);
  if (raw.empty()) {
    return true;
  }
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(raw, ec);
  if (ec) {
    return false;
  }
  if (const auto* number = value.if_int64()) {
    if (*number != 0) {
      at = *number;
    }
    return true;
  }
  if (const auto* number = value.if_uint64()) {
    at = static_cast<std::int64_t>(*number);
    return true;
  }
  return false;
}

// `sub`: absent means "" (an anonymous user, as Centrifugo); anything but a
// string is bad, rather than silently the anonymous user.
bool read_user(jwt_t* token, std::string& user) {
  const std::string raw = json_claim(token, "sub");
  if (raw.empty()) {
    return true;
  }
  const char* value = jwt_get_grant(token, "sub");
  if (value == nullptr) {
    return false;  // present, not a string
  }
  user = value;
  return true;
}

bool read_channels(jwt_t* token, std::vector<std::string>& channels) {
  const std::string raw = json_claim(token, "channels");
  if (raw.empty()) {
    return true;
  }
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(raw, ec);
  if (ec || !value.is_array()) {
    return false;
  }
  for (const auto& item : value.get_array()) {
    if (!item.is_string()) {
      return false;
    }
    channels.emplace_back(item.get_string());
  }
  return true;
}

bool is_expired(const std::optional<std::int64_t>& expires_at, std::int64_t now_unix) {
  return expires_at && *expires_at <= now_unix;
}

// What both kinds of token share: an HS256 signature, `sub`, `info` and
// `exp`; `read_rest` reads the kind's own claims and says whether they are
// valid.
template <class Claims, class ReadRest>
token_result<Claims> verify(std::string_view token, const std::string& secret,
                            std::int64_t now_unix, ReadRest read_rest) {
  token_result<Claims> result;
  const jwt_handle decoded = decode_hs256(token, secret);
  if (!decoded) {
    return result;
  }
  auto& claims = result.claims;
  claims.info_json = json_claim(decoded.get(), "info");
  std::optional<std::int64_t> not_before;
  if (!read_user(decoded.get(), claims.user) ||
      !read_time(decoded.get(), "exp", claims.expires_at) ||
      !read_time(decoded.get(), "nbf", not_before) || !read_rest(decoded.get(), claims)) {
    return result;
  }
  if (not_before && *not_before > now_unix) {
    return result;  // not valid yet: invalid, as Centrifugo's verifier says
  }
  result.problem =
      is_expired(claims.expires_at, now_unix) ? token_problem::expired : token_problem::none;
  return result;
}

}  // namespace

token_verifier::token_verifier(std::string hmac_secret) : secret_(std::move(hmac_secret)) {}

token_result<connect_claims> token_verifier::verify_connect(std::string_view token,
                                                            std::int64_t now_unix) const {
  return verify<connect_claims>(token, secret_, now_unix,
                                [](jwt_t* decoded, connect_claims& claims) {
                                  return read_channels(decoded, claims.channels);
                                });
}

token_result<channel_claims> token_verifier::verify_channel(std::string_view token,
                                                            std::int64_t now_unix) const {
  return verify<channel_claims>(token, secret_, now_unix,
                                [](jwt_t* decoded, channel_claims& claims) {
                                  claims.channel = string_claim(decoded, "channel");
                                  return !claims.channel.empty();
                                });
}

}  // namespace herald::core
