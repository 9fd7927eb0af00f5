#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "herald/core/server_api.hpp"
#include "json_test_support.hpp"

namespace api = herald::core::server_api;
namespace cp = herald::core::client_protocol;
using herald::test::bytes;
using herald::test::parse_json;

namespace {

// A request that must decode.
template <class Request>
Request decoded(std::string_view method, std::string_view body) {
  INFO("method: " << method << ", body: " << body);
  api::decode_result result = api::decode(method, body);
  INFO("detail: " << result.detail);
  REQUIRE(result.http_status == 200);
  REQUIRE_FALSE(result.error);
  REQUIRE(result.detail.empty());
  REQUIRE(result.value.has_value());
  auto* request = std::get_if<Request>(&*result.value);
  REQUIRE(request != nullptr);
  return std::move(*request);
}

// A request answered with HTTP 200 and `{"error":..}`.
void require_error(std::string_view method, std::string_view body, const api::api_error& error,
                   std::string_view detail) {
  INFO("method: " << method << ", body: " << body);
  const api::decode_result result = api::decode(method, body);
  REQUIRE(result.http_status == 200);
  REQUIRE_FALSE(result.value);
  REQUIRE(result.error.has_value());
  REQUIRE(*result.error == error);
  REQUIRE(result.detail == detail);
}

// A request answered with a bare HTTP status.
void require_status(std::string_view method, std::string_view body, unsigned status) {
  INFO("method: " << method << ", body: " << body);
  const api::decode_result result = api::decode(method, body);
  REQUIRE(result.http_status == status);
  REQUIRE_FALSE(result.value);
  REQUIRE_FALSE(result.error);
  REQUIRE_FALSE(result.detail.empty());
}

template <class Append>
std::string body_of(Append append) {
  std::string out;
  append(out);
  parse_json(out);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Routing and bodies that do not decode
// ---------------------------------------------------------------------------

TEST_CASE("error codes match Centrifugo's apiproto errors.go", "[server_api]") {
  CHECK(api::errors::internal == api::api_error{100, "internal server error"});
  CHECK(api::errors::unknown_channel == api::api_error{102, "unknown channel"});
  CHECK(api::errors::method_not_found == api::api_error{104, "method not found"});
  CHECK(api::errors::bad_request == api::api_error{107, "bad request"});
  CHECK(api::errors::not_available == api::api_error{108, "not available"});
  CHECK(api::errors::unrecoverable_position == api::api_error{112, "unrecoverable position"});
  CHECK(api::default_disconnect.code == 3503);
  CHECK(api::default_disconnect.reason == "force disconnect");
}

TEST_CASE("a method outside the ten is Go's 404", "[server_api]") {
  for (std::string_view method : {"", "foo", "batch", "subscribe", "refresh", "rpc", "Publish",
                                  "publish/", "/publish", "api/publish"}) {
    require_status(method, R"({"channel":"c","data":1})", 404);
  }
  CHECK(api::plain_text_body(404) == "404 page not found\n");
}

TEST_CASE("a body Go's json.Unmarshal rejects is a 400", "[server_api]") {
  const std::vector<std::string> bodies = {
      "",  // Centrifugo: "unexpected end of JSON input"
      "   ",
      "not json",
      "[]",  // not an object
      "1",
      R"("publish")",
      "true",
      R"({"channel":"c","data":1} x)",             // trailing garbage
      R"({"channel":"c","data":1,})",              // no extensions
      bytes("{\"channel\":\"\xff\",\"data\":1}"),  // invalid UTF-8
  };
  for (const std::string& body : bodies) {
    require_status("publish", body, 400);
    require_status("info", body, 400);
  }
  CHECK(api::plain_text_body(400) == "Bad Request\n");
  CHECK(api::plain_text_body(500).empty());
}

TEST_CASE("nesting deeper than max_json_depth is a 400", "[server_api]") {
  const auto nested = [](std::size_t depth) {
    return R"({"channel":"c","data":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
  };
  // The body object itself is one level.
  decoded<api::publish_request>("publish", nested(api::max_json_depth - 1));
  require_status("publish", nested(api::max_json_depth), 400);
}

TEST_CASE("members of the wrong type are a 400, as Go's UnmarshalTypeError", "[server_api]") {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"publish", R"({"channel":1,"data":1})"},
      {"publish", R"({"channel":"c","data":1,"skip_history":"true"})"},
      {"publish", R"({"channel":"c","data":1,"b64data":1})"},
      {"publish", R"({"channel":"c","data":1,"tags":{"a":1}})"},
      {"publish", R"({"channel":"c","data":1,"tags":["a"]})"},
      {"publish", R"({"channel":"c","data":1,"idempotency_key":1})"},
      {"publish", R"({"channel":"c","data":1,"delta":"yes"})"},
      {"broadcast", R"({"channels":"c","data":1})"},
      {"broadcast", R"({"channels":["a",1],"data":1})"},
      {"unsubscribe", R"({"channel":"c","user":42})"},
      {"unsubscribe", R"({"channel":"c","user":"u","client":true})"},
      {"disconnect", R"({"user":"u","whitelist":"c"})"},
      {"disconnect", R"({"user":"u","disconnect":3000})"},
      {"disconnect", R"({"user":"u","disconnect":{"code":"3000"}})"},
      {"disconnect", R"({"user":"u","disconnect":{"code":-1}})"},
      {"disconnect", R"({"user":"u","disconnect":{"code":4294967296}})"},
      {"disconnect", R"({"user":"u","disconnect":{"code":3000,"reason":1}})"},
      {"presence", R"({"channel":["c"]})"},
      {"presence_stats", R"({"channel":{}})"},
      {"history", R"({"channel":"c","limit":1.5})"},
      {"history", R"({"channel":"c","limit":1e3})"},
      {"history", R"({"channel":"c","limit":2147483648})"},
      {"history", R"({"channel":"c","limit":"10"})"},
      {"history", R"({"channel":"c","reverse":1})"},
      {"history", R"({"channel":"c","since":"1"})"},
      {"history", R"({"channel":"c","since":{"offset":-1,"epoch":"e"}})"},
      {"history", R"({"channel":"c","since":{"offset":1,"epoch":7}})"},
      {"history_remove", R"({"channel":false})"},
      {"channels", R"({"pattern":1})"},
  };
  for (const auto& [method, body] : cases) {
    require_status(method, body, 400);
  }
}

TEST_CASE("a null body is an object without members", "[server_api]") {
  require_error("publish", "null", api::errors::bad_request, "channel required");
  decoded<api::info_request>("info", "null");
  CHECK(decoded<api::channels_request>("channels", " null ").pattern.empty());
}

TEST_CASE("null members are absent, unknown members are ignored", "[server_api]") {
  require_error("publish", R"({"channel":null,"data":1})", api::errors::bad_request,
                "channel required");
  const auto history = decoded<api::history_request>(
      "history", R"({"channel":"c","limit":null,"since":null,"reverse":null,"extra":[1,{}]})");
  CHECK(history.limit == 0);
  CHECK_FALSE(history.since);
  CHECK_FALSE(history.reverse);
  decoded<api::info_request>("info", R"({"anything":{"at":["all"]}})");
}

// ---------------------------------------------------------------------------
// publish and broadcast
// ---------------------------------------------------------------------------

TEST_CASE("decodes cent.js's publish", "[server_api]") {
  const auto publish = decoded<api::publish_request>(
      "publish",
      R"({"channel":"news","data":{"text":"hello"},"tags":{"k":"v"},"skip_history":true})");
  CHECK(publish.channel == "news");
  CHECK(publish.data == R"({"text":"hello"})");
  CHECK(publish.skip_history);
  CHECK_FALSE(decoded<api::publish_request>("publish", R"({"channel":"c","data":1})").skip_history);
}

TEST_CASE("publish keeps the publisher's data text, compacted", "[server_api]") {
  const auto data = [](std::string_view body) {
    return decoded<api::publish_request>("publish", body).data;
  };
  CHECK(data(" {\n \"data\" : { \"a\" : [ 1 , 2 ] , \"s\" : \" x , y \" } ,\"channel\":\"c\"}") ==
        R"({"a":[1,2],"s":" x , y "})");
  // Numbers as written: no 1.5E0, no rounding of big integers.
  CHECK(data(R"({"channel":"c","data":[1.50,1e3,123456789012345678901234567890,-0]})") ==
        "[1.50,1e3,123456789012345678901234567890,-0]");
  // Escapes kept as written, quotes and backslashes inside strings included.
  CHECK(data(R"({"channel":"c","data":"a\"}\\\u00e9 b"})") == R"("a\"}\\\u00e9 b")");
  CHECK(data(R"({"channel":"c","data":""})") == R"("")");
  CHECK(data(R"({"channel":"c","data":false})") == "false");
  // Go's Raw keeps `null` as its bytes: Centrifugo publishes it.
  CHECK(data(R"({"channel":"c","data":null})") == "null");
  // The last of duplicate members, as the parser; escaped names count.
  CHECK(data(R"({"channel":"c","data":1,"data":{"second":2}})") == R"({"second":2})");
  CHECK(data(R"({"channel":"c","d\u0061ta":[true]})") == "[true]");
  CHECK(data(R"({"channel":"c","metadata":0,"data":2,"x":{"data":3}})") == "2");
}

TEST_CASE("publish without channel or data is error 107, as Centrifugo's executor",
          "[server_api]") {
  require_error("publish", R"({"data":{}})", api::errors::bad_request, "channel required");
  require_error("publish", R"({"channel":"","data":{}})", api::errors::bad_request,
                "channel required");
  require_error("publish", R"({"channel":"c"})", api::errors::bad_request, "data required");
  require_error("publish", "{}", api::errors::bad_request, "channel required");
  require_error("publish", R"({"channel":"c","b64data":""})", api::errors::bad_request,
                "data required");
}

TEST_CASE("a channel is 1 to 255 bytes", "[server_api]") {
  const std::string longest(255, 'c');
  CHECK(decoded<api::publish_request>("publish", R"({"channel":")" + longest + R"(","data":1})")
            .channel == longest);
  const std::string too_long(256, 'c');
  require_error("publish", R"({"channel":")" + too_long + R"(","data":1})",
                api::errors::bad_request, "channel too long");
  for (std::string_view method : {"presence", "presence_stats", "history", "history_remove"}) {
    require_error(method, R"({"channel":")" + too_long + R"("})", api::errors::bad_request,
                  "channel too long");
    require_error(method, R"({"channel":""})", api::errors::bad_request, "channel required");
    require_error(method, "{}", api::errors::bad_request, "channel required");
  }
  CHECK(api::valid_channel("c"));
  CHECK(api::valid_channel(longest));
  CHECK_FALSE(api::valid_channel(""));
  CHECK_FALSE(api::valid_channel(too_long));
}

TEST_CASE("b64data is decoded and must hold JSON", "[server_api]") {
  // base64 of {"a": 1} and of "hi"
  CHECK(decoded<api::publish_request>("publish", R"({"channel":"c","b64data":"eyJhIjogMX0="})")
            .data == R"({"a":1})");
  CHECK(decoded<api::publish_request>("publish", R"({"channel":"c","b64data":"ImhpIg=="})").data ==
        R"("hi")");
  // '\r' and '\n' are skipped, as Go's decoder does.
  CHECK(decoded<api::publish_request>("publish", R"({"channel":"c","b64data":"eyJh\r\nIjogMX0="})")
            .data == R"({"a":1})");
  // It wins over data; an empty one does not count.
  CHECK(decoded<api::publish_request>("publish", R"({"channel":"c","data":2,"b64data":"MQ=="})")
            .data == "1");
  CHECK(decoded<api::publish_request>("publish", R"({"channel":"c","data":2,"b64data":""})").data ==
        "2");
  for (std::string_view bad :
       {"e", "eyJhIjogMX0", "eyJh=jogMX0=", "ImhpI===", "Imhp*g==", "Im=pIg=="}) {
    require_error("publish", R"({"channel":"c","b64data":")" + std::string(bad) + R"("})",
                  api::errors::bad_request, "invalid b64data");
  }
  // Binary that is not JSON cannot reach JSON clients: "aGk=" is `hi`.
  require_error("publish", R"({"channel":"c","b64data":"aGk="})", api::errors::bad_request,
                "b64data is not JSON");
}

TEST_CASE("decodes broadcast", "[server_api]") {
  const auto broadcast = decoded<api::broadcast_request>(
      "broadcast", R"({"channels":["a","b",null,""],"data":{"x":1},"skip_history":true})");
  CHECK(broadcast.channels == std::vector<std::string>{"a", "b", "", ""});
  CHECK(broadcast.data == R"({"x":1})");
  CHECK(broadcast.skip_history);
  // Empty or over-long items are answered per item (valid_channel).
  CHECK_FALSE(api::valid_channel(broadcast.channels[2]));
  require_error("broadcast", R"({"channels":[],"data":1})", api::errors::bad_request,
                "channels required");
  require_error("broadcast", R"({"data":1})", api::errors::bad_request, "channels required");
  require_error("broadcast", R"({"channels":["a"]})", api::errors::bad_request, "data required");
  require_error("broadcast", R"({"channels":["a"],"b64data":"!!!!"})", api::errors::bad_request,
                "invalid b64data");
}

// ---------------------------------------------------------------------------
// The other methods
// ---------------------------------------------------------------------------

TEST_CASE("decodes unsubscribe, which requires nothing in Centrifugo v5", "[server_api]") {
  const auto full = decoded<api::unsubscribe_request>(
      "unsubscribe", R"({"user":"42","channel":"news","client":"c1","session":"s1"})");
  CHECK(full.user == "42");
  CHECK(full.channel == "news");
  CHECK(full.client == "c1");
  CHECK(full.session == "s1");
  // No channel: every channel of the user (centrifuge's Node.Unsubscribe).
  const auto all = decoded<api::unsubscribe_request>("unsubscribe", R"({"user":"42"})");
  CHECK(all.channel.empty());
  CHECK(all.client.empty());
  decoded<api::unsubscribe_request>("unsubscribe", "{}");
  require_error("unsubscribe", R"({"user":"42","channel":")" + std::string(256, 'c') + R"("})",
                api::errors::bad_request, "channel too long");
}

TEST_CASE("decodes disconnect and its optional advice", "[server_api]") {
  const auto plain = decoded<api::disconnect_request>("disconnect", R"({"user":"42"})");
  CHECK(plain.user == "42");
  CHECK(plain.code == 3503);
  CHECK(plain.reason == "force disconnect");
  CHECK(plain.whitelist.empty());

  const auto custom = decoded<api::disconnect_request>(
      "disconnect", R"({"user":"42","client":"c1","session":"s","whitelist":["c2",null],)"
                    R"("disconnect":{"code":4000,"reason":"bye","reconnect":true}})");
  CHECK(custom.client == "c1");
  CHECK(custom.session == "s");
  CHECK(custom.whitelist == std::vector<std::string>{"c2", ""});
  CHECK(custom.code == 4000);
  CHECK(custom.reason == "bye");

  // The object replaces the default whole, as Go's struct does.
  const auto empty =
      decoded<api::disconnect_request>("disconnect", R"({"user":"42","disconnect":{}})");
  CHECK(empty.code == 0);
  CHECK(empty.reason.empty());
  const auto null_advice =
      decoded<api::disconnect_request>("disconnect", R"({"user":"42","disconnect":null})");
  CHECK(null_advice.code == 3503);
  decoded<api::disconnect_request>("disconnect", "{}");
}

TEST_CASE("decodes presence, presence_stats and history_remove", "[server_api]") {
  CHECK(decoded<api::presence_request>("presence", R"({"channel":"chat"})").channel == "chat");
  CHECK(decoded<api::presence_stats_request>("presence_stats", R"({"channel":"chat"})").channel ==
        "chat");
  CHECK(decoded<api::history_remove_request>("history_remove", R"({"channel":"chat"})").channel ==
        "chat");
}

TEST_CASE("decodes history with limit, since and reverse", "[server_api]") {
  const auto plain = decoded<api::history_request>("history", R"({"channel":"chat"})");
  CHECK(plain.channel == "chat");
  CHECK(plain.limit == 0);
  CHECK_FALSE(plain.since);
  CHECK_FALSE(plain.reverse);

  const auto full = decoded<api::history_request>(
      "history",
      R"({"channel":"chat","limit":-1,"since":{"offset":18446744073709551615,"epoch":"ab"},"reverse":true})");
  CHECK(full.limit == -1);
  REQUIRE(full.since);
  CHECK(full.since->offset == 18446744073709551615ull);
  CHECK(full.since->epoch == "ab");
  CHECK(full.reverse);

  const auto empty_since =
      decoded<api::history_request>("history", R"({"channel":"chat","since":{}})");
  REQUIRE(empty_since.since);
  CHECK(*empty_since.since == herald::core::stream_position{});
}

TEST_CASE("decodes channels; a pattern gobwas cannot compile is error 100", "[server_api]") {
  CHECK(decoded<api::channels_request>("channels", "{}").pattern.empty());
  CHECK(decoded<api::channels_request>("channels", R"({"pattern":"news:*"})").pattern == "news:*");
  require_error("channels", R"({"pattern":"[a"})", api::errors::internal,
                "pattern does not compile");
  // At most a channel name's length: matching runs on the broadcaster.
  const std::string longest(255, '*');
  CHECK(decoded<api::channels_request>("channels", R"({"pattern":")" + longest + R"("})").pattern ==
        longest);
  require_error("channels", R"({"pattern":")" + longest + R"(a"})", api::errors::bad_request,
                "pattern too long");
}

TEST_CASE("decodes info from cent.js's empty object", "[server_api]") {
  decoded<api::info_request>("info", "{}");
}

TEST_CASE("method_name names each request as its path", "[server_api]") {
  CHECK(api::method_name(api::publish_request{}) == "publish");
  CHECK(api::method_name(api::broadcast_request{}) == "broadcast");
  CHECK(api::method_name(api::unsubscribe_request{}) == "unsubscribe");
  CHECK(api::method_name(api::disconnect_request{}) == "disconnect");
  CHECK(api::method_name(api::presence_request{}) == "presence");
  CHECK(api::method_name(api::presence_stats_request{}) == "presence_stats");
  CHECK(api::method_name(api::history_request{}) == "history");
  CHECK(api::method_name(api::history_remove_request{}) == "history_remove");
  CHECK(api::method_name(api::channels_request{}) == "channels");
  CHECK(api::method_name(api::info_request{}) == "info");
}

// ---------------------------------------------------------------------------
// Channel patterns
// ---------------------------------------------------------------------------

TEST_CASE("encodes errors and empty results", "[server_api]") {
  CHECK(body_of([](std::string& out) { api::append_error(out, api::errors::bad_request); }) ==
        R"({"error":{"code":107,"message":"bad request"}})");
  CHECK(body_of([](std::string& out) { api::append_empty_result(out); }) == R"({"result":{}})");
}

TEST_CASE("encodes publish results, offset and epoch omitempty", "[server_api]") {
  CHECK(body_of([](std::string& out) {
          api::append_publish_result(out, {7, "ab"});
        }) == R"({"result":{"offset":7,"epoch":"ab"}})");
  CHECK(body_of([](std::string& out) { api::append_publish_result(out, {}); }) ==
        R"({"result":{}})");
  CHECK(body_of([](std::string& out) {
          api::append_publish_result(out, {0, "ab"});
        }) == R"({"result":{"epoch":"ab"}})");
  CHECK(body_of([](std::string& out) {
          api::append_publish_result(out, {18446744073709551615ull, ""});
        }) == R"({"result":{"offset":18446744073709551615}})");
}

TEST_CASE("encodes broadcast results slot by slot", "[server_api]") {
  const std::vector<api::broadcast_item> items = {
      {std::nullopt, {1, "e"}},
      {api::errors::bad_request, {}},
      {std::nullopt, {}},
  };
  CHECK(body_of([&](std::string& out) { api::append_broadcast_result(out, items); }) ==
        R"({"result":{"responses":[{"result":{"offset":1,"epoch":"e"}},)"
        R"({"error":{"code":107,"message":"bad request"}},{"result":{}}]}})");
}

TEST_CASE("encodes presence sorted by client id", "[server_api]") {
  const std::vector<cp::client_info_view> clients = {
      {"42", "c2", R"({"name":"x"})", ""},
      {"", "c1", "", R"([1])"},
  };
  CHECK(body_of([&](std::string& out) { api::append_presence_result(out, clients); }) ==
        R"({"result":{"presence":{"c1":{"user":"","client":"c1","chan_info":[1]},)"
        R"("c2":{"user":"42","client":"c2","conn_info":{"name":"x"}}}}})");
  CHECK(body_of([](std::string& out) { api::append_presence_result(out, {}); }) ==
        R"({"result":{"presence":{}}})");
}

TEST_CASE("encodes presence_stats with zeros", "[server_api]") {
  CHECK(body_of([](std::string& out) { api::append_presence_stats_result(out, 0, 0); }) ==
        R"({"result":{"num_clients":0,"num_users":0}})");
  CHECK(body_of([](std::string& out) { api::append_presence_stats_result(out, 3, 2); }) ==
        R"({"result":{"num_clients":3,"num_users":2}})");
}

TEST_CASE("encodes history with every member", "[server_api]") {
  const cp::client_info_view info{"42", "c1", "", ""};
  const std::vector<cp::publication_view> publications = {
      {R"({"text":"hi"})", 3, nullptr},
      {"1", 4, &info},
  };
  CHECK(
      body_of([&](std::string& out) { api::append_history_result(out, publications, "ep", 4); }) ==
      R"({"result":{"publications":[{"data":{"text":"hi"},"offset":3},)"
      R"({"data":1,"info":{"user":"42","client":"c1"},"offset":4}],"epoch":"ep","offset":4}})");
  CHECK(body_of([](std::string& out) { api::append_history_result(out, {}, "", 0); }) ==
        R"({"result":{"publications":[],"epoch":"","offset":0}})");
}

TEST_CASE("encodes channels sorted by name", "[server_api]") {
  const std::vector<api::channel_info> channels = {{"news", 2}, {"chat \"x\"", 1}, {"idle", 0}};
  CHECK(body_of([&](std::string& out) { api::append_channels_result(out, channels); }) ==
        R"({"result":{"channels":{"chat \"x\"":{"num_clients":1},"idle":{},)"
        R"("news":{"num_clients":2}}}})");
  CHECK(body_of([](std::string& out) { api::append_channels_result(out, {}); }) ==
        R"({"result":{"channels":{}}})");
}

TEST_CASE("encodes info as one node", "[server_api]") {
  api::node_info node;
  node.uid = "u-1";
  node.name = "herald_8000";
  node.version = "0.1.0";
  node.num_clients = 3;
  node.num_users = 2;
  node.num_subs = 5;
  node.num_channels = 4;
  CHECK(body_of([&](std::string& out) { api::append_info_result(out, node); }) ==
        R"({"result":{"nodes":[{"uid":"u-1","name":"herald_8000","version":"0.1.0",)"
        R"("num_clients":3,"num_users":2,"num_channels":4,"num_subs":5}]}})");
  node.uptime = 61;
  CHECK(body_of([&](std::string& out) { api::append_info_result(out, node); }) ==
        R"({"result":{"nodes":[{"uid":"u-1","name":"herald_8000","version":"0.1.0",)"
        R"("num_clients":3,"num_users":2,"num_channels":4,"uptime":61,"num_subs":5}]}})");
}

TEST_CASE("escapes strings in every response", "[server_api]") {
  const std::string nasty = bytes("q\"b\\n\n\x01");
  const std::vector<api::channel_info> channels = {{nasty, 1}};
  const std::string out =
      body_of([&](std::string& text) { api::append_channels_result(text, channels); });
  CHECK(out.find(R"("q\"b\\n\n\u0001")") != std::string::npos);
}

TEST_CASE("the legacy form decodes one command per line, errors in their slots", "[server_api]") {
  const auto result = api::decode_legacy(
      "{\"method\":\"publish\",\"params\":{\"channel\":\"a\",\"data\":{\"x\":1.5}}}\n"
      "\r\n"
      "{\"method\":\"nope\",\"params\":{}}\r\n"
      "{\"method\":\"presence\",\"params\":{\"channel\":\"\"}}\n"
      "{\"method\":\"publish\",\"params\":{\"channel\":1}}\n"
      "{\"method\":\"info\"}");
  REQUIRE(result.http_status == 200);
  REQUIRE(result.commands.size() == 5);
  const auto& publish = std::get<api::publish_request>(std::get<api::request>(result.commands[0]));
  CHECK(publish.channel == "a");
  CHECK(publish.data == R"({"x":1.5})");
  CHECK(std::get<api::api_error>(result.commands[1]) == api::errors::method_not_found);
  CHECK(std::get<api::api_error>(result.commands[2]) == api::errors::bad_request);
  CHECK(std::get<api::api_error>(result.commands[3]) == api::errors::bad_request);  // a 400 alone
  CHECK(std::holds_alternative<api::info_request>(std::get<api::request>(result.commands[4])));
  // No method at all names none of them, as Go decodes it: 104 in its slot.
  const auto without = api::decode_legacy("{\"params\":{}}");
  REQUIRE(without.commands.size() == 1);
  CHECK(std::get<api::api_error>(without.commands[0]) == api::errors::method_not_found);
}

TEST_CASE("a legacy line that is no command fails the whole request", "[server_api]") {
  for (const std::string_view body :
       {std::string_view{""}, std::string_view{"\n\n"}, std::string_view{"not json"},
        std::string_view{"{\"method\":\"info\"}\n[1]"}, std::string_view{"{\"method\":7}"}}) {
    INFO(body);
    const auto result = api::decode_legacy(body);
    CHECK(result.http_status == 400);
    CHECK(result.commands.empty());
  }
}
