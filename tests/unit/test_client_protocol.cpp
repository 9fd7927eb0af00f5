#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "herald/core/client_protocol.hpp"
#include "json_test_support.hpp"

namespace cp = herald::core::client_protocol;
namespace json = boost::json;
using herald::test::bytes;
using herald::test::parse_json;

namespace {

// A publication push as a whole message, as the broadcaster builds it once
// for all of a channel's subscribers.
std::string publication_push(std::string_view channel, std::string_view data_json,
                             std::uint64_t offset, const cp::client_info_view* info = nullptr) {
  std::string out;
  cp::append_publication_push(out, channel, cp::publication_view{data_json, offset, info});
  return out;
}

// The single command of a frame that must decode cleanly.
template <class Request>
Request single(std::string_view frame, std::uint32_t id) {
  INFO("frame: " << frame);
  auto result = cp::decode_frame(frame);
  INFO("detail: " << result.detail);
  REQUIRE_FALSE(result.disconnect);
  REQUIRE(result.detail.empty());
  REQUIRE(result.items.size() == 1);
  auto* decoded_command = std::get_if<cp::command>(&result.items[0]);
  REQUIRE(decoded_command != nullptr);
  REQUIRE(decoded_command->id == id);
  auto* body = std::get_if<Request>(&decoded_command->body);
  REQUIRE(body != nullptr);
  return std::move(*body);
}

// A frame that must close the connection with 3501, before any command.
void require_disconnect(std::string_view frame, std::string_view detail) {
  INFO("frame: " << frame);
  const auto result = cp::decode_frame(frame);
  REQUIRE(result.disconnect.has_value());
  REQUIRE(result.disconnect->code == 3501);
  REQUIRE(result.disconnect->reason == "bad request");
  REQUIRE(result.detail == detail);
  REQUIRE(result.items.empty());
}

// A frame whose single command gets an error reply.
void require_reply_error(std::string_view frame, std::uint32_t id, std::uint32_t code,
                         std::string_view detail) {
  INFO("frame: " << frame);
  const auto result = cp::decode_frame(frame);
  REQUIRE_FALSE(result.disconnect);
  REQUIRE(result.items.size() == 1);
  const auto* error = std::get_if<cp::command_error>(&result.items[0]);
  REQUIRE(error != nullptr);
  REQUIRE(error->id == id);
  REQUIRE(error->error.code == code);
  REQUIRE(error->detail == detail);
}

json::value parsed_data(const std::string& raw) {
  return parse_json(raw);
}

std::string repeat(char c, std::size_t n) {
  return std::string(n, c);
}

}  // namespace

// ---------------------------------------------------------------------------
// Codes
// ---------------------------------------------------------------------------

TEST_CASE("error codes match centrifuge's errors.go", "[client_protocol]") {
  STATIC_REQUIRE(cp::errors::internal.code == 100);
  STATIC_REQUIRE(cp::errors::internal.temporary);
  STATIC_REQUIRE(cp::errors::unauthorized.code == 101);
  STATIC_REQUIRE(cp::errors::unknown_channel.code == 102);
  STATIC_REQUIRE(cp::errors::permission_denied.code == 103);
  STATIC_REQUIRE(cp::errors::method_not_found.code == 104);
  STATIC_REQUIRE(cp::errors::already_subscribed.code == 105);
  STATIC_REQUIRE(cp::errors::limit_exceeded.code == 106);
  STATIC_REQUIRE(cp::errors::bad_request.code == 107);
  STATIC_REQUIRE(cp::errors::not_available.code == 108);
  STATIC_REQUIRE(cp::errors::token_expired.code == 109);
  STATIC_REQUIRE(cp::errors::expired.code == 110);
  STATIC_REQUIRE(cp::errors::too_many_requests.code == 111);
  STATIC_REQUIRE(cp::errors::too_many_requests.temporary);
  STATIC_REQUIRE(cp::errors::unrecoverable_position.code == 112);
  STATIC_REQUIRE(cp::errors::token_revoked.code == 113);
  REQUIRE(cp::errors::permission_denied.message == "permission denied");
  REQUIRE(cp::errors::not_available.message == "not available");
  REQUIRE(cp::errors::internal.message == "internal server error");
}

TEST_CASE("disconnect codes match centrifuge's disconnect.go", "[client_protocol]") {
  STATIC_REQUIRE(cp::disconnects::connection_closed.code == 3000);
  STATIC_REQUIRE(cp::disconnects::shutdown.code == 3001);
  STATIC_REQUIRE(cp::disconnects::server_error.code == 3004);
  STATIC_REQUIRE(cp::disconnects::expired.code == 3005);
  STATIC_REQUIRE(cp::disconnects::subscription_expired.code == 3006);
  STATIC_REQUIRE(cp::disconnects::slow.code == 3008);
  STATIC_REQUIRE(cp::disconnects::write_error.code == 3009);
  STATIC_REQUIRE(cp::disconnects::insufficient_state.code == 3010);
  STATIC_REQUIRE(cp::disconnects::force_reconnect.code == 3011);
  STATIC_REQUIRE(cp::disconnects::no_pong.code == 3012);
  STATIC_REQUIRE(cp::disconnects::too_many_requests.code == 3013);
  STATIC_REQUIRE(cp::disconnects::invalid_token.code == 3500);
  STATIC_REQUIRE(cp::disconnects::bad_request.code == 3501);
  STATIC_REQUIRE(cp::disconnects::stale.code == 3502);
  STATIC_REQUIRE(cp::disconnects::force_no_reconnect.code == 3503);
  STATIC_REQUIRE(cp::disconnects::connection_limit.code == 3504);
  STATIC_REQUIRE(cp::disconnects::channel_limit.code == 3505);
  STATIC_REQUIRE(cp::disconnects::inappropriate_protocol.code == 3506);
  STATIC_REQUIRE(cp::disconnects::permission_denied.code == 3507);
  STATIC_REQUIRE(cp::disconnects::not_available.code == 3508);
  STATIC_REQUIRE(cp::disconnects::too_many_errors.code == 3509);
  STATIC_REQUIRE(cp::disconnects::idle_timeout.code == 3511);
  REQUIRE(cp::disconnects::shutdown.reason == "shutdown");
  REQUIRE(cp::disconnects::slow.reason == "slow");
  REQUIRE(cp::disconnects::bad_request.reason == "bad request");
  REQUIRE(cp::disconnects::force_no_reconnect.reason == "force disconnect");
  STATIC_REQUIRE(cp::unsubscribes::server.code == 2000);
  STATIC_REQUIRE(cp::unsubscribes::insufficient_state.code == 2500);
  STATIC_REQUIRE(cp::unsubscribes::expired.code == 2501);
}

TEST_CASE("should_reconnect follows the code ranges", "[client_protocol]") {
  STATIC_REQUIRE(cp::should_reconnect(3001));
  STATIC_REQUIRE(cp::should_reconnect(3499));
  STATIC_REQUIRE_FALSE(cp::should_reconnect(3500));
  STATIC_REQUIRE_FALSE(cp::should_reconnect(3999));
  STATIC_REQUIRE(cp::should_reconnect(4000));
  STATIC_REQUIRE(cp::should_reconnect(4499));
  STATIC_REQUIRE_FALSE(cp::should_reconnect(4500));
  STATIC_REQUIRE_FALSE(cp::should_reconnect(4999));
  STATIC_REQUIRE(cp::should_reconnect(5000));
}

// ---------------------------------------------------------------------------
// Decoding: the commands exactly as centrifuge-js 5.x sends them (captured
// from the SDK against a stub server; the SDK puts `id` last).
// ---------------------------------------------------------------------------

TEST_CASE("decodes the SDK's connect", "[client_protocol]") {
  SECTION("with token and data") {
    const auto connect = single<cp::connect_request>(
        R"({"connect":{"token":"tok","data":{"hello":"w\"orld"},"name":"js"},"id":1})", 1);
    REQUIRE(connect.token == "tok");
    REQUIRE(connect.name == "js");
    REQUIRE(parsed_data(connect.data) == parse_json(R"({"hello":"w\"orld"})"));
    REQUIRE(connect.version.empty());
    REQUIRE(connect.subs.empty());
    REQUIRE(connect.headers.empty());
  }
  SECTION("anonymous") {
    const auto connect = single<cp::connect_request>(R"({"connect":{"name":"js"},"id":1})", 1);
    REQUIRE(connect.token.empty());
    REQUIRE(connect.data.empty());
    REQUIRE(connect.name == "js");
  }
  SECTION("with server-side subs, version, headers and flag") {
    const auto connect = single<cp::connect_request>(
        R"({"connect":{"name":"js","version":"5.8.0","subs":{"news":{"recover":true,"offset":12,"epoch":"ab"},"chat":{"recover":true}},"headers":{"X-A":"1"},"flag":3},"id":9})",
        9);
    REQUIRE(connect.version == "5.8.0");
    REQUIRE(connect.flag == 3);
    REQUIRE(connect.subs.size() == 2);
    REQUIRE(connect.subs[0].channel == "news");
    REQUIRE(connect.subs[0].recover);
    REQUIRE(connect.subs[0].offset == 12);
    REQUIRE(connect.subs[0].epoch == "ab");
    REQUIRE(connect.subs[1].channel == "chat");
    REQUIRE(connect.subs[1].offset == 0);
    REQUIRE(connect.headers.size() == 1);
    REQUIRE(connect.headers[0].first == "X-A");
    REQUIRE(connect.headers[0].second == "1");
  }
}

TEST_CASE("decodes the SDK's subscribe", "[client_protocol]") {
  SECTION("recovering, positioned, with join/leave and data") {
    const auto subscribe = single<cp::subscribe_request>(
        R"({"subscribe":{"channel":"news","data":{"x":1},"positioned":true,"recoverable":true,"join_leave":true,"flag":1,"recover":true,"offset":2,"epoch":"e0"},"id":2})",
        2);
    REQUIRE(subscribe.channel == "news");
    REQUIRE(parsed_data(subscribe.data) == parse_json(R"({"x":1})"));
    REQUIRE(subscribe.positioned);
    REQUIRE(subscribe.recoverable);
    REQUIRE(subscribe.join_leave);
    REQUIRE(subscribe.flag == cp::flag_channel_compaction);
    REQUIRE(subscribe.recover);
    REQUIRE(subscribe.offset == 2);
    REQUIRE(subscribe.epoch == "e0");
    REQUIRE(subscribe.token.empty());
    REQUIRE(subscribe.delta.empty());
    REQUIRE(subscribe.type == 0);
  }
  SECTION("plain") {
    const auto subscribe =
        single<cp::subscribe_request>(R"({"subscribe":{"channel":"news","flag":1},"id":3})", 3);
    REQUIRE(subscribe.channel == "news");
    REQUIRE_FALSE(subscribe.recover);
    REQUIRE(subscribe.offset == 0);
    REQUIRE(subscribe.data.empty());
  }
  SECTION("with token, fossil delta and reject-unrecovered") {
    const auto subscribe = single<cp::subscribe_request>(
        R"({"subscribe":{"channel":"$private","token":"t.k.n","flag":3,"delta":"fossil"},"id":4})",
        4);
    REQUIRE(subscribe.token == "t.k.n");
    REQUIRE(subscribe.delta == "fossil");
    REQUIRE((subscribe.flag & cp::flag_reject_unrecovered) != 0);
  }
  SECTION("the largest offset") {
    const auto subscribe = single<cp::subscribe_request>(
        R"({"subscribe":{"channel":"c","recover":true,"offset":18446744073709551615},"id":5})", 5);
    REQUIRE(subscribe.offset == UINT64_MAX);
  }
}

TEST_CASE("decodes the SDK's other commands", "[client_protocol]") {
  SECTION("publish") {
    const auto publish = single<cp::publish_request>(
        R"({"publish":{"channel":"news","data":{"text":"hi"}},"id":3})", 3);
    REQUIRE(publish.channel == "news");
    REQUIRE(publish.data == R"({"text":"hi"})");
  }
  SECTION("presence") {
    REQUIRE(single<cp::presence_request>(R"({"presence":{"channel":"news"},"id":4})", 4).channel ==
            "news");
  }
  SECTION("presence_stats") {
    REQUIRE(single<cp::presence_stats_request>(R"({"presence_stats":{"channel":"news"},"id":5})", 5)
                .channel == "news");
  }
  SECTION("history with since, limit and reverse") {
    const auto history = single<cp::history_request>(
        R"({"history":{"channel":"news","since":{"offset":1,"epoch":"e1"},"limit":10,"reverse":true},"id":6})",
        6);
    REQUIRE(history.channel == "news");
    REQUIRE(history.limit == 10);
    REQUIRE(history.reverse);
    REQUIRE(history.since.has_value());
    REQUIRE(history.since->offset == 1);
    REQUIRE(history.since->epoch == "e1");
  }
  SECTION("history without options") {
    const auto history = single<cp::history_request>(R"({"history":{"channel":"news"},"id":6})", 6);
    REQUIRE(history.limit == 0);
    REQUIRE_FALSE(history.since.has_value());
    REQUIRE_FALSE(history.reverse);
  }
  SECTION("history with limit -1 (everything)") {
    REQUIRE(
        single<cp::history_request>(R"({"history":{"channel":"n","limit":-1},"id":6})", 6).limit ==
        -1);
  }
  SECTION("rpc") {
    const auto rpc = single<cp::rpc_request>(R"({"rpc":{"method":"m","data":{"a":1}},"id":7})", 7);
    REQUIRE(rpc.method == "m");
    REQUIRE(rpc.data == R"({"a":1})");
  }
  SECTION("send, the one command without id") {
    const auto send = single<cp::send_request>(R"({"send":{"data":{"s":1}}})", 0);
    REQUIRE(send.data == R"({"s":1})");
  }
  SECTION("send with an id") {
    REQUIRE(single<cp::send_request>(R"({"send":{"data":1},"id":3})", 3).data == "1");
  }
  SECTION("unsubscribe") {
    REQUIRE(single<cp::unsubscribe_request>(R"({"unsubscribe":{"channel":"news"},"id":8})", 8)
                .channel == "news");
  }
  SECTION("refresh") {
    REQUIRE(single<cp::refresh_request>(R"({"refresh":{"token":"new"},"id":9})", 9).token == "new");
  }
  SECTION("sub_refresh") {
    const auto refresh = single<cp::sub_refresh_request>(
        R"({"sub_refresh":{"channel":"news","token":"sub"},"id":10})", 10);
    REQUIRE(refresh.channel == "news");
    REQUIRE(refresh.token == "sub");
  }
  SECTION("ping") {
    single<cp::ping_request>(R"({"id":11,"ping":{}})", 11);
  }
}

TEST_CASE("decodes the pong", "[client_protocol]") {
  single<cp::pong>("{}", 0);
  single<cp::pong>("{}\n", 0);
  single<cp::pong>("{}\r\n", 0);
  single<cp::pong>(" { } ", 0);
  single<cp::pong>(R"({"id":0})", 0);
  // Unknown members are ignored, as by Centrifugo's decoder.
  single<cp::pong>(R"({"future":{"x":1}})", 0);
  // A null method is no method.
  single<cp::pong>(R"({"publish":null})", 0);
}

TEST_CASE("ignores unknown members at every level", "[client_protocol]") {
  const auto subscribe = single<cp::subscribe_request>(
      R"({"subscribe":{"channel":"c","tf":{"op":"and","nodes":[]},"cursor":"x","future":[1,2]},"id":1,"extra":true})",
      1);
  REQUIRE(subscribe.channel == "c");
}

TEST_CASE("nulls count as absent members", "[client_protocol]") {
  single<cp::pong>(R"({"id":null})", 0);
  single<cp::send_request>(R"({"id":null,"send":{}})", 0);
  const auto subscribe = single<cp::subscribe_request>(
      R"({"subscribe":{"channel":"c","token":null,"recover":null,"offset":null,"data":null},"id":1})",
      1);
  REQUIRE(subscribe.token.empty());
  REQUIRE_FALSE(subscribe.recover);
  REQUIRE(subscribe.data.empty());
}

TEST_CASE("keeps data as compact JSON of any type", "[client_protocol]") {
  const auto data = [](std::string_view value) {
    const std::string frame =
        std::string(R"({"id":1,"publish":{"channel":"c","data":)") + std::string(value) + "}}";
    return single<cp::publish_request>(frame, 1).data;
  };
  REQUIRE(data(R"("text")") == R"("text")");
  REQUIRE(data("42") == "42");
  REQUIRE(data("-7") == "-7");
  REQUIRE(data("true") == "true");
  REQUIRE(data("[1, 2, {\"a\": []}]") == R"([1,2,{"a":[]}])");
  REQUIRE(data("{\t \"k\" : \"v\"\r}") == R"({"k":"v"})");
  REQUIRE(parsed_data(data("1.5")) == parse_json("1.5"));
  // Non-ASCII stays UTF-8; control characters stay escaped.
  const std::string unicode = data(R"({"k":"é\u00e9\n\u0001😀"})");
  REQUIRE(unicode.find('\n') == std::string::npos);
  REQUIRE(parsed_data(unicode) == parse_json(R"({"k":"éé\n\u0001😀"})"));
}

TEST_CASE("keeps the publisher's data text, compacted", "[client_protocol]") {
  const auto data = [](std::string_view frame) {
    return single<cp::publish_request>(frame, 1).data;
  };
  // Numbers as written: no 1.5E0, no rounding of big integers.
  CHECK(data(R"({"id":1,"publish":{"channel":"c","data":{"x":1.5,"big":12345678901234567890}}})") ==
        R"({"x":1.5,"big":12345678901234567890})");
  const std::string numbers =
      R"({"id":1,"publish":{"channel":"c","data":[1.50,1e3,123456789012345678901234567890,-0]}})";
  CHECK(data(numbers) == "[1.50,1e3,123456789012345678901234567890,-0]");
  // Whitespace between tokens goes, that inside strings stays; escapes are
  // kept as written, so no '\n' can reach a newline-delimited frame.
  const std::string spaced = data(
      "{\"id\":1,\"publish\":{\"channel\":\"c\",\"data\" : {\t\"a\" :\r[ 1 , 2 ] ,"
      " \"s\" : \" x , y \\n\\u00e9\" } }}\r");
  CHECK(spaced == R"({"a":[1,2],"s":" x , y \n\u00e9"})");
  CHECK(spaced.find('\n') == std::string::npos);
  // A raw newline inside data ends the line: the first half is invalid JSON.
  require_disconnect("{\"id\":1,\"publish\":{\"channel\":\"c\",\"data\":{\n\"a\":1}}}",
                     "invalid JSON");
  // The member the parser took: the last of duplicates, escaped names
  // resolved, nested or top-level `data` members left alone.
  CHECK(data(R"({"id":1,"publish":{"channel":"c","data":1,"data":2.0}})") == "2.0");
  CHECK(data(R"({"id":1,"publ\u0069sh":{"channel":"c","d\u0061ta":1.0}})") == "1.0");
  const std::string others =
      R"({"data":9,"id":1,"publish":{"x":{"data":3},"metadata":5,"channel":"c","data":4.0}})";
  CHECK(data(others) == "4.0");
  const auto twice = single<cp::publish_request>(
      R"({"id":1,"publish":{"channel":"a","data":1},"publish":{"channel":"b","data":2.0}})", 1);
  CHECK(twice.channel == "b");
  CHECK(twice.data == "2.0");
}

TEST_CASE("keeps the client's text in every raw data member", "[client_protocol]") {
  CHECK(single<cp::connect_request>(R"({"connect":{"data":{"n":1.50, "m":1e2}},"id":1})", 1).data ==
        R"({"n":1.50,"m":1e2})");
  CHECK(single<cp::subscribe_request>(R"({"subscribe":{"channel":"c","data":[ 2.50 ]},"id":2})", 2)
            .data == "[2.50]");
  CHECK(single<cp::rpc_request>(
            R"({"rpc":{"method":"m","data":{ "big":99999999999999999999 }},"id":3})", 3)
            .data == R"({"big":99999999999999999999})");
  CHECK(single<cp::send_request>(R"({"send":{"data":-0.0e0}})", 0).data == "-0.0e0");
}

TEST_CASE("decodes several commands of one frame in order", "[client_protocol]") {
  SECTION("newline separated, as the SDK batches") {
    const auto result = cp::decode_frame(
        "{\"connect\":{\"name\":\"js\"},\"id\":1}\n"
        "{\"subscribe\":{\"channel\":\"a\",\"flag\":1},\"id\":2}\n"
        "{\"subscribe\":{\"channel\":\"b\",\"flag\":1},\"id\":3}");
    REQUIRE_FALSE(result.disconnect);
    REQUIRE(result.items.size() == 3);
    const auto& first = std::get<cp::command>(result.items[0]);
    REQUIRE(first.id == 1);
    REQUIRE(std::holds_alternative<cp::connect_request>(first.body));
    const auto& third = std::get<cp::command>(result.items[2]);
    REQUIRE(third.id == 3);
    REQUIRE(std::get<cp::subscribe_request>(third.body).channel == "b");
  }
  SECTION("with a trailing newline and CRLF line ends") {
    const auto result = cp::decode_frame(
        "{\"presence\":{\"channel\":\"a\"},\"id\":1}\r\n{}\r\n{\"send\":{\"data\":1}}\n");
    REQUIRE_FALSE(result.disconnect);
    REQUIRE(result.items.size() == 3);
    REQUIRE(
        std::holds_alternative<cp::presence_request>(std::get<cp::command>(result.items[0]).body));
    REQUIRE(std::holds_alternative<cp::pong>(std::get<cp::command>(result.items[1]).body));
    REQUIRE(std::holds_alternative<cp::send_request>(std::get<cp::command>(result.items[2]).body));
  }
  SECTION("an error reply does not stop the frame") {
    const std::string frame = R"({"id":1,"presence":{"channel":")" + repeat('x', 256) + "\"}}\n" +
                              R"({"id":2,"presence":{"channel":"ok"}})";
    const auto result = cp::decode_frame(frame);
    REQUIRE_FALSE(result.disconnect);
    REQUIRE(result.items.size() == 2);
    REQUIRE(std::get<cp::command_error>(result.items[0]).id == 1);
    REQUIRE(std::get<cp::command>(result.items[1]).id == 2);
  }
  SECTION("commands before a malformed line are kept, then the connection closes") {
    const auto result = cp::decode_frame(
        "{\"id\":1,\"presence\":{\"channel\":\"a\"}}\nnot "
        "json\n{\"id\":3,\"presence\":{\"channel\":"
        "\"b\"}}");
    REQUIRE(result.disconnect.has_value());
    REQUIRE(result.disconnect->code == 3501);
    REQUIRE(result.detail == "invalid JSON");
    REQUIRE(result.items.size() == 1);
    REQUIRE(std::get<cp::command>(result.items[0]).id == 1);
  }
}

TEST_CASE("method_name names every request", "[client_protocol]") {
  REQUIRE(cp::method_name(cp::pong{}) == "pong");
  REQUIRE(cp::method_name(cp::connect_request{}) == "connect");
  REQUIRE(cp::method_name(cp::subscribe_request{}) == "subscribe");
  REQUIRE(cp::method_name(cp::unsubscribe_request{}) == "unsubscribe");
  REQUIRE(cp::method_name(cp::publish_request{}) == "publish");
  REQUIRE(cp::method_name(cp::presence_request{}) == "presence");
  REQUIRE(cp::method_name(cp::presence_stats_request{}) == "presence_stats");
  REQUIRE(cp::method_name(cp::history_request{}) == "history");
  REQUIRE(cp::method_name(cp::ping_request{}) == "ping");
  REQUIRE(cp::method_name(cp::send_request{}) == "send");
  REQUIRE(cp::method_name(cp::rpc_request{}) == "rpc");
  REQUIRE(cp::method_name(cp::refresh_request{}) == "refresh");
  REQUIRE(cp::method_name(cp::sub_refresh_request{}) == "sub_refresh");
}

// ---------------------------------------------------------------------------
// Decoding: malformed input
// ---------------------------------------------------------------------------

TEST_CASE("malformed frames close with 3501", "[client_protocol]") {
  require_disconnect("", "empty frame");
  require_disconnect("\n", "invalid JSON");
  require_disconnect("\r\n", "invalid JSON");
  require_disconnect("   ", "invalid JSON");
  require_disconnect("not json", "invalid JSON");
  require_disconnect("{", "invalid JSON");
  require_disconnect(R"({"id":1,"presence":{"channel":"a"}}garbage)", "invalid JSON");
  require_disconnect(R"({"id":1,"presence":{"channel":"a"}} {"id":2})", "invalid JSON");
  require_disconnect(R"({"id":1,"presence":{"channel":"a",}})", "invalid JSON");
  require_disconnect("{\"id\":1,/*c*/\"presence\":{\"channel\":\"a\"}}", "invalid JSON");
  require_disconnect(bytes("{\"id\":1,\"presence\":{\"channel\":\"a\xff\"}}"), "invalid JSON");
  require_disconnect(bytes("{}\0"), "invalid JSON");
}

TEST_CASE("a command spread over lines closes the frame", "[client_protocol]") {
  // '\n' separates commands, so a pretty-printed command is two broken ones.
  require_disconnect("{\"id\":1,\n\"presence\":{\"channel\":\"a\"}}", "invalid JSON");
}

TEST_CASE("an empty line inside a frame closes it", "[client_protocol]") {
  const auto result = cp::decode_frame("{}\n\n{}");
  REQUIRE(result.disconnect.has_value());
  REQUIRE(result.disconnect->code == 3501);
  REQUIRE(result.detail == "invalid JSON");
  REQUIRE(result.items.size() == 1);
}

TEST_CASE("a command that is not an object closes with 3501", "[client_protocol]") {
  require_disconnect("[]", "command is not a JSON object");
  require_disconnect(R"([{"id":1,"presence":{"channel":"a"}}])", "command is not a JSON object");
  require_disconnect(R"("x")", "command is not a JSON object");
  require_disconnect("1", "command is not a JSON object");
  require_disconnect("null", "command is not a JSON object");
  require_disconnect("true", "command is not a JSON object");
}

TEST_CASE("a bad id closes with 3501", "[client_protocol]") {
  const std::string detail = "id is not an unsigned 32-bit integer";
  require_disconnect(R"({"id":"1","presence":{"channel":"a"}})", detail);
  require_disconnect(R"({"id":-1,"presence":{"channel":"a"}})", detail);
  require_disconnect(R"({"id":1.0,"presence":{"channel":"a"}})", detail);
  require_disconnect(R"({"id":1e2,"presence":{"channel":"a"}})", detail);
  require_disconnect(R"({"id":4294967296,"presence":{"channel":"a"}})", detail);
  require_disconnect(R"({"id":18446744073709551616,"presence":{"channel":"a"}})", detail);
  require_disconnect(R"({"id":true,"presence":{"channel":"a"}})", detail);
  require_disconnect(R"({"id":{},"presence":{"channel":"a"}})", detail);
  single<cp::presence_request>(R"({"id":4294967295,"presence":{"channel":"a"}})", 4294967295u);
}

TEST_CASE("a command without exactly one known method closes with 3501", "[client_protocol]") {
  require_disconnect(R"({"id":1})", "no known method");
  require_disconnect(R"({"id":1,"foo":{}})", "no known method");
  require_disconnect(R"({"id":1,"Presence":{"channel":"a"}})", "no known method");
  require_disconnect(R"({"id":1,"presence":null})", "no known method");
  require_disconnect(R"({"id":1,"method":1,"params":{"channel":"a"}})", "no known method");
  require_disconnect(R"({"id":1,"presence":{"channel":"a"},"history":{"channel":"a"}})",
                     "more than one method");
  require_disconnect(R"({"id":1,"connect":{},"send":{}})", "more than one method");
  require_disconnect(R"({"id":1,"presence":"a"})", "method is not a JSON object");
  require_disconnect(R"({"id":1,"presence":[]})", "method is not a JSON object");
  require_disconnect(R"({"id":1,"ping":true})", "method is not a JSON object");
}

TEST_CASE("a command other than send without id closes with 3501", "[client_protocol]") {
  require_disconnect(R"({"presence":{"channel":"a"}})", "command id required");
  require_disconnect(R"({"id":0,"subscribe":{"channel":"a"}})", "command id required");
  require_disconnect(R"({"connect":{"name":"js"}})", "command id required");
  require_disconnect(R"({"ping":{}})", "command id required");
}

TEST_CASE("an empty channel closes with 3501", "[client_protocol]") {
  for (const std::string method :
       {"subscribe", "unsubscribe", "presence", "presence_stats", "history", "sub_refresh"}) {
    INFO("method: " << method);
    const std::string prefix = R"({"id":1,")" + method + R"(":{)";
    const std::string suffix = method == "sub_refresh" ? R"("token":"t"}})" : R"("x":0}})";
    require_disconnect(prefix + suffix, "channel required");
    require_disconnect(prefix + R"("channel":"",)" + suffix, "channel required");
    require_disconnect(prefix + R"("channel":null,)" + suffix, "channel required");
  }
  require_disconnect(R"({"id":1,"publish":{"data":{}}})", "channel required");
  require_disconnect(R"({"id":1,"publish":{"channel":"","data":{}}})", "channel required");
}

TEST_CASE("missing required parameters close with 3501", "[client_protocol]") {
  require_disconnect(R"({"id":1,"publish":{"channel":"c"}})", "data required");
  require_disconnect(R"({"id":1,"publish":{"channel":"c","data":null}})", "data required");
  require_disconnect(R"({"id":1,"refresh":{}})", "token required");
  require_disconnect(R"({"id":1,"refresh":{"token":""}})", "token required");
  require_disconnect(R"({"id":1,"subscribe":{"channel":"c","delta":"xdelta"}})",
                     "unknown delta type");
}

TEST_CASE("members of the wrong type close with 3501", "[client_protocol]") {
  const std::string detail = "member of the wrong type";
  for (const char* frame : {
           R"({"id":1,"subscribe":{"channel":"c","recover":true,"offset":"1"}})",
           R"({"id":1,"subscribe":{"channel":"c","offset":-1}})",
           R"({"id":1,"subscribe":{"channel":"c","offset":1.5}})",
           R"({"id":1,"subscribe":{"channel":"c","offset":1e3}})",
           R"({"id":1,"subscribe":{"channel":"c","offset":18446744073709551616}})",
           R"({"id":1,"subscribe":{"channel":"c","recover":"true"}})",
           R"({"id":1,"subscribe":{"channel":"c","recover":1}})",
           R"({"id":1,"subscribe":{"channel":1}})",
           R"({"id":1,"subscribe":{"channel":["c"]}})",
           R"({"id":1,"subscribe":{"channel":"c","token":5}})",
           R"({"id":1,"subscribe":{"channel":"c","epoch":0}})",
           R"({"id":1,"subscribe":{"channel":"c","flag":"1"}})",
           R"({"id":1,"subscribe":{"channel":"c","type":2147483648}})",
           R"({"id":1,"subscribe":{"channel":"c","join_leave":"yes"}})",
           R"({"id":1,"history":{"channel":"c","limit":2147483648}})",
           R"({"id":1,"history":{"channel":"c","limit":"10"}})",
           R"({"id":1,"history":{"channel":"c","since":"x"}})",
           R"({"id":1,"history":{"channel":"c","since":{"offset":"1"}}})",
           R"({"id":1,"history":{"channel":"c","since":{"epoch":1}}})",
           R"({"id":1,"history":{"channel":"c","reverse":0}})",
           R"({"id":1,"connect":{"token":1}})",
           R"({"id":1,"connect":{"subs":"x"}})",
           R"({"id":1,"connect":{"subs":{"c":1}}})",
           R"({"id":1,"connect":{"subs":{"c":{"offset":-5}}}})",
           R"({"id":1,"connect":{"headers":{"a":1}}})",
           R"({"id":1,"connect":{"name":{}}})",
           R"({"id":1,"connect":{"flag":1.5}})",
           R"({"id":1,"publish":{"channel":7,"data":1}})",
           R"({"id":1,"rpc":{"method":1}})",
           R"({"id":1,"refresh":{"token":1}})",
           R"({"id":1,"sub_refresh":{"channel":"c","token":[]}})",
           R"({"id":1,"unsubscribe":{"channel":false}})",
           R"({"id":1,"presence_stats":{"channel":{}}})",
       }) {
    require_disconnect(frame, detail);
  }
}

TEST_CASE("nesting deeper than max_json_depth closes with 3501", "[client_protocol]") {
  const auto frame_with_depth = [](std::size_t depth) {
    // The command and publish objects are two levels.
    return R"({"id":1,"publish":{"channel":"c","data":)" + repeat('[', depth - 2) +
           repeat(']', depth - 2) + "}}";
  };
  single<cp::publish_request>(frame_with_depth(cp::max_json_depth), 1);
  require_disconnect(frame_with_depth(cp::max_json_depth + 1), "invalid JSON");
}

TEST_CASE("no truncation or byte change of a valid frame breaks the decoder", "[client_protocol]") {
  // Every prefix and every single-byte change of an SDK batch decodes to
  // commands, error replies or a 3501 - never anything else.
  const std::string frame =
      "{\"connect\":{\"token\":\"tok\",\"data\":{\"a\":[1,2.5,null]},\"name\":\"js\","
      "\"subs\":{\"s\":{\"recover\":true,\"offset\":3}}},\"id\":1}\n"
      "{\"subscribe\":{\"channel\":\"news\",\"recover\":true,\"offset\":2,\"epoch\":\"e\"},\"id\":"
      "2}\n"
      "{\"history\":{\"channel\":\"news\",\"since\":{\"offset\":1},\"limit\":10},\"id\":3}\n"
      "{\"send\":{\"data\":\"x\"}}\n{}";
  const auto check = [](const std::string& input) {
    const auto result = cp::decode_frame(input);
    if (result.disconnect) {
      REQUIRE(result.disconnect->code == 3501);
      REQUIRE_FALSE(result.detail.empty());
    }
    REQUIRE(result.items.size() <= 5);
  };
  for (std::size_t size = 0; size <= frame.size(); ++size) {
    check(frame.substr(0, size));
  }
  for (std::size_t i = 0; i < frame.size(); ++i) {
    for (const char replacement : {'\0', '"', '\\', '{', '}', '[', ',', ':', '\n', '1', '-', 'x'}) {
      std::string mutated = frame;
      mutated[i] = replacement;
      check(mutated);
    }
  }
}

TEST_CASE("a channel over 255 bytes gets error 107", "[client_protocol]") {
  const std::string longest = repeat('c', 255);
  const std::string too_long = repeat('c', 256);
  single<cp::subscribe_request>(R"({"id":1,"subscribe":{"channel":")" + longest + "\"}}", 1);
  for (const std::string method : {"subscribe", "unsubscribe", "presence", "presence_stats",
                                   "history", "publish", "sub_refresh"}) {
    INFO("method: " << method);
    const std::string extra = method == "publish"       ? R"(,"data":1)"
                              : method == "sub_refresh" ? R"(,"token":"t")"
                                                        : "";
    require_reply_error(
        R"({"id":5,")" + method + R"(":{"channel":")" + too_long + "\"" + extra + "}}", 5, 107,
        "channel too long");
  }
  // Bytes, not characters: 128 two-byte characters are 256 bytes.
  std::string wide;
  for (int i = 0; i < 128; ++i) {
    wide += "é";
  }
  require_reply_error(R"({"id":6,"presence":{"channel":")" + wide + "\"}}", 6, 107,
                      "channel too long");
}

TEST_CASE("sub_refresh without a token gets error 107", "[client_protocol]") {
  require_reply_error(R"({"id":3,"sub_refresh":{"channel":"c"}})", 3, 107, "token required");
  require_reply_error(R"({"id":3,"sub_refresh":{"channel":"c","token":""}})", 3, 107,
                      "token required");
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

TEST_CASE("append_json_string escapes what JSON requires", "[client_protocol]") {
  const auto quoted = [](std::string_view text) {
    std::string out;
    cp::append_json_string(out, text);
    return out;
  };
  REQUIRE(quoted("") == R"("")");
  REQUIRE(quoted("plain") == R"("plain")");
  REQUIRE(quoted(R"(a"b)") == R"("a\"b")");
  REQUIRE(quoted(R"(a\b)") == R"("a\\b")");
  REQUIRE(quoted("\b\f\n\r\t") == R"("\b\f\n\r\t")");
  REQUIRE(quoted(bytes("\x01\x1f\0")) == R"("\u0001\u001f\u0000")");
  REQUIRE(quoted("/\x7f") == "\"/\x7f\"");
  REQUIRE(quoted("новости 😀") == "\"новости 😀\"");
  // Whatever the input, it parses back to the same string.
  const std::string nasty = bytes("\"\\\n\x02 é\0\"\"end\\");
  REQUIRE(parse_json(quoted(nasty)).as_string() == json::string(nasty));
}

TEST_CASE("error replies", "[client_protocol]") {
  std::string out;
  cp::append_error_reply(out, 7, cp::errors::permission_denied);
  REQUIRE(out == R"({"id":7,"error":{"code":103,"message":"permission denied"}})");
  out.clear();
  cp::append_error_reply(out, 8, cp::errors::internal);
  REQUIRE(out ==
          R"({"id":8,"error":{"code":100,"message":"internal server error","temporary":true}})");
  out.clear();
  cp::append_error_reply(out, 4294967295u, cp::client_error{4000, "custom \"x\"", false});
  REQUIRE(out == R"({"id":4294967295,"error":{"code":4000,"message":"custom \"x\""}})");
}

TEST_CASE("connect replies", "[client_protocol]") {
  SECTION("what the SDK needs: client, version, ping and pong") {
    std::string out;
    cp::connect_result result;
    result.client = "6f3c1b9e";
    result.version = "0.1.0";
    result.ping = 25;
    result.pong = true;
    cp::append_connect_reply(out, 1, result);
    REQUIRE(out ==
            R"({"id":1,"connect":{"client":"6f3c1b9e","version":"0.1.0","ping":25,"pong":true}})");
  }
  SECTION("every field") {
    std::string out;
    cp::subscribe_result sub;
    sub.recoverable = true;
    sub.epoch = "e";
    sub.offset = 4;
    sub.positioned = true;
    cp::connect_result result;
    result.client = "c";
    result.version = "v";
    result.expires = true;
    result.ttl = 60;
    result.data = R"({"welcome":true})";
    result.subs.emplace_back("personal:#42", sub);
    result.ping = 25;
    result.pong = true;
    result.session = "s";
    result.node = "n";
    cp::append_connect_reply(out, 2, result);
    const json::value value = parse_json(out);
    REQUIRE(value.at("id") == 2);
    const auto& connect = value.at("connect").as_object();
    REQUIRE(connect.at("client") == "c");
    REQUIRE(connect.at("version") == "v");
    REQUIRE(connect.at("expires") == true);
    REQUIRE(connect.at("ttl") == 60);
    REQUIRE(connect.at("data") == parse_json(R"({"welcome":true})"));
    REQUIRE(
        connect.at("subs") ==
        parse_json(
            R"({"personal:#42":{"recoverable":true,"epoch":"e","offset":4,"positioned":true}})"));
    REQUIRE(connect.at("ping") == 25);
    REQUIRE(connect.at("pong") == true);
    REQUIRE(connect.at("session") == "s");
    REQUIRE(connect.at("node") == "n");
  }
}

TEST_CASE("subscribe replies", "[client_protocol]") {
  SECTION("a plain channel") {
    std::string out;
    cp::append_subscribe_reply(out, 2, cp::subscribe_result{});
    REQUIRE(out == R"({"id":2,"subscribe":{}})");
  }
  SECTION("a recovery with publications") {
    const cp::client_info_view info{"u1", "c1", R"({"name":"Ann"})", ""};
    cp::subscribe_result result;
    result.recoverable = true;
    result.positioned = true;
    result.epoch = "ep\"och";
    result.offset = 3;
    result.recovered = true;
    result.was_recovering = true;
    result.expires = true;
    result.ttl = 30;
    result.data = "[1]";
    result.publications = {{R"({"n":2})", 2, nullptr}, {R"("three")", 3, &info}};
    std::string out;
    cp::append_subscribe_reply(out, 9, result);
    REQUIRE(out ==
            R"({"id":9,"subscribe":{"expires":true,"ttl":30,"recoverable":true,"epoch":"ep\"och",)"
            R"("publications":[{"data":{"n":2},"offset":2},{"data":"three","info":{"user":"u1",)"
            R"("client":"c1","conn_info":{"name":"Ann"}},"offset":3}],"recovered":true,"offset":3,)"
            R"("positioned":true,"data":[1],"was_recovering":true}})");
    parse_json(out);
  }
  SECTION("a failed recovery says was_recovering without recovered") {
    cp::subscribe_result result;
    result.recoverable = true;
    result.epoch = "new";
    result.offset = 10;
    result.was_recovering = true;
    std::string out;
    cp::append_subscribe_reply(out, 3, result);
    REQUIRE(
        out ==
        R"({"id":3,"subscribe":{"recoverable":true,"epoch":"new","offset":10,"was_recovering":true}})");
  }
}

TEST_CASE("unsubscribe, publish, presence_stats, refresh and rpc replies", "[client_protocol]") {
  std::string out;
  cp::append_unsubscribe_reply(out, 8);
  REQUIRE(out == R"({"id":8,"unsubscribe":{}})");
  out.clear();
  cp::append_publish_reply(out, 3);
  REQUIRE(out == R"({"id":3,"publish":{}})");
  out.clear();
  cp::append_presence_stats_reply(out, 5, 0, 0);
  REQUIRE(out == R"({"id":5,"presence_stats":{"num_clients":0,"num_users":0}})");
  out.clear();
  cp::append_presence_stats_reply(out, 5, 3, 2);
  REQUIRE(out == R"({"id":5,"presence_stats":{"num_clients":3,"num_users":2}})");
  out.clear();
  cp::append_refresh_reply(out, 9, cp::refresh_result{"c", "v", true, 120});
  REQUIRE(out == R"({"id":9,"refresh":{"client":"c","version":"v","expires":true,"ttl":120}})");
  out.clear();
  cp::append_refresh_reply(out, 9, cp::refresh_result{});
  REQUIRE(out == R"({"id":9,"refresh":{}})");
  out.clear();
  cp::append_sub_refresh_reply(out, 10, true, 45);
  REQUIRE(out == R"({"id":10,"sub_refresh":{"expires":true,"ttl":45}})");
  out.clear();
  cp::append_sub_refresh_reply(out, 10, false, 0);
  REQUIRE(out == R"({"id":10,"sub_refresh":{}})");
}

TEST_CASE("presence replies", "[client_protocol]") {
  SECTION("empty") {
    std::string out;
    cp::append_presence_reply(out, 4, {});
    REQUIRE(out == R"({"id":4,"presence":{"presence":{}}})");
  }
  SECTION("keyed by client id, anonymous users included") {
    std::string out;
    cp::append_presence_reply(
        out, 4,
        {cp::client_info_view{"alice", "c-1", R"({"n":1})", R"({"role":"x"})"},
         cp::client_info_view{"", "c\"2", "", ""}});
    REQUIRE(
        out ==
        R"({"id":4,"presence":{"presence":{"c-1":{"user":"alice","client":"c-1","conn_info":{"n":1},)"
        R"("chan_info":{"role":"x"}},"c\"2":{"user":"","client":"c\"2"}}}})");
    const json::value value = parse_json(out);
    REQUIRE(value.at("presence").at("presence").at("c\"2").at("user") == "");
  }
}

TEST_CASE("history replies always carry publications, epoch and offset", "[client_protocol]") {
  SECTION("empty") {
    std::string out;
    cp::append_history_reply(out, 6, cp::history_result{});
    REQUIRE(out == R"({"id":6,"history":{"publications":[],"epoch":"","offset":0}})");
  }
  SECTION("with publications") {
    cp::history_result result;
    result.publications = {{"1", 7, nullptr}, {"2", 8, nullptr}};
    result.epoch = "xyz";
    result.offset = 8;
    std::string out;
    cp::append_history_reply(out, 6, result);
    REQUIRE(
        out ==
        R"({"id":6,"history":{"publications":[{"data":1,"offset":7},{"data":2,"offset":8}],"epoch":"xyz","offset":8}})");
  }
}

TEST_CASE("publication pushes embed the data unchanged", "[client_protocol]") {
  SECTION("exact bytes") {
    REQUIRE(publication_push("news", R"({"text":"hi"})", 5) ==
            R"({"push":{"channel":"news","pub":{"data":{"text":"hi"},"offset":5}}})");
    REQUIRE(publication_push("news", R"({"text":"hi"})", 0) ==
            R"({"push":{"channel":"news","pub":{"data":{"text":"hi"}}}})");
  }
  SECTION("the raw text is not reformatted") {
    const std::string data = R"({"b":1.50,"a":[1, 2],"u":"\u00e9"})";
    const std::string push = publication_push("c", data, 1);
    REQUIRE(push.find(data) != std::string::npos);
  }
  SECTION("with the publisher's info") {
    const cp::client_info_view info{"bob", "c-9", "", R"({"c":1})"};
    REQUIRE(publication_push("chat", "\"m\"", 12, &info) ==
            R"({"push":{"channel":"chat","pub":{"data":"m","info":{"user":"bob","client":"c-9",)"
            R"("chan_info":{"c":1}},"offset":12}}})");
  }
  SECTION("a newline in the data cannot split the frame") {
    const std::string push = publication_push("c", "{\n  \"k\": \"v\"\n}", 2);
    REQUIRE(push.find('\n') == std::string::npos);
    REQUIRE(parse_json(push).at("push").at("pub").at("data") == parse_json(R"({"k":"v"})"));
  }
  SECTION("channel names are escaped") {
    const std::string channel = bytes("a\"b\\c\n\x01/é");
    const std::string push = publication_push(channel, "1", 1);
    REQUIRE(parse_json(push).at("push").at("channel").as_string() == json::string(channel));
  }
  SECTION("appended after a separator, it follows what is there") {
    std::string out = "{}";
    cp::append_separator(out);
    cp::append_publication_push(out, "news", cp::publication_view{"[]", 3, nullptr});
    REQUIRE(out == "{}\n" + publication_push("news", "[]", 3));
  }
  SECTION("the largest offset") {
    REQUIRE(publication_push("c", "1", UINT64_MAX) ==
            R"({"push":{"channel":"c","pub":{"data":1,"offset":18446744073709551615}}})");
  }
}

TEST_CASE("join, leave and unsubscribe pushes", "[client_protocol]") {
  const cp::client_info_view info{"u", "c", R"({"a":1})", ""};
  std::string out;
  cp::append_join_push(out, "news", info);
  REQUIRE(
      out ==
      R"({"push":{"channel":"news","join":{"info":{"user":"u","client":"c","conn_info":{"a":1}}}}})");
  out.clear();
  cp::append_leave_push(out, "news", cp::client_info_view{"", "c", "", ""});
  REQUIRE(out == R"({"push":{"channel":"news","leave":{"info":{"user":"","client":"c"}}}})");
  out.clear();
  cp::append_unsubscribe_push(out, "news", cp::unsubscribes::server);
  REQUIRE(
      out ==
      R"({"push":{"channel":"news","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}})");
}

TEST_CASE("replies and pushes batch into one frame with newlines", "[client_protocol]") {
  std::string frame;
  cp::append_separator(frame);
  REQUIRE(frame.empty());
  cp::append_connect_reply(frame, 1,
                           cp::connect_result{"c", "v", false, 0, "", {}, 25, true, "", ""});
  cp::append_separator(frame);
  cp::append_subscribe_reply(frame, 2, cp::subscribe_result{});
  cp::append_separator(frame);
  frame += publication_push("news", R"({"t":"a\nb"})", 1);
  cp::append_separator(frame);
  frame += cp::ping_message;

  std::vector<std::string> lines;
  std::size_t start = 0;
  while (true) {
    const std::size_t newline = frame.find('\n', start);
    lines.push_back(frame.substr(start, newline - start));
    if (newline == std::string::npos) {
      break;
    }
    start = newline + 1;
  }
  REQUIRE(lines.size() == 4);
  REQUIRE(parse_json(lines[0]).at("connect").at("client") == "c");
  REQUIRE(parse_json(lines[1]).at("id") == 2);
  REQUIRE(parse_json(lines[2]).at("push").at("pub").at("data").at("t") == "a\nb");
  REQUIRE(lines[3] == "{}");
}

TEST_CASE("the server ping is an empty object", "[client_protocol]") {
  REQUIRE(cp::ping_message == "{}");
  // ... which is also what the client's pong decodes from.
  single<cp::pong>(cp::ping_message, 0);
}
