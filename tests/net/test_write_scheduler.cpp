// write_scheduler on a real io_context, run by the test thread: the order of
// what is handed over, one write per scheduled session per pass, and writes
// waiting while reads make progress, but not for ever.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "herald/actors/delivery.hpp"
#include "herald/actors/round_ticket.hpp"
#include "herald/core/frame.hpp"
#include "write_scheduler.hpp"

namespace {

using herald::actors::channel_pushes;
using herald::actors::delivery;
using herald::actors::round_ticket;
using herald::actors::round_ticket_ptr;
using herald::actors::server_unsubscribe;
using herald::core::frame_batch;
using herald::net::scheduled_session;
using herald::net::scheduled_sink;
using herald::net::write_scheduler;

// Records what the scheduler makes of it, in one shared log. Like a real
// session, a delivery asks for a write (as often as it likes: the
// scheduler writes it once per pass).
class fake_session : public scheduled_sink, public std::enable_shared_from_this<fake_session> {
 public:
  fake_session(std::string name, std::vector<std::string>& log, write_scheduler& scheduler)
      : scheduled_sink(scheduler), name_(std::move(name)), log_(log) {}
  void receive(delivery&& item) override {
    uses_when_received_.push_back(weak_from_this().use_count());
    if (auto* pushes = std::get_if<channel_pushes>(&item)) {
      log_.push_back(name_ + " got " + pushes->frames->channel);
      if (relay_) {
        relay_();  // as an actor on another thread may hand over meanwhile
      }
    } else if (auto* unsubscribe = std::get_if<server_unsubscribe>(&item)) {
      log_.push_back(name_ + " unsubscribed from " + unsubscribe->channel);
    }
    request_write();
  }
  void write_pending() override {
    log_.push_back(name_ + " wrote");
    prefetches_when_written_ = prefetches_;
  }
  // Kept apart from the log: prefetching is a hint, not something the
  // other tests' order depends on.
  void prefetch_for_write(int step) noexcept override { prefetches_.push_back(step); }
  const std::vector<int>& prefetches_when_written() const { return prefetches_when_written_; }
  const std::vector<int>& prefetches() const { return prefetches_; }
  void request_write() { scheduler_.schedule_write(*this); }
  herald::net::session_ref scheduled_self() override {
    ++references_taken_;
    return shared_from_this();
  }
  int references_taken() const { return references_taken_; }
  // How many references to it there were as it received each delivery.
  const std::vector<long>& uses_when_received() const { return uses_when_received_; }
  void relay_on_receive(std::function<void()> relay) { relay_ = std::move(relay); }

 private:
  std::string name_;
  std::vector<std::string>& log_;
  std::function<void()> relay_;
  std::vector<int> prefetches_;
  std::vector<int> prefetches_when_written_;
  int references_taken_ = 0;
  std::vector<long> uses_when_received_;
};

// Pushes of channel `name` (the name is all the fake session looks at).
delivery pushes_named(std::string name, round_ticket_ptr round = nullptr) {
  auto batch = std::make_shared<frame_batch>();
  batch->channel = std::move(name);
  return channel_pushes{std::move(batch), std::move(round)};
}

// Bounded by turns only: a preempted test thread must not see the time
// bound.
constexpr herald::net::write_deferral_limit turns_only{64, std::chrono::hours{1}};

struct scheduler_fixture {
  std::vector<std::string> log;  // first: tickets the scheduler holds may log as it goes
  boost::asio::io_context context{1};
  write_scheduler scheduler{context, turns_only};
  write_scheduler::binding bound{scheduler};

  std::shared_ptr<fake_session> session(std::string name) {
    return std::make_shared<fake_session>(std::move(name), log, scheduler);
  }
};

// A connection whose messages are already buffered: a handler that notes a
// read and queues itself again, `limit` times, each turn taking `work`. Its
// first message produces output for `session`, as a publication does.
void keep_reading(boost::asio::io_context& context, write_scheduler& scheduler,
                  const std::shared_ptr<fake_session>& session, int& turns, int limit,
                  std::vector<std::string>& log,
                  std::chrono::microseconds work = std::chrono::microseconds{0}) {
  if (turns == limit) {
    log.push_back("reads done");
    return;
  }
  ++turns;
  scheduler.note_read();
  if (turns == 1) {
    session->request_write();
  }
  const auto until = std::chrono::steady_clock::now() + work;
  while (std::chrono::steady_clock::now() < until) {
  }
  boost::asio::post(context, [&context, &scheduler, session, &turns, limit, &log, work] {
    keep_reading(context, scheduler, session, turns, limit, log, work);
  });
}

}  // namespace

TEST_CASE("sessions find their thread's scheduler while it is bound") {
  boost::asio::io_context context{1};
  write_scheduler scheduler{context};
  const write_scheduler::binding bound{scheduler};
  CHECK(&write_scheduler::of_this_thread() == &scheduler);
}

TEST_CASE("deliveries from another thread arrive in the order handed over, each as its kind") {
  scheduler_fixture f;
  auto a = f.session("a");
  auto b = f.session("b");
  std::thread actor([&] {
    f.scheduler.hand_over(a, pushes_named("1"));
    f.scheduler.hand_over(a, server_unsubscribe{"1", 7});
    f.scheduler.hand_over(b, pushes_named("2"));
    f.scheduler.hand_over(a, pushes_named("3"));
  });
  actor.join();
  f.context.poll();
  CHECK(f.log == std::vector<std::string>{"a got 1", "a unsubscribed from 1", "b got 2", "a got 3",
                                          "a wrote", "b wrote"});
}

TEST_CASE("a pass writes each scheduled session once, after the deliveries it took") {
  scheduler_fixture f;
  auto a = f.session("a");
  auto b = f.session("b");
  f.scheduler.hand_over(a, pushes_named("1"));
  f.scheduler.hand_over(a, pushes_named("2"));
  b->request_write();
  b->request_write();    // the scheduler, not the session, keeps it to once
  CHECK(f.log.empty());  // nothing happens before the thread runs the pass
  f.context.poll();
  // a asked for each batch and is written once; b was waiting before the
  // pass began.
  CHECK(f.log == std::vector<std::string>{"a got 1", "a got 2", "b wrote", "a wrote"});

  // A later request starts a new pass.
  b->request_write();
  f.context.restart();
  f.context.poll();
  CHECK(f.log.back() == "b wrote");
  CHECK(f.log.size() == 5);
}

TEST_CASE("a session written for a delivery is held by the reference it was handed over with") {
  scheduler_fixture f;
  auto a = f.session("a");
  auto b = f.session("b");
  // While a takes its delivery it also asks for b's write, which was
  // handed over nothing: b's reference must come from b.
  a->relay_on_receive([&] { b->request_write(); });
  f.scheduler.hand_over(a, pushes_named("1"));
  f.scheduler.hand_over(a, pushes_named("2"));  // already scheduled: its reference is dropped
  f.context.poll();
  CHECK(f.log == std::vector<std::string>{"a got 1", "a got 2", "b wrote", "a wrote"});
  // The test's and each delivery's. Taking the first moved its reference
  // into the write list: still three at the second, not four.
  CHECK(a->uses_when_received() == std::vector<long>{3, 3});
  CHECK(a->references_taken() == 0);
  CHECK(b->references_taken() == 1);
  CHECK(a.use_count() == 1);  // the pass let go of both
  CHECK(b.use_count() == 1);
}

// The sessions as the broadcaster hands a round's pushes to a route.
std::vector<std::shared_ptr<herald::actors::session_sink>> group_of(
    std::initializer_list<std::shared_ptr<fake_session>> sessions) {
  return {sessions.begin(), sessions.end()};
}

TEST_CASE("pushes handed to many sessions arrive as each one's own, in order, between the rest") {
  scheduler_fixture f;
  auto a = f.session("a");
  auto b = f.session("b");
  auto c = f.session("c");
  f.scheduler.hand_over(b, server_unsubscribe{"0", 1});
  const delivery pushes = pushes_named("1");
  f.scheduler.hand_pushes(std::get<channel_pushes>(pushes), group_of({a, b, c}));
  f.scheduler.hand_over(a, pushes_named("2"));
  f.scheduler.hand_pushes(std::get<channel_pushes>(pushes), group_of({}));  // nothing to do
  f.context.poll();
  CHECK(f.log == std::vector<std::string>{"b unsubscribed from 0", "a got 1", "b got 1", "c got 1",
                                          "a got 2", "b wrote", "a wrote", "c wrote"});
  // Each was written for the reference it was handed over with, moved
  // along, never copied: when it received, the test's, the group's or
  // delivery's being taken, and one for each delivery still waiting (or,
  // after its first, the write list's) were all there were.
  CHECK(a->uses_when_received() == std::vector<long>{3, 3});
  CHECK(b->uses_when_received() == std::vector<long>{3, 3});
  CHECK(c->uses_when_received() == std::vector<long>{2});
  for (const auto* session : {&a, &b, &c}) {
    CHECK((*session)->references_taken() == 0);
    CHECK(session->use_count() == 1);
  }
}

TEST_CASE("a round handed to many sessions is let go once they are written") {
  scheduler_fixture f;
  auto a = f.session("a");
  auto b = f.session("b");
  {
    auto round = std::make_shared<const round_ticket>([&] { f.log.push_back("round done"); });
    const delivery pushes = pushes_named("1", round);
    f.scheduler.hand_pushes(std::get<channel_pushes>(pushes), group_of({a, b}));
    // The broadcaster's own reference goes with the delivery it built.
  }
  f.context.poll();
  CHECK(f.log ==
        std::vector<std::string>{"a got 1", "b got 1", "a wrote", "b wrote", "round done"});
}

TEST_CASE("with nothing read, a pass writes at its first turn") {
  scheduler_fixture f;
  auto a = f.session("a");
  a->request_write();
  CHECK(f.context.run_one() == 1);
  CHECK(f.log == std::vector<std::string>{"a wrote"});
}

TEST_CASE("writes wait while reads make progress, then go out together") {
  scheduler_fixture f;
  auto a = f.session("a");
  int turns = 0;
  boost::asio::post(f.context, [&] { keep_reading(f.context, f.scheduler, a, turns, 10, f.log); });
  f.context.poll();
  CHECK(turns == 10);
  CHECK(f.log == std::vector<std::string>{"reads done", "a wrote"});
}

TEST_CASE("with one I/O thread, writes do not wait for reads") {
  // One round in flight at a time: the pass holding it is what the next
  // round waits for.
  boost::asio::io_context context{1};
  write_scheduler scheduler{context, herald::net::write_deferral_limit::for_workers(1)};
  const write_scheduler::binding bound{scheduler};
  std::vector<std::string> log;
  auto a = std::make_shared<fake_session>("a", log, scheduler);
  int turns = 0;
  boost::asio::post(context, [&] { keep_reading(context, scheduler, a, turns, 10, log); });
  context.poll();
  CHECK(turns == 10);
  CHECK(log == std::vector<std::string>{"a wrote", "reads done"});
  CHECK(herald::net::write_deferral_limit::for_workers(2).turns > 0);
}

TEST_CASE("reads that never stop hold writes back for a bounded number of turns") {
  scheduler_fixture f;
  auto a = f.session("a");
  int turns = 0;
  boost::asio::post(f.context,
                    [&] { keep_reading(f.context, f.scheduler, a, turns, 100000, f.log); });
  while (f.log.empty()) {
    REQUIRE(f.context.run_one() == 1);
  }
  CHECK(f.log == std::vector<std::string>{"a wrote"});
  CHECK(turns == 65);  // the read that produced it, then one per deferral
}

TEST_CASE("reads that never stop hold writes back no longer than the time bound") {
  std::vector<std::string> log;
  boost::asio::io_context context{1};
  // Turns enough for seconds of reads; 2 ms of them at most.
  write_scheduler scheduler{context,
                            herald::net::write_deferral_limit{10000, std::chrono::milliseconds{2}}};
  const write_scheduler::binding bound{scheduler};
  auto a = std::make_shared<fake_session>("a", log, scheduler);
  int turns = 0;
  boost::asio::post(context, [&] {
    keep_reading(context, scheduler, a, turns, 20000, log, std::chrono::microseconds{50});
  });
  while (log.empty()) {
    REQUIRE(context.run_one() == 1);
  }
  CHECK(log == std::vector<std::string>{"a wrote"});
  // 50 us a turn: about 40 turns fill 2 ms. A loaded machine makes each
  // turn longer, never shorter, so the count only drops; the turn bound
  // alone would have allowed 10000.
  CHECK(turns < 1000);
}

TEST_CASE("a round is let go once the pass that took it has written it") {
  scheduler_fixture f;
  auto a = f.session("a");
  auto b = f.session("b");
  {
    auto round = std::make_shared<const round_ticket>([&] { f.log.push_back("round done"); });
    f.scheduler.hand_over(a, pushes_named("1", round));
    f.scheduler.hand_over(b, pushes_named("1", round));
  }
  f.context.poll();
  CHECK(f.log ==
        std::vector<std::string>{"a got 1", "b got 1", "a wrote", "b wrote", "round done"});
}

TEST_CASE("a round waits with the writes while reads make progress") {
  scheduler_fixture f;
  auto a = f.session("a");
  int turns = 0;
  // The reader is queued first, as a publisher's message is read before its
  // round comes back.
  boost::asio::post(f.context, [&] { keep_reading(f.context, f.scheduler, a, turns, 5, f.log); });
  {
    auto round = std::make_shared<const round_ticket>([&] { f.log.push_back("round done"); });
    f.scheduler.hand_over(a, pushes_named("1", round));
  }
  f.context.poll();
  CHECK(f.log == std::vector<std::string>{"a got 1", "reads done", "a wrote", "round done"});
}

TEST_CASE("what is handed over while a pass runs goes out in the next pass") {
  scheduler_fixture f;
  auto a = f.session("a");
  auto b = f.session("b");
  a->relay_on_receive([&] { f.scheduler.hand_over(b, pushes_named("2")); });
  f.scheduler.hand_over(a, pushes_named("1"));
  f.context.poll();
  CHECK(f.log == std::vector<std::string>{"a got 1", "a wrote", "b got 2", "b wrote"});
}

TEST_CASE("a scheduler destroyed with work in its inbox lets go of it") {
  std::vector<std::string> log;
  boost::asio::io_context context{1};
  {
    write_scheduler scheduler{context};
    auto a = std::make_shared<fake_session>("a", log, scheduler);
    scheduler.hand_over(a, pushes_named("1", std::make_shared<const round_ticket>(
                                                 [&] { log.push_back("round done"); })));
  }
  CHECK(log == std::vector<std::string>{"round done"});  // never received, never written
}

TEST_CASE("a pass prefetches each session's chain in order, ahead of its write") {
  // Step k for the session 3 - k places ahead: every session from the
  // fourth on gets steps 0, 1, 2 before it is written; the first three get
  // the steps that fall after the pass began; none is prefetched after its
  // write or twice.
  scheduler_fixture f;
  std::vector<std::shared_ptr<fake_session>> sessions;
  for (int i = 0; i < 6; ++i) {
    sessions.push_back(f.session("s" + std::to_string(i)));
    sessions.back()->request_write();
  }
  f.context.run();
  REQUIRE(f.log == std::vector<std::string>{"s0 wrote", "s1 wrote", "s2 wrote", "s3 wrote",
                                            "s4 wrote", "s5 wrote"});
  CHECK(sessions[0]->prefetches().empty());
  CHECK(sessions[1]->prefetches() == std::vector<int>{2});
  CHECK(sessions[2]->prefetches() == std::vector<int>{1, 2});
  for (std::size_t i = 3; i < sessions.size(); ++i) {
    CHECK(sessions[i]->prefetches() == std::vector<int>{0, 1, 2});
  }
  for (const auto& session : sessions) {
    CHECK(session->prefetches_when_written() == session->prefetches());
  }
}
