#include <catch2/catch.hpp>

#include <jwt.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include <boost/json.hpp>

#include "herald/core/channel_policy.hpp"
#include "herald/core/dashboard.hpp"
#include "herald/core/settings.hpp"
#include "herald/core/stats_document.hpp"
#include "herald/core/token_verifier.hpp"

using herald::core::attempt_limiter;
using herald::core::dashboard_channel;
using herald::core::dashboard_keys;
using herald::core::token_problem;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t now = 1'800'000'000;

// A token as a backend with `key` would sign it.
std::string sign(const std::string& claims_json, const std::string& key) {
  jwt_t* raw = nullptr;
  REQUIRE(jwt_new(&raw) == 0);
  std::unique_ptr<jwt_t, void (*)(jwt_t*)> token{raw, jwt_free};
  REQUIRE(jwt_add_grants_json(token.get(), claims_json.c_str()) == 0);
  REQUIRE(jwt_set_alg(token.get(), JWT_ALG_HS256,
                      reinterpret_cast<const unsigned char*>(key.data()),
                      static_cast<int>(key.size())) == 0);
  char* text = jwt_encode_str(token.get());
  REQUIRE(text != nullptr);
  std::string result{text};
  std::free(text);
  return result;
}

}  // namespace

TEST_CASE("dashboard password: only the exact password matches", "[dashboard]") {
  const dashboard_keys keys{"s3cret"};
  CHECK(keys.password_matches("s3cret"));
  CHECK_FALSE(keys.password_matches("s3cre"));
  CHECK_FALSE(keys.password_matches("s3cret "));
  CHECK_FALSE(keys.password_matches("S3cret"));
  CHECK_FALSE(keys.password_matches(""));
  CHECK_FALSE(keys.password_matches(std::string("s3cret\0x", 8)));
}

TEST_CASE("dashboard token: issued tokens verify on every node with the password", "[dashboard]") {
  const dashboard_keys issuer{"s3cret"};
  const dashboard_keys other_node{"s3cret"};
  const std::string token = issuer.issue_token(now);
  REQUIRE_FALSE(token.empty());
  CHECK(issuer.verify_token(token, now) == token_problem::none);
  CHECK(other_node.verify_token(token, now + 1) == token_problem::none);
  CHECK(other_node.verify_token(token, now + herald::core::dashboard_token_ttl_seconds - 1) ==
        token_problem::none);
  CHECK(other_node.verify_token(token, now + herald::core::dashboard_token_ttl_seconds) ==
        token_problem::expired);
  CHECK(dashboard_keys{"other"}.verify_token(token, now) == token_problem::invalid);
  CHECK(issuer.verify_token("", now) == token_problem::invalid);
  CHECK(issuer.verify_token("a.b.c", now) == token_problem::invalid);
}

TEST_CASE("dashboard token: neither signed with the password nor a client token", "[dashboard]") {
  const dashboard_keys keys{"s3cret"};
  const std::string token = keys.issue_token(now);
  // The password itself is not the key: a token signed with it is refused.
  const std::string claims = R"({"aud":"herald-dashboard","channel":")" +
                             std::string{dashboard_channel} + R"(","exp":)" +
                             std::to_string(now + 60) + "}";
  CHECK(keys.verify_token(sign(claims, "s3cret"), now) == token_problem::invalid);
  // A dashboard token is no client token, even where token-hmac-secret is
  // the dashboard's password.
  const herald::core::token_verifier client_tokens{"s3cret"};
  CHECK_FALSE(client_tokens.verify_connect(token, now).ok());
  CHECK_FALSE(client_tokens.verify_channel(token, now).ok());
}

TEST_CASE("dashboard token: its claims are the dashboard's", "[dashboard]") {
  const dashboard_keys keys{"s3cret"};
  const std::string token = keys.issue_token(now);
  jwt_t* raw = nullptr;
  REQUIRE(jwt_decode(&raw, token.c_str(), nullptr, 0) == 0);
  std::unique_ptr<jwt_t, void (*)(jwt_t*)> decoded{raw, jwt_free};
  CHECK(std::string{jwt_get_grant(decoded.get(), "aud")} == "herald-dashboard");
  CHECK(std::string{jwt_get_grant(decoded.get(), "channel")} == dashboard_channel);
  CHECK(jwt_get_grant_int(decoded.get(), "exp") == now + herald::core::dashboard_token_ttl_seconds);
  CHECK(jwt_get_grant(decoded.get(), "sub") == nullptr);
}

TEST_CASE("decode_dashboard_login takes {\"password\": string} only", "[dashboard]") {
  CHECK(herald::core::decode_dashboard_login(R"({"password":"pw"})") == "pw");
  CHECK(herald::core::decode_dashboard_login(R"({"password":""})") == "");
  CHECK_FALSE(herald::core::decode_dashboard_login(R"({"password":1})"));
  CHECK_FALSE(herald::core::decode_dashboard_login(R"({})"));
  CHECK_FALSE(herald::core::decode_dashboard_login(R"(["pw"])"));
  CHECK_FALSE(herald::core::decode_dashboard_login("password=pw"));
  CHECK_FALSE(herald::core::decode_dashboard_login(""));
}

TEST_CASE("the stats channel: no client may publish or subscribe without a token", "[dashboard]") {
  // Even a configuration that opens every channel to every client.
  herald::core::settings s;
  for (const char* key :
       {"allow-subscribe-for-client", "allow-subscribe-for-anonymous", "allow-publish-for-client",
        "allow-publish-for-anonymous", "allow-publish-for-subscriber"}) {
    REQUIRE_FALSE(herald::core::apply_setting(s, key, "true"));
  }
  // No configuration can name its namespace.
  CHECK(herald::core::apply_setting(s, "namespaces.herald.dashboard.allow-publish-for-client",
                                    "true"));
  herald::core::channel_namespaces namespaces = s.namespaces;
  const herald::core::requester user{"alice"};
  const herald::core::requester anonymous{""};
  using herald::core::channel_refusal;
  {
    const herald::core::channel_policy off{
        std::make_shared<const herald::core::channel_namespaces>(namespaces)};
    CHECK(off.subscribe(dashboard_channel, user, {}).refusal == channel_refusal::unknown_channel);
    CHECK(off.publish(dashboard_channel, user, true) == channel_refusal::unknown_channel);
  }
  herald::core::add_dashboard_namespace(namespaces);
  const herald::core::channel_policy on{
      std::make_shared<const herald::core::channel_namespaces>(namespaces)};
  CHECK(on.subscribe(dashboard_channel, user, {}).refusal == channel_refusal::permission_denied);
  CHECK(on.subscribe(dashboard_channel, anonymous, {}).refusal ==
        channel_refusal::permission_denied);
  CHECK(on.publish(dashboard_channel, user, true) == channel_refusal::permission_denied);
  CHECK(on.publish(dashboard_channel, anonymous, true) == channel_refusal::permission_denied);
  CHECK(on.read(herald::core::channel_read::history, dashboard_channel, user, true) ==
        channel_refusal::not_available);
  herald::core::subscription_ask with_token;
  with_token.token = herald::core::channel_token::valid;
  CHECK(on.subscribe(dashboard_channel, anonymous, with_token).allowed());
}

TEST_CASE("attempt_limiter: a few failures per address per window", "[dashboard]") {
  attempt_limiter limiter{3, 60s, 2};
  const auto t0 = attempt_limiter::clock::time_point{} + 1000s;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(limiter.allowed("a", t0));
    limiter.failed("a", t0);
  }
  CHECK_FALSE(limiter.allowed("a", t0 + 59s));
  CHECK(limiter.allowed("b", t0 + 59s));  // others are not concerned
  CHECK(limiter.allowed("a", t0 + 60s));  // the window is over
  limiter.failed("a", t0 + 60s);
  CHECK(limiter.allowed("a", t0 + 60s));
}

TEST_CASE("attempt_limiter: a full table refuses new addresses until it clears", "[dashboard]") {
  attempt_limiter limiter{3, 60s, 2};
  const auto t0 = attempt_limiter::clock::time_point{} + 1000s;
  limiter.failed("a", t0);
  limiter.failed("b", t0);
  CHECK(limiter.tracked() == 2);
  CHECK(limiter.allowed("a", t0));
  CHECK_FALSE(limiter.allowed("c", t0 + 1s));
  limiter.failed("c", t0 + 1s);
  CHECK(limiter.tracked() == 2);
  CHECK(limiter.allowed("c", t0 + 60s));
  limiter.failed("c", t0 + 60s);
  CHECK(limiter.tracked() == 1);
}

TEST_CASE("attempt_key: IPv4 alone, IPv6 by its /64", "[dashboard]") {
  using herald::core::attempt_key;
  CHECK(attempt_key("192.0.2.7") == "192.0.2.7");
  CHECK(attempt_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64");
  CHECK(attempt_key("2001:db8:1:2::1") == attempt_key("2001:db8:1:2:ffff::9"));
  CHECK(attempt_key("2001:db8:1:3::1") != attempt_key("2001:db8:1:2::1"));
  CHECK(attempt_key("::1") == "::/64");
  CHECK(attempt_key("") == "");
  CHECK(attempt_key("not an address") == "not an address");
}

TEST_CASE("stats document: figures, rates over the interval, totals", "[dashboard]") {
  herald::core::metrics_snapshot before;
  before.publications = 10;
  before.deliveries = 100;
  before.bytes_in = 1000;
  before.bytes_out = 5000;
  before.cpu_seconds = 2.0;
  before.by_protocol[0].slow_disconnects = 1;
  herald::core::metrics_snapshot after = before;
  after.publications = 30;
  after.deliveries = 300;
  after.bytes_in = 2000;
  after.bytes_out = 9000;
  after.cpu_seconds = 2.5;
  after.by_protocol[0].slow_disconnects = 2;
  after.by_protocol[1].slow_disconnects = 3;
  after.by_protocol[0].connections = 4;
  after.by_protocol[1].connections = 7;
  after.resident_bytes = 12345678;
  const std::string text =
      herald::core::encode_stats_document("node \"a\"", 1'700'000'000'123, before, after, 2.0);
  const auto doc = boost::json::parse(text).as_object();
  CHECK(doc.at("node").as_string() == "node \"a\"");
  CHECK(doc.at("time").as_int64() == 1'700'000'000'123);
  CHECK(doc.at("interval").as_double() == 2.0);
  CHECK(doc.at("connections").as_object().at("ws").to_number<std::uint64_t>() == 4);
  CHECK(doc.at("connections").as_object().at("centrifuge").to_number<std::uint64_t>() == 7);
  const auto& rates = doc.at("rates").as_object();
  CHECK(rates.at("publications").as_double() == 10.0);
  CHECK(rates.at("deliveries").as_double() == 100.0);
  CHECK(rates.at("bytes_in").as_double() == 500.0);
  CHECK(rates.at("bytes_out").as_double() == 2000.0);
  CHECK(rates.at("slow_disconnects").as_double() == 2.0);
  const auto& totals = doc.at("totals").as_object();
  CHECK(totals.at("publications").to_number<std::uint64_t>() == 30);
  CHECK(totals.at("deliveries").to_number<std::uint64_t>() == 300);
  CHECK(totals.at("bytes_in").to_number<std::uint64_t>() == 2000);
  CHECK(totals.at("bytes_out").to_number<std::uint64_t>() == 9000);
  CHECK(totals.at("slow_disconnects").to_number<std::uint64_t>() == 5);
  CHECK(doc.at("cpu").as_double() == 0.25);
  CHECK(doc.at("rss_bytes").to_number<std::uint64_t>() == 12345678);
  CHECK(doc.at("engine").as_string() == "memory");
  CHECK(doc.size() == 9);
}

TEST_CASE("stats document: no interval, no rates; the engine's state", "[dashboard]") {
  herald::core::metrics_snapshot m;
  m.publications = 5;
  auto doc = boost::json::parse(herald::core::encode_stats_document("n", 0, {}, m, 0)).as_object();
  CHECK(doc.at("rates").as_object().at("publications").as_double() == 0.0);
  CHECK(doc.at("cpu").as_double() == 0.0);
  m.engine.shared = true;
  CHECK(herald::core::engine_state(m) == "down");
  m.engine.up = true;
  CHECK(herald::core::engine_state(m) == "up");
  doc = boost::json::parse(herald::core::encode_stats_document("n", 0, m, {}, 1)).as_object();
  CHECK(doc.at("rates").as_object().at("publications").as_double() == 0.0);  // never negative
}
