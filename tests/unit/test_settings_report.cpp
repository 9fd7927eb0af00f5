#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "herald/core/settings.hpp"
#include "herald/core/settings_report.hpp"

using herald::core::is_secret_key;
using herald::core::masked;
using herald::core::reported_settings;
using herald::core::settings;

namespace {

std::map<std::string, std::string> reported(const settings& s) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : reported_settings(s)) {
    out[key] = value;
  }
  return out;
}

}  // namespace

TEST_CASE("the secrets are the keys that hold them", "[settings_report]") {
  CHECK(is_secret_key("token-hmac-secret"));
  CHECK(is_secret_key("api-key"));
  CHECK(is_secret_key("redis-password"));
  CHECK(is_secret_key("dashboard-password"));
  CHECK_FALSE(is_secret_key("redis-user"));
  CHECK_FALSE(is_secret_key("api-max-body-bytes"));
  CHECK_FALSE(is_secret_key("port"));
}

TEST_CASE("a masked secret says whether it is set, never what it is", "[settings_report]") {
  CHECK(masked("hunter2") == "***");
  CHECK(masked("").empty());
}

TEST_CASE("the reported settings mask every secret and show the rest", "[settings_report]") {
  settings s;
  REQUIRE_FALSE(apply_setting(s, "token-hmac-secret", "s3cr3t-token"));
  REQUIRE_FALSE(apply_setting(s, "api-key", "s3cr3t-api"));
  REQUIRE_FALSE(apply_setting(s, "redis-user", "herald"));
  REQUIRE_FALSE(apply_setting(s, "port", "9001"));
  REQUIRE_FALSE(apply_setting(s, "seed-channel", "with \"quotes\""));
  REQUIRE_FALSE(apply_setting(s, "namespaces.chat.presence", "true"));
  const auto values = reported(s);
  CHECK(values.at("token-hmac-secret") == "***");
  CHECK(values.at("api-key") == "***");
  CHECK(values.at("redis-password").empty());  // not set
  CHECK(values.at("redis-user") == "herald");
  CHECK(values.at("port") == "9001");
  CHECK(values.at("seed-channel") == "with \"quotes\"");  // unquoted as set
  CHECK(values.at("idle-timeout") == "60s");
  CHECK(values.at("log-level") == "info");
  CHECK(values.at("namespaces") == "chat");
  for (const auto& [key, value] : reported_settings(s)) {
    CHECK(value.find("s3cr3t") == std::string::npos);
  }
}

TEST_CASE("the reported settings list every key once", "[settings_report]") {
  const auto values = reported_settings(settings{});
  CHECK(values.size() == herald::core::option_table().size() + 1);  // and "namespaces"
  CHECK(reported(settings{}).size() == values.size());
}
