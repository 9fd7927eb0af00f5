#include <catch2/catch.hpp>

#include <jwt.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "herald/core/token_verifier.hpp"

using herald::core::token_problem;
using herald::core::token_verifier;

namespace {

constexpr std::int64_t now = 1'800'000'000;
const std::string secret = "test-secret";

// Signs `claims_json` with libjwt, as a backend would.
std::string sign(const std::string& claims_json, jwt_alg_t alg = JWT_ALG_HS256,
                 const std::string& key = secret) {
  jwt_t* raw = nullptr;
  REQUIRE(jwt_new(&raw) == 0);
  std::unique_ptr<jwt_t, void (*)(jwt_t*)> token{raw, jwt_free};
  REQUIRE(jwt_add_grants_json(token.get(), claims_json.c_str()) == 0);
  const auto* key_bytes = reinterpret_cast<const unsigned char*>(key.data());
  REQUIRE(jwt_set_alg(token.get(), alg, alg == JWT_ALG_NONE ? nullptr : key_bytes,
                      alg == JWT_ALG_NONE ? 0 : static_cast<int>(key.size())) == 0);
  char* text = jwt_encode_str(token.get());
  REQUIRE(text != nullptr);
  std::string result{text};
  std::free(text);
  return result;
}

}  // namespace

TEST_CASE("a valid connect token yields its claims", "[token_verifier]") {
  const token_verifier verifier{secret};
  const auto result = verifier.verify_connect(
      sign(R"({"sub":"42","exp":1800000060,"info":{"name":"Ann"},"channels":["news","chat:a"]})"),
      now);
  REQUIRE(result.ok());
  CHECK(result.claims.user == "42");
  REQUIRE(result.claims.expires_at);
  CHECK(*result.claims.expires_at == 1'800'000'060);
  CHECK(result.claims.info_json == R"({"name":"Ann"})");
  CHECK(result.claims.channels == std::vector<std::string>{"news", "chat:a"});
}

TEST_CASE("a connect token without exp never expires; sub may be empty", "[token_verifier]") {
  const token_verifier verifier{secret};
  const auto result = verifier.verify_connect(sign(R"({"sub":""})"), now);
  REQUIRE(result.ok());
  CHECK(result.claims.user.empty());
  CHECK_FALSE(result.claims.expires_at);
  CHECK(result.claims.info_json.empty());
  CHECK(result.claims.channels.empty());
  CHECK(verifier.verify_connect(sign(R"({"sub":"1","exp":0})"), now).ok());
}

TEST_CASE("an expired connect token is told apart from an invalid one", "[token_verifier]") {
  const token_verifier verifier{secret};
  CHECK(verifier.verify_connect(sign(R"({"sub":"1","exp":1800000000})"), now).problem ==
        token_problem::expired);
  CHECK(verifier.verify_connect(sign(R"({"sub":"1","exp":1799999999})"), now).problem ==
        token_problem::expired);
  CHECK(verifier.verify_connect(sign(R"({"sub":"1","exp":1800000001})"), now).ok());
}

TEST_CASE("tokens signed otherwise are invalid", "[token_verifier]") {
  const token_verifier verifier{secret};
  const std::string claims = R"({"sub":"1"})";
  CHECK(verifier.verify_connect(sign(claims, JWT_ALG_HS256, "other-secret"), now).problem ==
        token_problem::invalid);
  // Another algorithm with the same secret, or none at all: never accepted.
  CHECK(verifier.verify_connect(sign(claims, JWT_ALG_HS512), now).problem ==
        token_problem::invalid);
  CHECK(verifier.verify_connect(sign(claims, JWT_ALG_NONE), now).problem == token_problem::invalid);
  // A valid token with one character of its signature changed.
  std::string tampered = sign(claims);
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  CHECK(verifier.verify_connect(tampered, now).problem == token_problem::invalid);
}

TEST_CASE("malformed tokens and claims are invalid", "[token_verifier]") {
  const token_verifier verifier{secret};
  for (const char* garbage : {"", "abc", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9..", "\x01\x02"}) {
    CHECK(verifier.verify_connect(garbage, now).problem == token_problem::invalid);
  }
  CHECK_FALSE(verifier.verify_connect(sign(R"({"sub":"1","channels":"news"})"), now).ok());
  CHECK_FALSE(verifier.verify_connect(sign(R"({"sub":"1","channels":[1]})"), now).ok());
  CHECK_FALSE(verifier.verify_connect(sign(R"({"sub":"1","exp":"soon"})"), now).ok());
}

TEST_CASE("a token before its nbf, or with a sub that is not a string, is invalid",
          "[token_verifier]") {
  const token_verifier verifier{secret};
  CHECK(verifier.verify_connect(sign(R"({"sub":"1","nbf":1800000001})"), now).problem ==
        token_problem::invalid);
  CHECK(verifier.verify_connect(sign(R"({"sub":"1","nbf":1800000000})"), now).ok());
  CHECK(verifier.verify_connect(sign(R"({"sub":"1","nbf":0})"), now).ok());
  CHECK_FALSE(verifier.verify_connect(sign(R"({"sub":"1","nbf":"later"})"), now).ok());
  CHECK(
      verifier.verify_channel(sign(R"({"sub":"1","channel":"c","nbf":1800000060})"), now).problem ==
      token_problem::invalid);
  for (const char* claims : {R"({"sub":42})", R"({"sub":null})", R"({"sub":["a"]})",
                             R"({"sub":{"id":"1"}})", R"({"sub":true})"}) {
    INFO(claims);
    CHECK(verifier.verify_connect(sign(claims), now).problem == token_problem::invalid);
  }
  CHECK(verifier.verify_connect(sign(R"({"exp":1800000060})"), now).claims.user.empty());
}

TEST_CASE("without a secret no token is valid", "[token_verifier]") {
  const token_verifier verifier{""};
  CHECK_FALSE(verifier.enabled());
  CHECK(verifier.verify_connect(sign(R"({"sub":"1"})"), now).problem == token_problem::invalid);
}

TEST_CASE("channel tokens name their channel and user", "[token_verifier]") {
  const token_verifier verifier{secret};
  const auto result = verifier.verify_channel(
      sign(R"({"sub":"42","channel":"private:room","exp":1800000060,"info":{"role":"admin"}})"),
      now);
  REQUIRE(result.ok());
  CHECK(result.claims.user == "42");
  CHECK(result.claims.channel == "private:room");
  CHECK(result.claims.info_json == R"({"role":"admin"})");
  CHECK(verifier.verify_channel(sign(R"({"sub":"42"})"), now).problem == token_problem::invalid);
  CHECK(verifier.verify_channel(sign(R"({"sub":"42","channel":"c","exp":5})"), now).problem ==
        token_problem::expired);
}
