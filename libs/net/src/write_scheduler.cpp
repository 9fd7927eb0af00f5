#include "write_scheduler.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include <boost/asio/post.hpp>

namespace herald::net {

namespace {

thread_local write_scheduler* this_thread_scheduler = nullptr;

// What every session_ref a scheduler holds is (hand_over, hand_pushes): a
// fixed offset, no load.
scheduled_session& scheduled(actors::session_sink& session) {
  return static_cast<scheduled_sink&>(session);
}

}  // namespace

write_scheduler& write_scheduler::of_this_thread() noexcept {
  if (this_thread_scheduler == nullptr) {
    std::fputs("herald: a session was made off the server's I/O threads\n", stderr);
    std::abort();
  }
  return *this_thread_scheduler;
}

write_scheduler::binding::binding(write_scheduler& scheduler) noexcept {
  this_thread_scheduler = &scheduler;
}

write_scheduler::binding::~binding() {
  this_thread_scheduler = nullptr;
}

bool write_scheduler::on_this_thread() const noexcept {
  return this_thread_scheduler == this;
}

void write_scheduler::hand_over(session_ref session, actors::delivery item) {
  assert(session->route() == this && "a session handed to another thread's scheduler");
  const std::lock_guard lock(mutex_);
  inbox_.push_back({std::move(session), std::move(item), {}});
  ensure_pass_locked();
}

void write_scheduler::hand_pushes(const actors::channel_pushes& pushes,
                                  std::vector<std::shared_ptr<actors::session_sink>>&& sessions) {
  if (sessions.empty()) {
    return;
  }
  assert(std::all_of(sessions.begin(), sessions.end(),
                     [this](const session_ref& session) { return session->route() == this; }) &&
         "a session handed to another thread's scheduler");
  const std::lock_guard lock(mutex_);
  inbox_.push_back({nullptr, pushes, std::move(sessions)});
  ensure_pass_locked();
}

void scheduled_sink::deliver(actors::delivery&& item,
                             std::shared_ptr<actors::session_sink>&& holder) {
  assert(holder.get() == this && "a session was handed another's delivery");
  scheduler_.hand_over(std::move(holder), std::move(item));  // the caller's reference, moved
}

void write_scheduler::schedule_write(scheduled_session& session) {
  // The flag and the lists below belong to this thread alone.
  assert(on_this_thread() && "schedule_write called off the session's I/O thread");
  if (session.write_scheduled_) {
    return;  // the next pass writes it anyway
  }
  session.write_scheduled_ = true;
  // The session whose delivery is being taken: the scheduler's reference
  // to it, moved instead of taking another.
  if (taking_ != nullptr && &scheduled(**taking_) == &session) {
    to_write_.push_back(std::move(*taking_));
  } else {
    to_write_.push_back(session.scheduled_self());
  }
  if (in_pass_) {
    return;  // the running pass writes it, or queues itself again
  }
  const std::lock_guard lock(mutex_);
  ensure_pass_locked();
}

void write_scheduler::ensure_pass_locked() {
  if (pass_posted_) {
    return;
  }
  boost::asio::post(context_, [this] { run_pass(); });
  pass_posted_ = true;  // only once it is posted: a throwing post leaves it clear
}

void write_scheduler::take_handed_over() {
  {
    const std::lock_guard lock(mutex_);
    taken_.swap(inbox_);
  }
  for (auto& entry : taken_) {
    actors::round_ticket_ptr round;
    if (auto* pushes = std::get_if<actors::channel_pushes>(&entry.item)) {
      round = std::move(pushes->round);
    }
    if (entry.session) {
      receive_taking(entry.session, std::move(entry.item));
    } else {
      take_group(entry);
    }
    // A round's deliveries to this thread's sessions arrive together, so
    // comparing with the last one held keeps one reference per round.
    if (round && (rounds_.empty() || rounds_.back() != round)) {
      rounds_.push_back(std::move(round));
    }
  }
  taken_.clear();
}

void write_scheduler::receive_taking(session_ref& session, actors::delivery&& item) {
  taking_ = &session;
  scheduled_session& receiver = scheduled(*session);
  receiver.receive(std::move(item));  // may move `session` (schedule_write)
  taking_ = nullptr;
}

void write_scheduler::take_group(handed_over& entry) {
  const auto& frames = std::get<actors::channel_pushes>(entry.item).frames;
  for (auto& session : entry.group) {
    // The round stays with the scheduler (take_handed_over), as for a
    // delivery of its own.
    receive_taking(session, actors::channel_pushes{frames, nullptr});
  }
}

void write_scheduler::run_pass() {
  // One pass is posted at a time (pass_posted_), and a pass never runs
  // inside another: the io_context runs handlers one by one.
  assert(on_this_thread() && !in_pass_ && "a write pass ran off its thread or inside another");
  if (deferrals_ == 0) {
    deferral_start_ = std::chrono::steady_clock::now();
  }
  {
    in_pass_ = true;
    struct leave_pass {
      write_scheduler& scheduler;
      ~leave_pass() {
        scheduler.in_pass_ = false;
        scheduler.taking_ = nullptr;  // if a receive threw
      }
    } leave{*this};
    take_handed_over();
  }
  // Reads ran since the last turn: more input may be buffered behind them,
  // so they go first (each read waits one turn of the queue).
  if (reads_ != reads_seen_ && deferrals_ < limit_.turns &&
      std::chrono::steady_clock::now() - deferral_start_ < limit_.time) {
    ++deferrals_;
    reads_seen_ = reads_;
    boost::asio::post(context_, [this] { run_pass(); });
    return;
  }
  deferrals_ = 0;
  reads_seen_ = reads_;
  writing_.swap(to_write_);
  // Each session's state is cold when its turn comes (a pass touches a few
  // lines of each of hundreds of sessions, with a system call between
  // two), and a write's loads depend on one another: object, socket layer,
  // queue. Started a few sessions ahead, they overlap with the system calls
  // before it (1000 subscribers: about a fifth of the pass's own CPU time
  // was those misses).
  const std::size_t count = writing_.size();
  for (std::size_t i = 0; i < count; ++i) {
    if (i + 4 < count) {
      // Its virtual table pointer and flag.
      __builtin_prefetch(&scheduled(*writing_[i + 4]), 1);
    }
    for (int step = 0; step < 3; ++step) {
      if (i + 3 - step < count) {
        scheduled(*writing_[i + 3 - step]).prefetch_for_write(step);
      }
    }
    scheduled_session& session = scheduled(*writing_[i]);
    session.write_scheduled_ = false;  // output queued from here on needs another pass
    session.write_pending();
  }
  writing_.clear();
  rounds_.clear();  // may tell the broadcaster to send its next round
  const std::lock_guard lock(mutex_);
  pass_posted_ = false;
  if (!inbox_.empty() || !to_write_.empty()) {
    ensure_pass_locked();
  }
}

}  // namespace herald::net
