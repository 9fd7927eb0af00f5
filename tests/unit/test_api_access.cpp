#include <catch2/catch.hpp>

#include "herald/core/api_access.hpp"

using herald::core::api_access;
using herald::core::api_key_of;
using herald::core::check_api_access;

TEST_CASE("the API key comes from X-API-Key or Authorization: apikey", "[api_access]") {
  CHECK(api_key_of("k1", "apikey k2") == "k1");
  CHECK(api_key_of("", "apikey k2") == "k2");
  CHECK(api_key_of("", "ApiKey k2") == "k2");
  CHECK(api_key_of("", "Bearer k2").empty());
  CHECK(api_key_of("", "apikey ").empty());
  CHECK(api_key_of("", "").empty());
}

TEST_CASE("with api-key set, only that key gets in, from anywhere", "[api_access]") {
  CHECK(check_api_access("secret", "secret", false) == api_access::allowed);
  CHECK(check_api_access("secret", "secret", true) == api_access::allowed);
  CHECK(check_api_access("secret", "", true) == api_access::unauthorized);
  CHECK(check_api_access("secret", "secreT", true) == api_access::unauthorized);
  CHECK(check_api_access("secret", "secret2", false) == api_access::unauthorized);
}

TEST_CASE("without api-key, loopback callers only, whatever key they send", "[api_access]") {
  CHECK(check_api_access("", "", true) == api_access::allowed);
  CHECK(check_api_access("", "anything", true) == api_access::allowed);
  CHECK(check_api_access("", "", false) == api_access::loopback_only);
  CHECK(check_api_access("", "anything", false) == api_access::loopback_only);
}
