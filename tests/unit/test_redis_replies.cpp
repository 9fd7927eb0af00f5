#include <catch2/catch.hpp>

#include <string>

#include "herald/core/engine_codec.hpp"
#include "herald/core/redis_replies.hpp"

using namespace herald::core;

namespace {

resp_value str(std::string text) {
  return resp_value::string_of(std::move(text));
}
resp_value num(long long n) {
  return resp_value::integer_of(n);
}
resp_value arr(std::vector<resp_value> items) {
  return resp_value::array_of(std::move(items));
}

resp_value entry(std::uint64_t offset, const std::string& data) {
  return arr({str(std::to_string(offset) + "-0"),
              arr({str("d"), str(encode_publication_payload(*make_publication(data)))})});
}

resp_value stream_reply(long long top, std::vector<resp_value> entries) {
  return arr({num(top), str("e1"), arr(std::move(entries))});
}

}  // namespace

TEST_CASE("stream positions are read from integers or strings", "[redis_replies]") {
  auto position = parse_stream_position(arr({num(7), str("e1")}));
  REQUIRE(position);
  CHECK(position->offset == 7);
  CHECK(position->epoch == "e1");
  CHECK(parse_stream_position(arr({str("7"), str("e1")}))->offset == 7);
  CHECK_FALSE(parse_stream_position(arr({num(-1), str("e1")})));
  CHECK_FALSE(parse_stream_position(arr({str("7x"), str("e1")})));
  CHECK_FALSE(parse_stream_position(arr({num(7), str("")})));
  CHECK_FALSE(parse_stream_position(arr({num(7)})));
  CHECK_FALSE(parse_stream_position(resp_value::error_of("ERR boom")));
  CHECK_FALSE(parse_stream_position(str("OK")));
}

TEST_CASE("stream reads keep Redis' order and refuse bad entries", "[redis_replies]") {
  auto read = parse_stream_read(stream_reply(3, {entry(2, "b"), entry(3, "c")}), 10);
  REQUIRE(read);
  CHECK(read->position.offset == 3);
  REQUIRE(read->publications.size() == 2);
  CHECK(read->publications[0].offset == 2);
  CHECK(read->publications[1].payload->data == "c");

  auto nil = parse_stream_read(arr({str("0"), str("e1"), resp_value{}}), 10);
  REQUIRE(nil);
  CHECK(nil->publications.empty());

  CHECK_FALSE(parse_stream_read(stream_reply(3, {entry(2, "b"), entry(3, "c")}), 1));
  CHECK_FALSE(parse_stream_read(stream_reply(1, {entry(2, "b")}), 10));  // past the top
  CHECK_FALSE(
      parse_stream_read(stream_reply(3, {arr({str("2-1"), arr({str("d"), str("d0:")})})}), 10));
  CHECK_FALSE(
      parse_stream_read(stream_reply(3, {arr({str("2-0"), arr({str("x"), str("d0:")})})}), 10));
  CHECK_FALSE(
      parse_stream_read(stream_reply(3, {arr({str("2-0"), arr({str("d"), str("junk")})})}), 10));
  CHECK_FALSE(parse_stream_read(stream_reply(3, {str("2-0")}), 10));
  CHECK_FALSE(parse_stream_read(arr({num(3), str("e1"), str("x")}), 10));
}

TEST_CASE("is_recovered follows the memory engine's rule", "[redis_replies]") {
  auto read = [](long long top, std::vector<resp_value> entries) {
    return *parse_stream_read(stream_reply(top, std::move(entries)), 100);
  };
  CHECK(is_recovered(read(3, {entry(2, "b"), entry(3, "c")}), 1, "e1", 10));
  CHECK(is_recovered(read(3, {entry(2, "b"), entry(3, "c")}), 1, "", 10));
  CHECK(is_recovered(read(3, {}), 3, "e1", 10));  // at the top
  CHECK_FALSE(is_recovered(read(3, {entry(2, "b"), entry(3, "c")}), 1, "other", 10));
  CHECK_FALSE(is_recovered(read(3, {entry(3, "c")}), 1, "e1", 10));  // 2 was trimmed
  CHECK_FALSE(is_recovered(read(3, {}), 1, "e1", 10));               // expired
  CHECK_FALSE(is_recovered(read(3, {}), 5, "e1", 10));               // ahead of the top
  CHECK_FALSE(is_recovered(read(3, {entry(2, "b"), entry(3, "c")}), 1, "e1", 1));  // too many
}

TEST_CASE("presence replies decode client infos", "[redis_replies]") {
  const client_info alice{"alice", R"({"a":1})", ""};
  auto clients = parse_presence(arr({str("c-1"), str(encode_client_info(alice)), str("c-2"),
                                     str(encode_client_info(client_info{}))}));
  REQUIRE(clients);
  CHECK(clients->size() == 2);
  CHECK(clients->at("c-1") == alice);
  CHECK(parse_presence(arr({}))->empty());
  CHECK_FALSE(parse_presence(arr({str("c-1")})));
  CHECK_FALSE(parse_presence(arr({str("c-1"), str("bad")})));
  CHECK_FALSE(parse_presence(arr({num(1), str(encode_client_info(alice))})));

  auto stats = parse_presence_stats(arr({num(3), num(2)}));
  REQUIRE(stats);
  CHECK(stats->num_clients == 3);
  CHECK(stats->num_users == 2);
  CHECK_FALSE(parse_presence_stats(arr({num(1), num(2)})));
  CHECK_FALSE(parse_presence_stats(arr({num(1)})));
}

TEST_CASE("pub/sub events are told apart", "[redis_replies]") {
  auto message = parse_pubsub_event(arr({str("message"), str("p.client.a"), str("x")}));
  REQUIRE(message);
  CHECK(message->what == pubsub_event::kind::message);
  CHECK(message->channel == "p.client.a");
  CHECK(message->payload == "x");
  CHECK(parse_pubsub_event(arr({str("subscribe"), str("c"), num(1)}))->what ==
        pubsub_event::kind::subscribed);
  CHECK(parse_pubsub_event(arr({str("unsubscribe"), str("c"), num(0)}))->what ==
        pubsub_event::kind::unsubscribed);
  CHECK(parse_pubsub_event(arr({str("pong"), str("")}))->what == pubsub_event::kind::pong);
  CHECK_FALSE(parse_pubsub_event(arr({str("message"), str("c")})));
  CHECK_FALSE(parse_pubsub_event(arr({str("message"), str("c"), num(1)})));
  CHECK_FALSE(parse_pubsub_event(str("OK")));
  CHECK_FALSE(parse_pubsub_event(arr({str("pmessage"), str("c"), str("d"), str("x")})));
}
