// write_scheduler on a real io_context, run by the test thread: the order of
// what is handed over, one write per scheduled session per pass, and writes
// waiting while reads make progress, but not for ever.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "herald/actors/round_ticket.hpp"
#include "herald/core/frame.hpp"
#include "write_scheduler.hpp"

namespace {

using herald::core::frame_batch;
using herald::core::frame_batch_ptr;
using herald::net::scheduled_session;
using herald::net::write_scheduler;

// Records what the scheduler makes of it, in one shared log. Like a real
// session, what it receives asks for a write, once until it is written.
class fake_session : public scheduled_session, public std::enable_shared_from_this<fake_session> {
 public:
  fake_session(std::string name, std::vector<std::string>& log, write_scheduler& scheduler)
      : name_(std::move(name)), log_(log), scheduler_(scheduler) {}
  void receive(frame_batch_ptr batch) override {
    log_.push_back(name_ + " got " + batch->channel);
    request_write();
  }
  void write_pending() override {
    write_requested_ = false;
    log_.push_back(name_ + " wrote");
  }
  void request_write() {
    if (!write_requested_) {
      write_requested_ = true;
      scheduler_.schedule_write(shared_from_this());
    }
  }

 private:
  std::string name_;
  std::vector<std::string>& log_;
  write_scheduler& scheduler_;
  bool write_requested_ = false;
};

frame_batch_ptr batch_named(std::string name) {
  auto batch = std::make_shared<frame_batch>();
  batch->channel = std::move(name);
  return batch;
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
// read and queues itself again, `limit` times. Its first message produces
// output for `session`, as a publication does.
void keep_reading(boost::asio::io_context& context, write_scheduler& scheduler,
                  const std::shared_ptr<fake_session>& session, int& turns, int limit,
                  std::vector<std::string>& log) {
  if (turns == limit) {
    log.push_back("reads done");
    return;
  }
  ++turns;
  scheduler.note_read();
  if (turns == 1) {
    session->request_write();
  }
  boost::asio::post(context, [&context, &scheduler, session, &turns, limit, &log] {
    keep_reading(context, scheduler, session, turns, limit, log);
  });
}

}  // namespace

TEST_CASE("the scheduler is the current one only on its thread while bound") {
  boost::asio::io_context context{1};
  write_scheduler scheduler{context};
  CHECK(write_scheduler::current() == nullptr);
  {
    const write_scheduler::binding bound{scheduler};
    CHECK(write_scheduler::current() == &scheduler);
    write_scheduler* elsewhere = &scheduler;
    std::thread other([&] { elsewhere = write_scheduler::current(); });
    other.join();
    CHECK(elsewhere == nullptr);
  }
  CHECK(write_scheduler::current() == nullptr);
}

TEST_CASE("deliveries and tasks from another thread arrive in the order handed over") {
  scheduler_fixture f;
  auto a = f.session("a");
  auto b = f.session("b");
  std::thread actor([&] {
    f.scheduler.hand_over(a, batch_named("1"), nullptr);
    f.scheduler.hand_over([&] { f.log.push_back("task"); });
    f.scheduler.hand_over(b, batch_named("2"), nullptr);
    f.scheduler.hand_over(a, batch_named("3"), nullptr);
  });
  actor.join();
  f.context.poll();
  CHECK(f.log ==
        std::vector<std::string>{"a got 1", "task", "b got 2", "a got 3", "a wrote", "b wrote"});
}

TEST_CASE("a pass writes each scheduled session once, after the deliveries it took") {
  scheduler_fixture f;
  auto a = f.session("a");
  auto b = f.session("b");
  f.scheduler.hand_over(a, batch_named("1"), nullptr);
  f.scheduler.hand_over(a, batch_named("2"), nullptr);
  b->request_write();
  CHECK(f.log.empty());  // nothing happens before the thread runs the pass
  f.context.poll();
  // a asked once for both batches; b was waiting before the pass began.
  CHECK(f.log == std::vector<std::string>{"a got 1", "a got 2", "b wrote", "a wrote"});

  // A later request starts a new pass.
  b->request_write();
  f.context.restart();
  f.context.poll();
  CHECK(f.log.back() == "b wrote");
  CHECK(f.log.size() == 5);
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

TEST_CASE("a round is let go once the pass that took it has written it") {
  scheduler_fixture f;
  auto a = f.session("a");
  auto b = f.session("b");
  {
    auto round = std::make_shared<const herald::actors::round_ticket>(
        [&] { f.log.push_back("round done"); });
    f.scheduler.hand_over(a, batch_named("1"), round);
    f.scheduler.hand_over(b, batch_named("1"), round);
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
    auto round = std::make_shared<const herald::actors::round_ticket>(
        [&] { f.log.push_back("round done"); });
    f.scheduler.hand_over(a, batch_named("1"), round);
  }
  f.context.poll();
  CHECK(f.log == std::vector<std::string>{"a got 1", "reads done", "a wrote", "round done"});
}

TEST_CASE("what is handed over while a pass runs goes out in the next pass") {
  scheduler_fixture f;
  auto a = f.session("a");
  auto b = f.session("b");
  f.scheduler.hand_over(a, batch_named("1"), nullptr);
  // Runs inside the pass, as an actor on another thread may hand over then.
  f.scheduler.hand_over([&] { f.scheduler.hand_over(b, batch_named("2"), nullptr); });
  f.context.poll();
  CHECK(f.log == std::vector<std::string>{"a got 1", "a wrote", "b got 2", "b wrote"});
}

TEST_CASE("a scheduler destroyed with work in its inbox lets go of it") {
  std::vector<std::string> log;
  boost::asio::io_context context{1};
  {
    write_scheduler scheduler{context};
    auto a = std::make_shared<fake_session>("a", log, scheduler);
    scheduler.hand_over(
        a, batch_named("1"),
        std::make_shared<const herald::actors::round_ticket>([&] { log.push_back("round done"); }));
  }
  CHECK(log == std::vector<std::string>{"round done"});  // never received, never written
}
