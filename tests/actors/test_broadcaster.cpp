// The broadcaster's fan-out: subscriptions, rounds and their tickets, both
// protocols on one channel, recovery, and the connection actor between the
// broadcaster and a session.

#include <catch2/catch.hpp>

#include "broadcaster_fixture.hpp"
#include "herald/actors/hub.hpp"

namespace actors = herald::actors;
namespace core = herald::core;
using herald::test::broadcaster_fixture;
using herald::test::payload_of;
using herald::test::recording_sink;

namespace {

// A /ws client's publication: its data, and the frame its session built
// (here the data itself, so that tests read plain text).
core::publication_ptr publication_of(std::string data) {
  auto frame = core::make_frame(data);
  return core::make_publication(std::move(data), std::move(frame));
}

std::uint64_t read(const std::atomic<std::uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

}  // namespace

TEST_CASE("a connection actor joins its channel and receives publications") {
  broadcaster_fixture f;
  const auto reader = f.seed_subscriber("news");
  f.run();
  f.publish("news", publication_of("hello"));
  f.run();
  CHECK(f.sink(reader).received() == std::vector<std::string>{"hello"});
  f.publish("other", publication_of("not for you"));
  f.run();
  CHECK(f.sink(reader).received().size() == 1);
}

TEST_CASE("a publication fans out to N subscribers as one shared frame") {
  broadcaster_fixture f;
  constexpr std::size_t subscriber_count = 50;
  for (std::size_t i = 0; i < subscriber_count; ++i) {
    f.seed_subscriber("c");
  }
  f.run();
  auto publication = publication_of("shared");
  const core::frame_ptr frame = publication->seed_frame;
  f.publish("c", std::move(publication));
  f.run();
  for (std::size_t i = 0; i < subscriber_count; ++i) {
    REQUIRE(f.sink(i).pointers.size() == 1);
    CHECK(f.sink(i).pointers.front().get() == frame.get());  // the same bytes, never copied
  }
  CHECK(read(f.counters->publications) == 1);
  CHECK(read(f.counters->deliveries) == subscriber_count);
  CHECK(read(f.counters->subscriptions) == subscriber_count);
  CHECK(read(f.counters->channels) == 1);
}

TEST_CASE("a round reaches the subscribers that published in it after the others") {
  broadcaster_fixture f;
  const auto first = f.seed_subscriber("chat");
  const auto talker = f.seed_subscriber("chat");
  const auto last = f.seed_subscriber("chat");
  f.run();
  caf::anon_send(f.broadcaster, actors::publish_atom::value, std::string{"chat"},
                 publication_of("hi"), f.connections[talker]);
  f.run();
  for (const auto who : {first, talker, last}) {
    REQUIRE(f.sink(who).received() == std::vector<std::string>{"hi"});
  }
  // Its acknowledgement still comes ahead of its own publication.
  CHECK(f.sink(talker).replies.size() == 1);
  const auto at = [&f](std::size_t who) { return f.sink(who).push_numbers.at(0); };
  CHECK(at(talker) > at(first));
  CHECK(at(talker) > at(last));
}

TEST_CASE("a round's pushes go to each route's sessions in one hand-over, publishers last") {
  broadcaster_fixture f;
  herald::test::recording_route left;
  herald::test::recording_route right;
  std::vector<std::size_t> on_left;
  std::vector<std::size_t> on_right;
  for (int i = 0; i < 3; ++i) {
    f.route_of_new_sinks = &left;
    on_left.push_back(f.seed_subscriber("chat"));
    f.route_of_new_sinks = &right;
    on_right.push_back(f.seed_subscriber("chat"));
  }
  f.route_of_new_sinks = nullptr;
  const auto alone = f.seed_subscriber("chat");  // a session without a route
  f.run();
  const auto talker = on_left[1];
  caf::anon_send(f.broadcaster, actors::publish_atom::value, std::string{"chat"},
                 publication_of("hi"), f.connections[talker]);
  f.run();
  const auto sessions_of = [&f](std::initializer_list<std::size_t> who) {
    std::vector<const actors::session_sink*> out;
    for (const auto index : who) {
      out.push_back(&f.sink(index));
    }
    return out;
  };
  // The talker's group comes after everyone else's: it is written last.
  REQUIRE(left.groups.size() == 2);
  CHECK(left.groups[0].sessions == sessions_of({on_left[0], on_left[2]}));
  CHECK(left.groups[1].sessions == sessions_of({talker}));
  REQUIRE(right.groups.size() == 1);
  CHECK(right.groups[0].sessions == sessions_of({on_right[0], on_right[1], on_right[2]}));
  for (const auto* route : {&left, &right}) {
    for (const auto& group : route->groups) {
      CHECK(group.with_round);
      CHECK(group.frames == left.groups[0].frames);  // one framing for the channel
    }
  }
  for (std::size_t who = 0; who <= alone; ++who) {
    CHECK(f.sink(who).received() == std::vector<std::string>{"hi"});
  }
  CHECK(f.sink(talker).replies.size() == 1);  // its acknowledgement, ahead of the push
  CHECK(read(f.counters->deliveries) == 7);
}

TEST_CASE("subscribers on one route that get other frames are handed over in their own groups") {
  broadcaster_fixture f{herald::test::open_channels()};
  herald::test::recording_route route;
  f.route_of_new_sinks = &route;
  const auto seed = f.seed_subscriber("broadcast");
  const auto client = f.client("c1", "");
  f.join(client, "broadcast", herald::test::subscribe_request(2));
  const auto second_seed = f.seed_subscriber("broadcast");
  f.run();
  route.groups.clear();  // the client's subscribe reply went one by one
  f.publish("broadcast", core::make_publication(R"({"message":"x"})"));
  f.run();
  REQUIRE(route.groups.size() == 2);
  CHECK(route.groups[0].sessions ==
        std::vector<const actors::session_sink*>{&f.sink(seed), &f.sink(second_seed)});
  CHECK(route.groups[1].sessions == std::vector<const actors::session_sink*>{&f.sink(client)});
  CHECK(route.groups[0].frames != route.groups[1].frames);
  CHECK(payload_of(f.sink(second_seed).received().at(0)) == R"({"message":"x"})");
  CHECK(payload_of(f.sink(client).received().at(1)) ==
        R"({"push":{"channel":"broadcast","pub":{"data":{"message":"x"}}}})");
}

TEST_CASE("a client's publications go through its connection actor in order") {
  broadcaster_fixture f;
  const auto reader = f.seed_subscriber("c");
  f.run();
  const auto publisher = f.seed_subscriber("c");
  // No run() before publishing: the publisher's subscription was queued at
  // the broadcaster first, so it sees its own first message.
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    caf::anon_send(f.connections[publisher], actors::publish_atom::value, std::string{"c"},
                   publication_of(std::to_string(i)));
    expected.push_back(std::to_string(i));
  }
  f.run();
  CHECK(f.sink(publisher).received() == expected);
  CHECK(f.sink(reader).received() == expected);
}

TEST_CASE("the broadcaster forgets a connection on its down message") {
  broadcaster_fixture f;
  const auto staying = f.seed_subscriber("c");
  const auto leaving = f.seed_subscriber("c");
  f.run();
  CHECK(read(f.counters->subscriptions) == 2);
  // A crash-like exit, not a polite unsubscribe: only the monitor sees it.
  caf::anon_send_exit(f.connections[leaving], caf::exit_reason::kill);
  f.run();
  CHECK(read(f.counters->subscriptions) == 1);
  f.publish("c", publication_of("after"));
  f.run();
  CHECK(f.sink(staying).received() == std::vector<std::string>{"after"});
  CHECK(f.sink(leaving).received().empty());
  CHECK(read(f.counters->deliveries) == 1);
}

TEST_CASE("unsubscribe (leave) stops deliveries and drops empty channels") {
  broadcaster_fixture f;
  const auto reader = f.seed_subscriber("a");
  f.run();
  caf::anon_send(f.broadcaster, actors::subscribe_atom::value, std::string{"b"},
                 f.connections[reader], f.session_of(reader));
  f.run();
  CHECK(read(f.counters->channels) == 2);
  CHECK(read(f.counters->subscriptions) == 2);
  caf::anon_send(f.broadcaster, actors::unsubscribe_atom::value, std::string{"a"},
                 f.connections[reader]);
  f.run();
  CHECK(read(f.counters->channels) == 1);
  CHECK(read(f.counters->subscriptions) == 1);
  f.publish("a", publication_of("to a"));
  f.publish("b", publication_of("to b"));
  f.run();
  CHECK(f.sink(reader).received() == std::vector<std::string>{"to b"});
}

TEST_CASE("a connection whose session is gone drops deliveries and lets their round go") {
  broadcaster_fixture f;
  const auto orphan = f.spawn_connection();
  f.sinks[orphan].reset();  // the session was freed by its I/O handlers
  bool round_done = false;
  auto round = std::make_shared<const actors::round_ticket>([&] { round_done = true; });
  auto batch = std::make_shared<core::frame_batch>();
  batch->append(core::make_frame("lost"));
  const std::weak_ptr<const core::frame_batch> watched = batch;
  caf::anon_send(f.connections[orphan], actors::deliver_atom::value,
                 actors::delivery{actors::channel_pushes{std::move(batch), std::move(round)}});
  f.run();
  // Neither the frames nor the round's ticket stay with the actor, so the
  // broadcaster's next round is not held back; and the actor lives on
  // until its session's handle closes it.
  CHECK(round_done);
  CHECK(watched.expired());
  CHECK(f.sys.system.registry().running() == 2);  // the broadcaster and the actor
}

TEST_CASE("a hub's connection handle closes its actor when dropped") {
  herald::test::deterministic_system sys;
  actors::hub hub{sys.system, actors::broadcaster_config{}};
  auto sink = std::make_shared<recording_sink>();
  {
    auto handle = hub.connect(sink, "c");
    sys.run();
    CHECK(sys.system.registry().running() == 2);  // the broadcaster and the connection
    handle.publish("c", publication_of("self"));
    sys.run();
    CHECK(sink->received() == std::vector<std::string>{"self"});
  }
  sys.run();
  CHECK(sys.system.registry().running() == 1);  // the connection actor quit
  hub.stop();
  sys.run();
  CHECK(sys.system.registry().running() == 0);
}

TEST_CASE("closing the broadcaster ends every connection actor with it") {
  broadcaster_fixture f;
  for (int i = 0; i < 3; ++i) {
    f.seed_subscriber("c" + std::to_string(i % 2));
  }
  f.client("c-lonely", "u");  // connected, subscribed to nothing
  // Announced at its spawn, but never connected.
  const auto announced = f.spawn_connection();
  caf::anon_send(f.broadcaster, actors::announce_atom::value, f.connections[announced],
                 f.session_of(announced));
  f.run();
  CHECK(f.sys.system.registry().running() == 6);
  // At shutdown the sessions cannot close their actors any more.
  caf::anon_send(f.broadcaster, actors::close_atom::value);
  f.run();
  CHECK(f.sys.system.registry().running() == 0);
}

TEST_CASE("publications that arrive in one round reach each subscriber as one shared batch") {
  broadcaster_fixture f;
  for (int i = 0; i < 3; ++i) {
    f.seed_subscriber("c");
  }
  f.run();
  // All five are in the mailbox before the broadcaster runs: the flush it
  // schedules on the first lands behind the fifth.
  for (int i = 0; i < 5; ++i) {
    f.publish("c", publication_of(std::to_string(i)));
  }
  f.run();
  const std::vector<std::string> expected{"0", "1", "2", "3", "4"};
  for (const auto& sink : f.sinks) {
    REQUIRE(sink->batches.size() == 1);
    CHECK(sink->received() == expected);
    CHECK(sink->batches.front().get() == f.sinks.front()->batches.front().get());
    CHECK(sink->batches.front()->bytes == 5);
  }
  // A later round is a new batch.
  f.publish("c", publication_of("5"));
  f.run();
  CHECK(f.sink(0).batches.size() == 2);
  CHECK(read(f.counters->publications) == 6);
  CHECK(read(f.counters->deliveries) == 18);
}

TEST_CASE("a round's channels are batched separately and only to their subscribers") {
  broadcaster_fixture f;
  const auto only_a = f.seed_subscriber("a");
  const auto only_b = f.seed_subscriber("b");
  f.run();
  f.publish("a", publication_of("a1"));
  f.publish("b", publication_of("b1"));
  f.publish("a", publication_of("a2"));
  f.run();
  CHECK(f.sink(only_a).received() == std::vector<std::string>{"a1", "a2"});
  CHECK(f.sink(only_a).batches.size() == 1);
  CHECK(f.sink(only_b).received() == std::vector<std::string>{"b1"});
}

TEST_CASE("a subscriber joining mid-round gets only what arrives after it joined") {
  broadcaster_fixture f;
  const auto early = f.seed_subscriber("c");
  f.run();
  f.publish("c", publication_of("before"));
  const auto late = f.seed_subscriber("c");
  f.publish("c", publication_of("after"));
  f.run();
  CHECK(f.sink(early).received() == std::vector<std::string>{"before", "after"});
  CHECK(f.sink(late).received() == std::vector<std::string>{"after"});
}

TEST_CASE("a client-protocol subscriber gets its reply, then a round's pushes in one frame") {
  broadcaster_fixture f{herald::test::open_channels()};
  const auto client = f.client("c1", "");
  f.join(client, "news", herald::test::subscribe_request(7));
  f.publish("news", core::make_publication(R"({"a":1})"));
  f.publish("news", core::make_publication(R"("b")"));
  f.run();
  const auto frames = f.sink(client).received();
  REQUIRE(frames.size() == 2);
  CHECK(payload_of(frames[0]) == R"({"id":7,"subscribe":{}})");
  CHECK(payload_of(frames[1]) ==
        "{\"push\":{\"channel\":\"news\",\"pub\":{\"data\":{\"a\":1}}}}\n"
        "{\"push\":{\"channel\":\"news\",\"pub\":{\"data\":\"b\"}}}");
  // The reply said what it answers and settled the subscription.
  CHECK(f.sink(client).replies ==
        std::vector<actors::command_reply::answering>{actors::command_reply::answering::subscribe});
  REQUIRE(f.sink(client).outcomes.size() == 1);
  CHECK(f.sink(client).outcomes[0].channel == "news");
  CHECK(f.sink(client).outcomes[0].generation == 7);
  CHECK(f.sink(client).outcomes[0].accepted);
  // The pushes carry their channel, for a session that left meanwhile.
  CHECK(f.sink(client).batches.back()->channel == "news");
  // unsubscribe through the actor: nothing more arrives.
  f.leave(client, "news");
  f.publish("news", core::make_publication("1"));
  f.run();
  CHECK(f.sink(client).received().size() == 2);
}

TEST_CASE("one channel serves both protocols, each in its own form") {
  broadcaster_fixture f{herald::test::open_channels()};
  const auto seed = f.seed_subscriber("broadcast");
  const auto client = f.client("c1", "");
  f.join(client, "broadcast", herald::test::subscribe_request(2));
  // From an API or client-protocol publisher: no /ws frame yet, the
  // broadcaster frames the data for /ws itself.
  f.publish("broadcast", core::make_publication(R"({"message":"x"})"));
  f.run();
  REQUIRE(f.sink(seed).received().size() == 1);
  CHECK(payload_of(f.sink(seed).received()[0]) == R"({"message":"x"})");
  REQUIRE(f.sink(client).received().size() == 2);
  CHECK(payload_of(f.sink(client).received()[1]) ==
        R"({"push":{"channel":"broadcast","pub":{"data":{"message":"x"}}}})");
  CHECK(read(f.counters->deliveries) == 2);
}

TEST_CASE("a recovering subscriber gets exactly the publications it missed") {
  broadcaster_fixture f{herald::test::recoverable_channels()};
  const auto first = f.client("c1", "");
  f.join(first, "feed", herald::test::positioned_subscribe(1));
  REQUIRE(f.sink(first).received().size() == 1);
  const auto joined = boost::json::parse(payload_of(f.sink(first).received()[0]));
  const auto& reply = joined.at("subscribe").as_object();
  CHECK(reply.at("recoverable").as_bool());
  const std::string epoch{reply.at("epoch").as_string()};
  CHECK_FALSE(epoch.empty());
  CHECK_FALSE(reply.contains("offset"));  // nothing published yet
  for (int i = 1; i <= 5; ++i) {
    f.publish("feed", core::make_publication(std::to_string(i)));
  }
  f.run();
  // The pushes carry their offsets.
  REQUIRE(f.sink(first).received().size() == 2);
  CHECK(f.sink(first).received()[1].find(R"("pub":{"data":5,"offset":5})") != std::string::npos);

  // A client that saw offset 2 of this stream.
  const auto second = f.client("c2", "");
  f.join(second, "feed", herald::test::recovering_subscribe(7, 2, epoch));
  REQUIRE(f.sink(second).received().size() == 1);
  const auto recovered = boost::json::parse(payload_of(f.sink(second).received()[0]));
  const auto& result = recovered.at("subscribe").as_object();
  CHECK(result.at("recovered").as_bool());
  CHECK(result.at("was_recovering").as_bool());
  CHECK(result.at("offset").as_int64() == 5);
  const auto& missed = result.at("publications").as_array();
  REQUIRE(missed.size() == 3);
  for (std::size_t i = 0; i < missed.size(); ++i) {
    CHECK(missed[i].at("offset").as_int64() == static_cast<std::int64_t>(i + 3));
    CHECK(missed[i].at("data").as_int64() == static_cast<std::int64_t>(i + 3));
  }

  // Another epoch (a restarted node's): not recoverable, nothing replayed.
  const auto third = f.client("c3", "");
  f.join(third, "feed", herald::test::recovering_subscribe(8, 2, "another-epoch"));
  const auto refused = boost::json::parse(payload_of(f.sink(third).received().at(0)));
  const auto& lost = refused.at("subscribe").as_object();
  CHECK_FALSE(lost.contains("recovered"));
  CHECK(lost.at("was_recovering").as_bool());
  CHECK_FALSE(lost.contains("publications"));
  CHECK(lost.at("offset").as_int64() == 5);
}

TEST_CASE("publications that arrive while a round is being written go out as the next round") {
  broadcaster_fixture f;
  const auto reader = f.seed_subscriber("news");
  f.sink(reader).hold_rounds = true;
  f.run();
  f.publish("news", publication_of("1"));
  f.run();
  REQUIRE(f.sink(reader).batches.size() == 1);  // nothing in flight: sent at once

  f.publish("news", publication_of("2"));
  f.run();
  f.publish("news", publication_of("3"));
  f.run();
  CHECK(f.sink(reader).batches.size() == 1);  // round 1 is still being written

  f.sink(reader).held_rounds.clear();  // written: the ticket's last reference goes
  f.run();
  REQUIRE(f.sink(reader).batches.size() == 2);
  CHECK(f.sink(reader).batches.back()->frames.size() == 2);
  CHECK(f.sink(reader).received() == std::vector<std::string>{"1", "2", "3"});
  f.sink(reader).held_rounds.clear();
}

TEST_CASE("a subscriber joining while rounds wait gets only what comes after it") {
  broadcaster_fixture f;
  const auto early = f.seed_subscriber("news");
  f.sink(early).hold_rounds = true;
  f.run();
  f.publish("news", publication_of("1"));
  f.run();
  f.publish("news", publication_of("2"));
  f.run();
  CHECK(f.sink(early).received() == std::vector<std::string>{"1"});  // round 1 unwritten

  // "2" was published before the newcomer joined: it waits for its round,
  // and the newcomer's subscription does not push it out early (every
  // round is gated, so subscriptions cannot pile deliveries up).
  const auto late = f.seed_subscriber("news");
  f.run();
  f.publish("news", publication_of("3"));
  f.run();
  CHECK(f.sink(early).received() == std::vector<std::string>{"1"});
  CHECK(f.sink(late).received().empty());
  f.sink(early).held_rounds.clear();  // round 1 written: "2" and "3" go as one
  f.run();
  CHECK(f.sink(early).received() == std::vector<std::string>{"1", "2", "3"});
  CHECK(f.sink(late).received() == std::vector<std::string>{"3"});
  f.sink(early).held_rounds.clear();
}

TEST_CASE("with a limit of two rounds in flight, the third waits for the first") {
  broadcaster_fixture f{core::channel_options{}, 2};
  const auto reader = f.seed_subscriber("news");
  auto& sink = f.sink(reader);
  sink.hold_rounds = true;
  f.run();
  for (const char* data : {"1", "2", "3", "4"}) {
    f.publish("news", publication_of(data));
    f.run();
  }
  CHECK(sink.batches.size() == 2);                   // "1" and "2", one round each
  sink.held_rounds.erase(sink.held_rounds.begin());  // the first round is written
  f.run();
  REQUIRE(sink.batches.size() == 3);
  CHECK(sink.batches.back()->frames.size() == 2);  // "3" and "4" together
  CHECK(sink.received() == std::vector<std::string>{"1", "2", "3", "4"});
  sink.held_rounds.clear();
}

TEST_CASE("rounds whose deliveries reach no live session do not hold the next") {
  broadcaster_fixture f;
  const auto gone = f.seed_subscriber("news");
  f.run();
  f.sinks[gone].reset();  // the session closed; its actor has not yet
  for (const char* data : {"1", "2", "3"}) {
    f.publish("news", publication_of(data));
    f.publish("empty", publication_of(data));
    f.run();
  }
  // Each round's ticket went with its dropped deliveries: a new subscriber
  // gets the next publication at once.
  const auto live = f.seed_subscriber("news");
  f.run();
  f.publish("news", publication_of("4"));
  f.run();
  CHECK(f.sink(live).received() == std::vector<std::string>{"4"});
  CHECK(read(f.counters->publications) == 7);
}

TEST_CASE("a subscriber recovering while a round waits gets each publication once") {
  broadcaster_fixture f{herald::test::recoverable_channels()};
  const auto holder = f.seed_subscriber("feed");  // keeps round 1 unwritten
  f.sink(holder).hold_rounds = true;
  const auto first = f.client("c1", "");
  f.join(first, "feed", herald::test::positioned_subscribe(1));
  const std::string epoch{boost::json::parse(payload_of(f.sink(first).received().at(0)))
                              .at("subscribe")
                              .at("epoch")
                              .as_string()};
  f.publish("feed", core::make_publication("1"));
  f.run();
  f.publish("feed", core::make_publication("2"));  // appended, its round waits
  f.run();
  // A client that saw offset 1 recovers "2" from the history, in its reply.
  const auto second = f.client("c2", "");
  f.join(second, "feed", herald::test::recovering_subscribe(5, 1, epoch));
  const auto reply = boost::json::parse(payload_of(f.sink(second).received().at(0)));
  const auto& missed = reply.at("subscribe").at("publications").as_array();
  REQUIRE(missed.size() == 1);
  CHECK(missed[0].at("data") == 2);
  f.publish("feed", core::make_publication("3"));
  f.sink(holder).held_rounds.clear();
  f.run();
  f.sink(holder).held_rounds.clear();
  f.run();
  // ... and the round, when it goes, brings it only "3".
  const auto pushes = f.messages(second);
  REQUIRE(pushes.size() == 2);
  CHECK(pushes[1].at("push").at("pub").at("data") == 3);
  // The first subscriber got all three, each once.
  std::vector<std::int64_t> data;
  for (const auto& message : f.messages(first)) {
    if (message.as_object().contains("push")) {
      data.push_back(message.at("push").at("pub").at("data").as_int64());
    }
  }
  CHECK(data == std::vector<std::int64_t>{1, 2, 3});
}
