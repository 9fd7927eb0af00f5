#include <catch2/catch.hpp>

#include "deterministic_system.hpp"
#include "frame_payload.hpp"
#include "herald/actors/broadcaster.hpp"
#include "herald/actors/connection_actor.hpp"
#include "herald/actors/hub.hpp"

#include <boost/json.hpp>

namespace actors = herald::actors;
namespace core = herald::core;
using herald::test::deterministic_system;
using herald::test::recording_sink;

namespace {

actors::broadcaster_actor spawn_broadcaster(deterministic_system& sys,
                                            core::channel_namespaces namespaces = {},
                                            unsigned max_rounds_in_flight = 1) {
  return sys.system.spawn(actors::broadcaster, std::make_shared<actors::broadcast_counters>(),
                          std::make_shared<const core::channel_namespaces>(std::move(namespaces)),
                          std::chrono::seconds{0}, max_rounds_in_flight);
}

// A /ws client's publication: its data, and the frame its session built
// (here the data itself, so that tests read plain text).
core::publication_ptr publication_of(std::string data) {
  auto frame = core::make_frame(data);
  return core::make_publication(std::move(data), std::move(frame));
}

actors::broadcaster_stats stats_of(deterministic_system& sys, const actors::broadcaster_actor& b) {
  actors::broadcaster_stats result;
  caf::scoped_actor self{sys.system};
  // Send first, let the deterministic scheduler run the broadcaster, then
  // collect the reply: blocking before run() would wait forever.
  auto pending = self->request(b, caf::infinite, actors::stats_atom::value);
  sys.run();
  pending.receive([&](const actors::broadcaster_stats& s) { result = s; },
                  [&](const caf::error& err) { FAIL(sys.system.render(err)); });
  return result;
}

// What hub::connect does: spawn, then subscribe from the caller.
actors::connection_actor spawn_subscribed(deterministic_system& sys,
                                          const actors::broadcaster_actor& broadcaster,
                                          std::weak_ptr<actors::session_sink> sink,
                                          const std::string& channel) {
  auto conn = sys.system.spawn(actors::connection, broadcaster, std::move(sink));
  caf::anon_send(broadcaster, actors::subscribe_atom::value, channel, conn);
  return conn;
}

}  // namespace

TEST_CASE("a connection actor joins its channel and receives publications") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  auto sink = std::make_shared<recording_sink>();
  auto conn = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{sink},
                               std::string{"news"});
  sys.run();
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"news"},
                 publication_of("hello"));
  sys.run();
  CHECK(sink->received() == std::vector<std::string>{"hello"});
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"other"},
                 publication_of("not for you"));
  sys.run();
  CHECK(sink->received().size() == 1);
  caf::anon_send_exit(conn, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("a publication fans out to N subscribers as one shared frame") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  constexpr int subscriber_count = 50;
  std::vector<std::shared_ptr<recording_sink>> sinks;
  std::vector<actors::connection_actor> conns;
  for (int i = 0; i < subscriber_count; ++i) {
    sinks.push_back(std::make_shared<recording_sink>());
    conns.push_back(spawn_subscribed(sys, broadcaster,
                                     std::weak_ptr<actors::session_sink>{sinks.back()},
                                     std::string{"broadcast"}));
  }
  sys.run();
  auto frame = core::make_frame(R"({"message":"x"})");
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"broadcast"},
                 core::make_publication(R"({"message":"x"})", frame));
  sys.run();
  for (auto& sink : sinks) {
    REQUIRE(sink->pointers.size() == 1);
    // Zero copies: every subscriber got the very same bytes.
    CHECK(sink->pointers.front().get() == frame.get());
  }
  auto stats = stats_of(sys, broadcaster);
  CHECK(stats.publications == 1);
  CHECK(stats.deliveries == subscriber_count);
  CHECK(stats.subscribers == subscriber_count);
  CHECK(stats.channels == 1);
  for (auto& conn : conns) {
    caf::anon_send_exit(conn, caf::exit_reason::user_shutdown);
  }
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("a client's publications go through its connection actor in order") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  auto publisher_sink = std::make_shared<recording_sink>();
  auto reader_sink = std::make_shared<recording_sink>();
  auto reader = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{reader_sink},
                                 std::string{"c"});
  sys.run();
  auto publisher = spawn_subscribed(
      sys, broadcaster, std::weak_ptr<actors::session_sink>{publisher_sink}, std::string{"c"});
  // No run() before publishing: the publisher's subscription was queued at
  // the broadcaster first, so it sees its own first message.
  for (int i = 0; i < 20; ++i) {
    caf::anon_send(publisher, actors::publish_atom::value, std::string{"c"},
                   publication_of(std::to_string(i)));
  }
  sys.run();
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    expected.push_back(std::to_string(i));
  }
  CHECK(publisher_sink->received() == expected);
  CHECK(reader_sink->received() == expected);
  caf::anon_send_exit(publisher, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(reader, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("the broadcaster forgets a connection on its down message") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  auto staying = std::make_shared<recording_sink>();
  auto leaving = std::make_shared<recording_sink>();
  auto stay = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{staying},
                               std::string{"c"});
  auto leave = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{leaving},
                                std::string{"c"});
  sys.run();
  CHECK(stats_of(sys, broadcaster).subscribers == 2);
  // A crash-like exit, not a polite unsubscribe: only the monitor sees it.
  caf::anon_send_exit(leave, caf::exit_reason::kill);
  sys.run();
  auto stats = stats_of(sys, broadcaster);
  CHECK(stats.subscribers == 1);
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"c"},
                 publication_of("after"));
  sys.run();
  CHECK(staying->received() == std::vector<std::string>{"after"});
  CHECK(leaving->received().empty());
  CHECK(stats_of(sys, broadcaster).deliveries == 1);
  caf::anon_send_exit(stay, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("unsubscribe (leave) stops deliveries and drops empty channels") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  auto sink = std::make_shared<recording_sink>();
  auto conn = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{sink},
                               std::string{"a"});
  sys.run();
  caf::anon_send(broadcaster, actors::subscribe_atom::value, std::string{"b"}, conn);
  sys.run();
  CHECK(stats_of(sys, broadcaster).channels == 2);
  caf::anon_send(broadcaster, actors::unsubscribe_atom::value, std::string{"a"}, conn);
  sys.run();
  CHECK(stats_of(sys, broadcaster).channels == 1);
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"a"},
                 publication_of("to a"));
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"b"},
                 publication_of("to b"));
  sys.run();
  CHECK(sink->received() == std::vector<std::string>{"to b"});
  caf::anon_send_exit(conn, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("a connection whose session is gone drops deliveries") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  auto sink = std::make_shared<recording_sink>();
  auto conn = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{sink},
                               std::string{"c"});
  sys.run();
  sink.reset();  // the session was freed by its I/O handlers
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"c"},
                 publication_of("lost"));
  CHECK(sys.run() > 0);  // delivered to the actor, dropped without a crash
  caf::anon_send_exit(conn, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("a hub's connection handle closes its actor when dropped") {
  deterministic_system sys;
  actors::hub hub{sys.system, core::channel_namespaces{}};
  auto sink = std::make_shared<recording_sink>();
  {
    auto handle = hub.connect(sink, "c");
    sys.run();
    handle.publish("c", publication_of("self"));
    sys.run();
    CHECK(sink->received() == std::vector<std::string>{"self"});
  }
  CHECK(sys.run() > 0);  // the close message and the down message
  hub.stop();
  sys.run();
}

TEST_CASE("closing the broadcaster ends every connection actor with it") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  std::vector<std::shared_ptr<recording_sink>> sinks;
  for (int i = 0; i < 3; ++i) {
    sinks.push_back(std::make_shared<recording_sink>());
    spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{sinks.back()},
                     "c" + std::to_string(i % 2));
  }
  sys.run();
  CHECK(sys.system.registry().running() == 4);
  // At shutdown the sessions cannot close their actors any more.
  caf::anon_send(broadcaster, actors::close_atom::value);
  sys.run();
  CHECK(sys.system.registry().running() == 0);
}

TEST_CASE("publications that arrive in one round reach each subscriber as one shared batch") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  std::vector<std::shared_ptr<recording_sink>> sinks;
  std::vector<actors::connection_actor> conns;
  for (int i = 0; i < 3; ++i) {
    sinks.push_back(std::make_shared<recording_sink>());
    conns.push_back(spawn_subscribed(
        sys, broadcaster, std::weak_ptr<actors::session_sink>{sinks.back()}, std::string{"c"}));
  }
  sys.run();
  // All five are in the mailbox before the broadcaster runs: the flush it
  // schedules on the first lands behind the fifth.
  for (int i = 0; i < 5; ++i) {
    caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"c"},
                   publication_of(std::to_string(i)));
  }
  sys.run();
  const std::vector<std::string> expected{"0", "1", "2", "3", "4"};
  for (auto& sink : sinks) {
    REQUIRE(sink->batches.size() == 1);
    CHECK(sink->received() == expected);
    CHECK(sink->batches.front().get() == sinks.front()->batches.front().get());
    CHECK(sink->batches.front()->bytes == 5);
  }
  // A later round is a new batch.
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"c"}, publication_of("5"));
  sys.run();
  CHECK(sinks.front()->batches.size() == 2);
  auto stats = stats_of(sys, broadcaster);
  CHECK(stats.publications == 6);
  CHECK(stats.deliveries == 18);
  for (auto& conn : conns) {
    caf::anon_send_exit(conn, caf::exit_reason::user_shutdown);
  }
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("a round's channels are batched separately and only to their subscribers") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  auto only_a = std::make_shared<recording_sink>();
  auto only_b = std::make_shared<recording_sink>();
  auto a = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{only_a},
                            std::string{"a"});
  auto b = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{only_b},
                            std::string{"b"});
  sys.run();
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"a"}, publication_of("a1"));
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"b"}, publication_of("b1"));
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"a"}, publication_of("a2"));
  sys.run();
  CHECK(only_a->received() == std::vector<std::string>{"a1", "a2"});
  CHECK(only_a->batches.size() == 1);
  CHECK(only_b->received() == std::vector<std::string>{"b1"});
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("a subscriber joining mid-round gets only what arrives after it joined") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  auto early = std::make_shared<recording_sink>();
  auto late = std::make_shared<recording_sink>();
  auto first = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{early},
                                std::string{"c"});
  sys.run();
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"c"},
                 publication_of("before"));
  auto second = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{late},
                                 std::string{"c"});
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"c"},
                 publication_of("after"));
  sys.run();
  CHECK(early->received() == std::vector<std::string>{"before", "after"});
  CHECK(late->received() == std::vector<std::string>{"after"});
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("a client-protocol subscriber gets its reply, then a round's pushes in one frame") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  auto sink = std::make_shared<recording_sink>();
  auto conn =
      sys.system.spawn(actors::connection, broadcaster, std::weak_ptr<actors::session_sink>{sink});
  caf::anon_send(conn, actors::join_atom::value, std::string{"news"},
                 herald::test::join_request_for(7));
  sys.run();
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"news"},
                 core::make_publication(R"({"a":1})"));
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"news"},
                 core::make_publication(R"("b")"));
  sys.run();
  const auto frames = sink->received();
  REQUIRE(frames.size() == 2);
  CHECK(herald::test::payload_of(frames[0]) == R"({"id":7,"subscribe":{}})");
  CHECK(herald::test::payload_of(frames[1]) ==
        "{\"push\":{\"channel\":\"news\",\"pub\":{\"data\":{\"a\":1}}}}\n"
        "{\"push\":{\"channel\":\"news\",\"pub\":{\"data\":\"b\"}}}");
  // unsubscribe through the actor: nothing more arrives.
  caf::anon_send(conn, actors::unsubscribe_atom::value, std::string{"news"});
  sys.run();
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"news"},
                 core::make_publication("1"));
  sys.run();
  CHECK(sink->received().size() == 2);
  caf::anon_send_exit(conn, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("one channel serves both protocols, each in its own form") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  auto seed_sink = std::make_shared<recording_sink>();
  auto client_sink = std::make_shared<recording_sink>();
  auto seed = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{seed_sink},
                               std::string{"broadcast"});
  auto client = sys.system.spawn(actors::connection, broadcaster,
                                 std::weak_ptr<actors::session_sink>{client_sink});
  caf::anon_send(client, actors::join_atom::value, std::string{"broadcast"},
                 herald::test::join_request_for(2));
  sys.run();
  // From an API or client-protocol publisher: no /ws frame yet, the
  // broadcaster frames the data for /ws itself.
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"broadcast"},
                 core::make_publication(R"({"message":"x"})"));
  sys.run();
  REQUIRE(seed_sink->received().size() == 1);
  CHECK(herald::test::payload_of(seed_sink->received()[0]) == R"({"message":"x"})");
  REQUIRE(client_sink->received().size() == 2);
  CHECK(herald::test::payload_of(client_sink->received()[1]) ==
        R"({"push":{"channel":"broadcast","pub":{"data":{"message":"x"}}}})");
  CHECK(stats_of(sys, broadcaster).deliveries == 2);
  caf::anon_send_exit(seed, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("a recovering subscriber gets exactly the publications it missed") {
  deterministic_system sys;
  core::channel_options with_history;
  with_history.history_size = 100;
  with_history.history_ttl = std::chrono::seconds{60};
  with_history.allow_recovery = true;
  auto broadcaster = spawn_broadcaster(sys, core::channel_namespaces{with_history});
  auto first_sink = std::make_shared<recording_sink>();
  auto first = sys.system.spawn(actors::connection, broadcaster,
                                std::weak_ptr<actors::session_sink>{first_sink});
  caf::anon_send(first, actors::join_atom::value, std::string{"feed"},
                 herald::test::join_request_for(1, true));
  sys.run();
  REQUIRE(first_sink->received().size() == 1);
  const auto joined = boost::json::parse(herald::test::payload_of(first_sink->received()[0]));
  const auto& reply = joined.at("subscribe").as_object();
  CHECK(reply.at("recoverable").as_bool());
  const std::string epoch{reply.at("epoch").as_string()};
  CHECK_FALSE(epoch.empty());
  CHECK_FALSE(reply.contains("offset"));  // nothing published yet
  for (int i = 1; i <= 5; ++i) {
    caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"feed"},
                   core::make_publication(std::to_string(i)));
  }
  sys.run();
  // The pushes carry their offsets.
  REQUIRE(first_sink->received().size() == 2);
  CHECK(first_sink->received()[1].find(R"("pub":{"data":5,"offset":5})") != std::string::npos);

  // A client that saw offset 2 of this stream.
  auto second_sink = std::make_shared<recording_sink>();
  auto second = sys.system.spawn(actors::connection, broadcaster,
                                 std::weak_ptr<actors::session_sink>{second_sink});
  caf::anon_send(second, actors::join_atom::value, std::string{"feed"},
                 herald::test::recovering_join(7, 2, epoch));
  sys.run();
  REQUIRE(second_sink->received().size() == 1);
  const auto recovered = boost::json::parse(herald::test::payload_of(second_sink->received()[0]));
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
  auto third_sink = std::make_shared<recording_sink>();
  auto third = sys.system.spawn(actors::connection, broadcaster,
                                std::weak_ptr<actors::session_sink>{third_sink});
  caf::anon_send(third, actors::join_atom::value, std::string{"feed"},
                 herald::test::recovering_join(8, 2, "another-epoch"));
  sys.run();
  const auto refused = boost::json::parse(herald::test::payload_of(third_sink->received().at(0)));
  const auto& lost = refused.at("subscribe").as_object();
  CHECK_FALSE(lost.contains("recovered"));
  CHECK(lost.at("was_recovering").as_bool());
  CHECK_FALSE(lost.contains("publications"));
  CHECK(lost.at("offset").as_int64() == 5);
  for (auto* conn : {&first, &second, &third}) {
    caf::anon_send_exit(*conn, caf::exit_reason::user_shutdown);
  }
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("publications that arrive while a round is being written go out as the next round") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  auto sink = std::make_shared<recording_sink>();
  sink->hold_rounds = true;
  auto conn = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{sink},
                               std::string{"news"});
  sys.run();
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"news"},
                 publication_of("1"));
  sys.run();
  REQUIRE(sink->batches.size() == 1);  // nothing in flight: sent at once

  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"news"},
                 publication_of("2"));
  sys.run();
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"news"},
                 publication_of("3"));
  sys.run();
  CHECK(sink->batches.size() == 1);  // round 1 is still being written

  sink->held_rounds.clear();  // written: the ticket's last reference goes
  sys.run();
  REQUIRE(sink->batches.size() == 2);
  CHECK(sink->batches.back()->frames.size() == 2);
  CHECK(sink->received() == std::vector<std::string>{"1", "2", "3"});

  sink->held_rounds.clear();
  caf::anon_send_exit(conn, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("a subscribe sends what is pending even while a round is in flight") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  auto early = std::make_shared<recording_sink>();
  early->hold_rounds = true;
  auto first = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{early},
                                std::string{"news"});
  sys.run();
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"news"},
                 publication_of("1"));
  sys.run();
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"news"},
                 publication_of("2"));
  sys.run();
  CHECK(early->received() == std::vector<std::string>{"1"});

  // "2" was published before the newcomer joined: the early subscriber gets
  // it now, the newcomer never.
  auto late = std::make_shared<recording_sink>();
  auto second = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{late},
                                 std::string{"news"});
  sys.run();
  CHECK(early->received() == std::vector<std::string>{"1", "2"});
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"news"},
                 publication_of("3"));
  sys.run();
  early->held_rounds.clear();
  sys.run();
  CHECK(early->received() == std::vector<std::string>{"1", "2", "3"});
  CHECK(late->received() == std::vector<std::string>{"3"});

  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("with a limit of two rounds in flight, the third waits for the first") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys, {}, 2);
  auto sink = std::make_shared<recording_sink>();
  sink->hold_rounds = true;
  auto conn = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{sink},
                               std::string{"news"});
  sys.run();
  for (const char* data : {"1", "2", "3", "4"}) {
    caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"news"},
                   publication_of(data));
    sys.run();
  }
  CHECK(sink->batches.size() == 2);                    // "1" and "2", one round each
  sink->held_rounds.erase(sink->held_rounds.begin());  // the first round is written
  sys.run();
  REQUIRE(sink->batches.size() == 3);
  CHECK(sink->batches.back()->frames.size() == 2);  // "3" and "4" together
  CHECK(sink->received() == std::vector<std::string>{"1", "2", "3", "4"});

  sink->held_rounds.clear();
  caf::anon_send_exit(conn, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}

TEST_CASE("rounds whose deliveries reach no live session do not hold the next") {
  deterministic_system sys;
  auto broadcaster = spawn_broadcaster(sys);
  auto gone = std::make_shared<recording_sink>();
  auto conn = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{gone},
                               std::string{"news"});
  sys.run();
  gone.reset();  // the session closed; its actor has not yet
  for (const char* data : {"1", "2", "3"}) {
    caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"news"},
                   publication_of(data));
    caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"empty"},
                   publication_of(data));
    sys.run();
  }
  // Each round's ticket went with its dropped deliveries: a new subscriber
  // gets the next publication at once.
  auto sink = std::make_shared<recording_sink>();
  auto live = spawn_subscribed(sys, broadcaster, std::weak_ptr<actors::session_sink>{sink},
                               std::string{"news"});
  sys.run();
  caf::anon_send(broadcaster, actors::publish_atom::value, std::string{"news"},
                 publication_of("4"));
  sys.run();
  CHECK(sink->received() == std::vector<std::string>{"4"});
  CHECK(stats_of(sys, broadcaster).publications == 7);

  caf::anon_send_exit(conn, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(live, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
  sys.run();
}
