#include <catch2/catch.hpp>

#include <string>

#include "herald/core/engine_codec.hpp"

using namespace herald::core;

namespace {

publication_ptr from_client(std::string data) {
  auto who =
      std::make_shared<const publisher_info>(publisher_info{"alice", "c-1", R"({"name":"A"})", ""});
  return make_publication(std::move(data), nullptr, who);
}

}  // namespace

TEST_CASE("publication payloads round-trip, binary-safe", "[engine_codec]") {
  const std::string data{"{\"t\":\"a:b\"}\0\n12:x", 17};
  auto anonymous = make_publication(data);
  auto decoded = decode_publication_payload(encode_publication_payload(*anonymous));
  REQUIRE(decoded);
  CHECK((*decoded)->data == data);
  CHECK((*decoded)->publisher == nullptr);
  CHECK((*decoded)->seed_frame == nullptr);

  auto published = decode_publication_payload(encode_publication_payload(*from_client("{}")));
  REQUIRE(published);
  REQUIRE((*published)->publisher);
  CHECK((*published)->publisher->user == "alice");
  CHECK((*published)->publisher->client == "c-1");
  CHECK((*published)->publisher->conn_info == R"({"name":"A"})");
  CHECK((*published)->publisher->chan_info.empty());
}

TEST_CASE("malformed publication payloads are refused", "[engine_codec]") {
  const std::string good = encode_publication_payload(*from_client("{\"x\":1}"));
  const std::size_t publisher_at = good.find('i');
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    // Cut right before the publisher, what is left is a whole anonymous one.
    if (cut != publisher_at) {
      CHECK_FALSE(decode_publication_payload(good.substr(0, cut)));
    }
  }
  CHECK_FALSE(decode_publication_payload(good + "x"));
  CHECK_FALSE(decode_publication_payload("d99999999999999999999999:"));
  CHECK_FALSE(decode_publication_payload("d-1:"));
  CHECK_FALSE(decode_publication_payload("d+1:x"));
  CHECK_FALSE(decode_publication_payload("x2:{}"));
  CHECK(decode_publication_payload("d0:"));
}

TEST_CASE("engine messages carry positioned publications and presence", "[engine_codec]") {
  const std::string payload = encode_publication_payload(*make_publication("{\"n\":1}"));
  auto positioned = decode_engine_message("__p1:42:ab12cd34__" + payload);
  REQUIRE(positioned);
  const auto& item = std::get<engine_publication>(*positioned);
  CHECK(item.offset == 42);
  CHECK(item.epoch == "ab12cd34");
  CHECK(item.publication->data == "{\"n\":1}");

  auto plain = decode_engine_message(encode_unpositioned_publication(*make_publication("7")));
  REQUIRE(plain);
  CHECK(std::get<engine_publication>(*plain).offset == 0);
  CHECK(std::get<engine_publication>(*plain).epoch.empty());

  const engine_presence_change leave{false, "c-9", client_info{"bob", "", R"({"r":1})"}};
  auto decoded = decode_engine_message(encode_presence_change(leave));
  REQUIRE(decoded);
  const auto& change = std::get<engine_presence_change>(*decoded);
  CHECK_FALSE(change.join);
  CHECK(change.client_id == "c-9");
  CHECK(change.info == leave.info);
  auto join = decode_engine_message(encode_presence_change({true, "c-1", client_info{}}));
  REQUIRE(join);
  CHECK(std::get<engine_presence_change>(*join).join);

  for (const char* bad : {"", "__p1:", "__p1:1:__",
                          "__p1:x:e__d0:", "__p1:1:__d0:", "__p1:0:e__d0:", "__p1:1:e_d0:", "__j__",
                          "__j__0:0:0:0:", "__l__1:c0:0:", "hello"}) {
    INFO(bad);
    CHECK_FALSE(decode_engine_message(bad));
  }
}

TEST_CASE("control messages round-trip and refuse the malformed", "[engine_codec]") {
  node_announcement node{"uid-1", "node-a", "0.1.0", 12, 3, 2, 5, 4};
  auto decoded = decode_control_message(encode_control_message(node));
  REQUIRE(decoded);
  const auto& back = std::get<node_announcement>(*decoded);
  CHECK(back.uid == "uid-1");
  CHECK(back.name == "node-a");
  CHECK(back.uptime == 12);
  CHECK(back.num_clients == 3);
  CHECK(back.num_channels == 4);

  disconnect_command command{"alice", "", 4000, "bye", {"c-1", "c-2"}};
  auto disconnect = decode_control_message(encode_control_message(command));
  REQUIRE(disconnect);
  const auto& read = std::get<disconnect_command>(*disconnect);
  CHECK(read.user == "alice");
  CHECK(read.code == 4000);
  CHECK(read.reason == "bye");
  CHECK(read.whitelist == std::vector<std::string>{"c-1", "c-2"});

  auto unsubscribe =
      decode_control_message(encode_control_message(unsubscribe_command{"u", "", "ch"}));
  REQUIRE(unsubscribe);
  CHECK(std::get<unsubscribe_command>(*unsubscribe).channel == "ch");

  const std::string good = encode_control_message(command);
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    CHECK_FALSE(decode_control_message(good.substr(0, cut)));
  }
  channels_answer answer{"n1-7", "n2", {{"chat", 3}, {"news", 1}}};
  auto answered = decode_control_message(encode_control_message(answer));
  REQUIRE(answered);
  CHECK(std::get<channels_answer>(*answered).channels == answer.channels);
  CHECK(std::get<channels_answer>(*answered).origin == "n2");
  auto survey = decode_control_message(encode_control_message(channels_survey{"n1-8", "ch*"}));
  REQUIRE(survey);
  CHECK(std::get<channels_survey>(*survey).pattern == "ch*");
  CHECK_FALSE(decode_control_message("a4:n1-72:n29999:"));  // more entries than bytes

  // A whitelist count no message could hold is refused before allocating.
  CHECK_FALSE(decode_control_message("x1:u0:4:40001:r10:999999999"));
  CHECK_FALSE(decode_control_message(encode_control_message(node_announcement{})));  // no uid
}
