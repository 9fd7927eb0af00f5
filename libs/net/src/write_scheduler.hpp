#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "herald/actors/delivery.hpp"
#include "herald/actors/round_ticket.hpp"
#include "herald/actors/session_sink.hpp"

namespace herald::net {

class write_scheduler;

// How the scheduler holds a session (always a scheduled_sink, below): by
// the base every reference to it starts as, so that the one a broadcaster
// locked moves all the way into the write list. (C++17 has no moving
// aliasing or cast constructor: converting it to another type of pointer
// would count it again.)
using session_ref = std::shared_ptr<actors::session_sink>;

// A session as its thread's write_scheduler sees it.
class scheduled_session {
 public:
  // A delivery handed over by the broadcaster or the session's connection
  // actor, on the session's thread, in the order handed over. A round's ticket
  // (channel_pushes::round) stays with the scheduler, which lets go of it
  // once the pass that took it has written.
  virtual void receive(actors::delivery&& item) = 0;
  // Writes the output the session queued (after schedule_write).
  virtual void write_pending() = 0;
  // Asks the CPU to start loading what write_pending() will read, one link
  // of the chain at a time: `step` 0 the session's object, 1 its socket
  // layer (whose address is in the object), 2 the slot of the queue's first
  // batch (whose address is in the layer). A pass takes step k for the session 3 - k
  // places ahead of the one it writes (see run_pass), so each step reads
  // only what the step before brought in, and a write finds its memory in
  // cache. A hint only: it changes nothing.
  virtual void prefetch_for_write(int step) noexcept = 0;
  // The session as the scheduler holds it until its write.
  virtual session_ref scheduled_self() = 0;

 protected:
  ~scheduled_session() = default;

 private:
  friend class write_scheduler;
  // In the scheduler's list of sessions to write; only that scheduler, on
  // its thread, reads or sets it.
  bool write_scheduled_ = false;
};

// How long a write pass may wait for reads, at most: this many turns of the
// thread and no longer than this, however busy the reads stay, so that a
// stream of input cannot hold output back for more than a fraction of a
// millisecond.
struct write_deferral_limit {
  unsigned turns = 64;
  std::chrono::microseconds time{200};

  // For a server of `workers` I/O threads. With one, one round is in
  // flight at a time (round_ticket) and the pass that holds it is what the
  // next round waits for: waiting on reads cannot bring another round into
  // the pass, only delay this one and every publication behind it (at 200
  // publications/s to 1000 subscribers, p50 14.9 -> 9.9 ms without the
  // wait). With several, the next round can go out while this one is
  // written elsewhere, and a waiting pass takes its share too.
  static write_deferral_limit for_workers(unsigned workers) {
    return workers > 1 ? write_deferral_limit{} : write_deferral_limit{0, {}};
  }
};

// One per I/O thread: takes the deliveries that actors hand to the thread's
// sessions, and writes the sessions' output in passes, each after the reads
// the thread has waiting.
//
// Why: every handler of a thread runs in turn, and a read that finds a whole
// message already buffered still completes through the handler queue. With
// one handler per delivery, and each delivery written at once, a
// publisher's next message waited behind one system call per subscriber per
// publication; the thread read one message per publisher per turn, each
// broadcaster round carried one publication, and a busy server settled at
// one sendmsg per delivery (8 channels of 500 subscribers: 1/20 of the
// throughput, 1.5 s latency). Here all deliveries that arrive between two
// passes cost one handler, and a pass defers its writes while reads make
// progress, so the messages they bring join the same round and each socket
// gets one sendmsg for all of them. An idle thread runs a pass at once:
// nothing waits when nothing is being read.
//
// It is also its sessions' delivery_route: a broadcaster round's pushes to
// the thread's subscribers of a channel come in one hand_pushes, one lock
// and one reference to the frames and the round for all of them.
class write_scheduler final : public actors::delivery_route {
 public:
  explicit write_scheduler(boost::asio::io_context& context, write_deferral_limit limit = {})
      : context_(context), limit_(limit) {}
  write_scheduler(const write_scheduler&) = delete;
  write_scheduler& operator=(const write_scheduler&) = delete;

  // The calling thread's scheduler, which it must have: sessions are made
  // only on the server's I/O threads. Aborts with a message otherwise.
  static write_scheduler& of_this_thread() noexcept;

  // Makes a scheduler the calling thread's for the binding's lifetime.
  class binding {
   public:
    explicit binding(write_scheduler& scheduler) noexcept;
    ~binding();
    binding(const binding&) = delete;
    binding& operator=(const binding&) = delete;
  };

  // Any thread: `item` for `session`, received on this thread in the order
  // handed over. A round's ticket is let go once the pass that takes the
  // delivery has written it.
  // `session` is a scheduled_sink of this scheduler.
  void hand_over(session_ref session, actors::delivery item);

  // Any thread: `pushes` for each of `sessions`, which must all be
  // scheduled_sinks of this scheduler; received in that order, each as a
  // hand_over of its own would be.
  void hand_pushes(const actors::channel_pushes& pushes,
                   std::vector<std::shared_ptr<actors::session_sink>>&& sessions) override;

  // This thread: `session` has output queued; the next pass writes it once,
  // however often this is called before (only the first call takes a
  // reference to it).
  void schedule_write(scheduled_session& session);

  // This thread: a read completed.
  void note_read() noexcept { ++reads_; }

 private:
  // One delivery to `session`; or, `session` null, the same pushes
  // (`item`) to every one of `group` (hand_pushes).
  struct handed_over {
    session_ref session;
    actors::delivery item;
    std::vector<session_ref> group;
  };

  bool on_this_thread() const noexcept;
  void ensure_pass_locked();  // mutex_ held: a pass is queued
  void run_pass();
  void take_handed_over();
  void take_group(handed_over& entry);
  void receive_taking(session_ref& session, actors::delivery&& item);

  boost::asio::io_context& context_;
  const write_deferral_limit limit_;

  std::mutex mutex_;  // guards inbox_ and pass_posted_
  std::vector<handed_over> inbox_;
  bool pass_posted_ = false;

  // This thread only.
  std::vector<handed_over> taken_;
  // The reference, in taken_ (an entry's or one of a group's), to the
  // session whose delivery is being received: what schedule_write puts in
  // to_write_ for that session.
  session_ref* taking_ = nullptr;
  std::vector<actors::round_ticket_ptr> rounds_;  // taken, held until written
  std::vector<session_ref> to_write_;
  std::vector<session_ref> writing_;
  std::uint64_t reads_ = 0;
  std::uint64_t reads_seen_ = 0;  // reads_ when the last turn of a pass ended
  std::chrono::steady_clock::time_point deferral_start_{};
  unsigned deferrals_ = 0;  // turns the current pass has waited
  bool in_pass_ = false;    // applying what was handed over (pass_posted_ is set)
};

// A session that actors hand deliveries to (session_sink) through its I/O
// thread's write_scheduler, which is also its route(). hand_pushes relies on
// it: every sink that gives the scheduler as its route is one of these.
class scheduled_sink : public actors::session_sink, public scheduled_session {
 public:
  explicit scheduled_sink(write_scheduler& scheduler) noexcept : scheduler_(scheduler) {}
  actors::delivery_route* route() noexcept final { return &scheduler_; }

 protected:
  ~scheduled_sink() override = default;
  void deliver(actors::delivery&& item, std::shared_ptr<actors::session_sink>&& holder) final;

  write_scheduler& scheduler_;  // this thread's
};

}  // namespace herald::net
