#include <catch2/catch.hpp>

#include <cstddef>
#include <string>

#include "herald/core/frame.hpp"
#include "herald/core/outbound_queue.hpp"

using herald::core::frame_ptr;
using herald::core::make_frame;
using herald::core::outbound_queue;

namespace {

frame_ptr frame_of(std::size_t size, char fill = 'x') {
  return make_frame(std::string(size, fill));
}

// Writes the front frame completely; returns it.
frame_ptr write_one(outbound_queue& queue) {
  REQUIRE(queue.ready());
  frame_ptr frame = queue.begin_write();
  REQUIRE(queue.writing());
  REQUIRE_FALSE(queue.ready());
  queue.end_write();
  REQUIRE_FALSE(queue.writing());
  return frame;
}

}  // namespace

TEST_CASE("make_frame shares one immutable payload", "[outbound_queue]") {
  const frame_ptr frame = make_frame("payload");
  REQUIRE(*frame == "payload");
  const frame_ptr copy = frame;
  REQUIRE(copy.get() == frame.get());
  REQUIRE(frame.use_count() == 2);
}

TEST_CASE("outbound_queue starts empty and idle", "[outbound_queue]") {
  const outbound_queue queue{100};
  REQUIRE(queue.empty());
  REQUIRE(queue.size() == 0);
  REQUIRE(queue.bytes() == 0);
  REQUIRE(queue.max_bytes() == 100);
  REQUIRE_FALSE(queue.writing());
  REQUIRE_FALSE(queue.ready());
}

TEST_CASE("outbound_queue counts bytes of pushed frames", "[outbound_queue]") {
  outbound_queue queue{100};
  REQUIRE(queue.push(frame_of(10)));
  REQUIRE(queue.size() == 1);
  REQUIRE(queue.bytes() == 10);
  REQUIRE(queue.ready());
  REQUIRE(queue.push(frame_of(25)));
  REQUIRE(queue.push(frame_of(0)));
  REQUIRE(queue.size() == 3);
  REQUIRE(queue.bytes() == 35);
  REQUIRE_FALSE(queue.empty());
}

TEST_CASE("outbound_queue writes frames in order and shares them", "[outbound_queue]") {
  outbound_queue queue{1000};
  const frame_ptr first = make_frame("first");
  REQUIRE(queue.push(first));
  REQUIRE(queue.push(make_frame("second")));
  REQUIRE(queue.push(first));  // the same frame twice counts twice
  REQUIRE(queue.bytes() == 5 + 6 + 5);

  REQUIRE(write_one(queue).get() == first.get());
  REQUIRE(queue.bytes() == 6 + 5);
  REQUIRE(*write_one(queue) == "second");
  REQUIRE(queue.bytes() == 5);
  REQUIRE(write_one(queue).get() == first.get());
  REQUIRE(queue.empty());
  REQUIRE(queue.bytes() == 0);
  REQUIRE_FALSE(queue.ready());
}

TEST_CASE("outbound_queue accepts up to exactly max bytes", "[outbound_queue]") {
  outbound_queue queue{100};
  REQUIRE(queue.push(frame_of(60)));
  REQUIRE(queue.push(frame_of(40)));
  REQUIRE(queue.bytes() == 100);
  // An empty frame still fits a full queue.
  REQUIRE(queue.push(frame_of(0)));
  REQUIRE(queue.size() == 3);
  REQUIRE(queue.bytes() == 100);
}

TEST_CASE("outbound_queue refuses a push that would exceed max and keeps nothing",
          "[outbound_queue]") {
  outbound_queue queue{100};
  REQUIRE(queue.push(frame_of(60, 'a')));
  REQUIRE(queue.push(frame_of(30, 'b')));

  const frame_ptr too_big = frame_of(11, 'c');
  REQUIRE_FALSE(queue.push(too_big));
  REQUIRE(queue.size() == 2);
  REQUIRE(queue.bytes() == 90);
  REQUIRE(too_big.use_count() == 1);  // the queue holds no reference

  // A frame that still fits is accepted after a refusal.
  REQUIRE(queue.push(frame_of(10, 'd')));
  REQUIRE(queue.bytes() == 100);
  REQUIRE_FALSE(queue.push(frame_of(1)));
  REQUIRE(queue.size() == 3);
  REQUIRE(write_one(queue)->front() == 'a');
  REQUIRE(write_one(queue)->front() == 'b');
  REQUIRE(write_one(queue)->front() == 'd');
  REQUIRE(queue.empty());
}

TEST_CASE("outbound_queue refuses a single frame larger than max", "[outbound_queue]") {
  outbound_queue queue{100};
  REQUIRE_FALSE(queue.push(frame_of(101)));
  REQUIRE(queue.empty());
  REQUIRE(queue.bytes() == 0);
  REQUIRE_FALSE(queue.ready());
  REQUIRE(queue.push(frame_of(100)));
}

TEST_CASE("outbound_queue with zero max only takes empty frames", "[outbound_queue]") {
  outbound_queue queue{0};
  REQUIRE_FALSE(queue.push(frame_of(1)));
  REQUIRE(queue.push(frame_of(0)));
  REQUIRE(queue.size() == 1);
  REQUIRE(queue.bytes() == 0);
}

TEST_CASE("outbound_queue: the frame being written counts as unsent until it completes",
          "[outbound_queue]") {
  outbound_queue queue{100};
  REQUIRE(queue.push(frame_of(70, 'a')));
  REQUIRE(queue.push(frame_of(30, 'b')));

  const frame_ptr& in_flight = queue.begin_write();
  REQUIRE(in_flight->front() == 'a');
  REQUIRE(queue.writing());
  REQUIRE_FALSE(queue.ready());  // one write at a time, even with frames queued
  REQUIRE(queue.size() == 2);
  REQUIRE(queue.bytes() == 100);
  REQUIRE_FALSE(queue.push(frame_of(1, 'c')));

  queue.end_write();
  REQUIRE_FALSE(queue.writing());
  REQUIRE(queue.ready());
  REQUIRE(queue.size() == 1);
  REQUIRE(queue.bytes() == 30);
  REQUIRE(queue.push(frame_of(20, 'c')));
  REQUIRE(queue.bytes() == 50);
}

TEST_CASE("outbound_queue pushes during a write queue behind it", "[outbound_queue]") {
  outbound_queue queue{100};
  REQUIRE(queue.push(frame_of(10, 'a')));
  REQUIRE(queue.begin_write()->front() == 'a');
  REQUIRE(queue.push(frame_of(10, 'b')));
  REQUIRE_FALSE(queue.ready());
  queue.end_write();
  REQUIRE(queue.ready());
  REQUIRE(write_one(queue)->front() == 'b');
  REQUIRE(queue.empty());
}

TEST_CASE("outbound_queue drop_pending keeps the frame being written", "[outbound_queue]") {
  outbound_queue queue{100};
  const frame_ptr first = make_frame("hold me");
  REQUIRE(queue.push(first));
  const frame_ptr second = frame_of(20, 'b');
  REQUIRE(queue.push(second));
  REQUIRE(queue.push(frame_of(30, 'c')));

  const std::string* in_flight = queue.begin_write().get();
  REQUIRE(in_flight == first.get());
  queue.drop_pending();  // closing: the transport still reads the front frame
  REQUIRE(queue.size() == 1);
  REQUIRE(queue.bytes() == first->size());
  REQUIRE(queue.writing());
  REQUIRE(second.use_count() == 1);
  REQUIRE(first.use_count() == 2);  // still held by the queue

  queue.end_write();
  REQUIRE(queue.empty());
  REQUIRE(queue.bytes() == 0);
  REQUIRE(first.use_count() == 1);
}

TEST_CASE("outbound_queue drop_pending with no write in flight drops everything",
          "[outbound_queue]") {
  outbound_queue queue{100};
  const frame_ptr kept = frame_of(40);
  REQUIRE(queue.push(kept));
  REQUIRE(queue.push(frame_of(50)));
  REQUIRE(kept.use_count() == 2);

  queue.drop_pending();
  REQUIRE(queue.empty());
  REQUIRE(queue.size() == 0);
  REQUIRE(queue.bytes() == 0);
  REQUIRE(queue.max_bytes() == 100);
  REQUIRE_FALSE(queue.writing());
  REQUIRE_FALSE(queue.ready());
  REQUIRE(kept.use_count() == 1);

  // Full capacity is available again.
  REQUIRE(queue.push(frame_of(100)));
  queue.drop_pending();
  queue.drop_pending();  // dropping from an empty queue is harmless
  REQUIRE(queue.empty());
}

TEST_CASE("outbound_queue drop_pending of only the in-flight frame changes nothing",
          "[outbound_queue]") {
  outbound_queue queue{100};
  REQUIRE(queue.push(frame_of(10)));
  queue.begin_write();
  queue.drop_pending();
  REQUIRE(queue.size() == 1);
  REQUIRE(queue.bytes() == 10);
  REQUIRE(queue.writing());
  queue.end_write();
  REQUIRE(queue.empty());
}

TEST_CASE("outbound_queue byte count matches its frames over many operations", "[outbound_queue]") {
  outbound_queue queue{1000};
  std::size_t expected = 0;
  std::size_t refused = 0;
  std::size_t in_flight_size = 0;
  for (std::size_t i = 0; i < 600; ++i) {
    const std::size_t size = (i * 37) % 120;
    if (expected + size <= 1000) {
      REQUIRE(queue.push(frame_of(size)));
      expected += size;
    } else {
      REQUIRE_FALSE(queue.push(frame_of(size)));
      ++refused;
    }
    if (i % 3 == 0 && queue.ready()) {
      in_flight_size = queue.begin_write()->size();
    } else if (i % 3 == 1 && queue.writing()) {
      queue.end_write();
      expected -= in_flight_size;
    } else if (i % 97 == 0) {
      queue.drop_pending();
      expected = queue.writing() ? in_flight_size : 0;
    }
    REQUIRE(queue.bytes() == expected);
    REQUIRE(queue.bytes() <= queue.max_bytes());
    REQUIRE(queue.ready() == (!queue.writing() && !queue.empty()));
  }
  REQUIRE(refused > 0);
}
