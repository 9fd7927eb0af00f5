#include <catch2/catch.hpp>

#include <string>

#include "connection.hpp"
#include "herald/redis/server_address.hpp"
#include "resp_reader.hpp"

using namespace std::string_literals;
using herald::core::resp_value;
using herald::redis::resp_reader;

TEST_CASE("resp_reader builds reply trees, across partial reads", "[resp_reader]") {
  resp_reader reader;
  const std::string bytes =
      "+OK\r\n-ERR boom\r\n:42\r\n$-1\r\n$5\r\nhel\0o\r\n*3\r\n:1\r\n*2\r\n$1\r\na\r\n$0\r\n\r\n*-1\r\n"s;
  // One byte at a time: a reply is only complete once all of it came.
  std::vector<resp_value> replies;
  for (char c : bytes) {
    REQUIRE(reader.feed(&c, 1));
    while (auto reply = reader.next()) {
      replies.push_back(std::move(*reply));
    }
  }
  REQUIRE_FALSE(reader.failed());
  REQUIRE(replies.size() == 6);
  CHECK(replies[0].type == resp_value::kind::status);
  CHECK(replies[0].text == "OK");
  CHECK(replies[1].is_error());
  CHECK(replies[1].text == "ERR boom");
  CHECK(replies[2].integer == 42);
  CHECK(replies[3].type == resp_value::kind::nil);
  CHECK(replies[4].text == std::string("hel\0o", 5));
  const auto& nested = replies[5];
  REQUIRE(nested.is_array());
  REQUIRE(nested.elements.size() == 3);
  CHECK(nested.elements[0].integer == 1);
  REQUIRE(nested.elements[1].elements.size() == 2);
  CHECK(nested.elements[1].elements[0].text == "a");
  CHECK(nested.elements[1].elements[1].text.empty());
  CHECK(nested.elements[2].type == resp_value::kind::nil);
}

TEST_CASE("resp_reader refuses what no command asks for", "[resp_reader]") {
  SECTION("a protocol error") {
    resp_reader reader;
    const std::string junk = "?what\r\n";
    reader.feed(junk.data(), junk.size());
    CHECK_FALSE(reader.next());
    CHECK(reader.failed());
  }
  SECTION("an array of more elements than any reply has") {
    resp_reader reader;
    const std::string huge = "*2000000000\r\n";
    reader.feed(huge.data(), huge.size());
    CHECK_FALSE(reader.next());
    CHECK(reader.failed());
  }
  SECTION("a bulk string that would not fit the buffer") {
    resp_reader reader{4u << 20};  // the limit works the same at 512 MB
    const std::string chunk(1 << 20, 'x');
    const std::string head = "$1000000000\r\n";
    REQUIRE(reader.feed(head.data(), head.size()));
    bool refused = false;
    for (int i = 0; i < 6 && !refused; ++i) {
      refused = !reader.feed(chunk.data(), chunk.size());
      CHECK_FALSE(reader.next());
    }
    CHECK(refused);
    CHECK(reader.failed());
  }
}

TEST_CASE("encode_command writes RESP arrays of bulk strings", "[resp_reader]") {
  CHECK(herald::redis::encode_command({"SET", "k", std::string_view{"a\0b", 3}}) ==
        "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\0b\r\n"s);
}

TEST_CASE("server addresses are host:port or [v6]:port", "[server_address]") {
  using herald::redis::parse_server_address;
  auto plain = parse_server_address("redis.local:6380");
  REQUIRE(plain);
  CHECK(plain->host == "redis.local");
  CHECK(plain->port == 6380);
  CHECK(plain->text() == "redis.local:6380");
  auto v6 = parse_server_address("[::1]:7000");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->text() == "[::1]:7000");
  for (const char* bad : {"", "host", ":6379", "host:", "host:0", "host:65536", "host:12x",
                          "::1:6379", "[::1:6379", "[]:6379"}) {
    INFO(bad);
    CHECK_FALSE(parse_server_address(bad));
  }
}
