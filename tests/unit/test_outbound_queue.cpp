#include <catch2/catch.hpp>

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "herald/core/frame.hpp"
#include "herald/core/outbound_queue.hpp"

using herald::core::frame_batch_ptr;
using herald::core::frame_ptr;
using herald::core::make_batch;
using herald::core::make_frame;
using herald::core::outbound_queue;

namespace {

frame_ptr frame_of(std::size_t size, char fill = 'x') {
  return make_frame(std::string(size, fill));
}

frame_batch_ptr batch_of(std::vector<std::string> frames) {
  std::vector<frame_ptr> pointers;
  for (auto& frame : frames) {
    pointers.push_back(make_frame(std::move(frame)));
  }
  return make_batch(std::move(pointers));
}

struct gathered {
  std::string bytes;
  std::vector<const char*> addresses;
};

gathered gather_all(const outbound_queue& queue, std::size_t max_pieces = 1024,
                    bool current_frame_only = false) {
  gathered out;
  const std::size_t total = queue.gather(
      [&](const char* data, std::size_t size) {
        out.bytes.append(data, size);
        out.addresses.push_back(data);
      },
      max_pieces, current_frame_only);
  REQUIRE(total == out.bytes.size());
  return out;
}

}  // namespace

TEST_CASE("make_frame and make_batch share one immutable payload", "[outbound_queue]") {
  const frame_ptr frame = make_frame("payload");
  const frame_batch_ptr batch = make_batch({frame, frame});
  REQUIRE(batch->frames.size() == 2);
  REQUIRE(batch->frames[0].get() == frame.get());
  REQUIRE(batch->bytes == 14);
  REQUIRE(frame.use_count() == 3);
}

TEST_CASE("outbound_queue starts empty", "[outbound_queue]") {
  const outbound_queue queue{100};
  REQUIRE(queue.empty());
  REQUIRE(queue.bytes() == 0);
  REQUIRE(queue.max_bytes() == 100);
  REQUIRE_FALSE(queue.mid_frame());
  REQUIRE(gather_all(queue).bytes.empty());
}

TEST_CASE("outbound_queue gathers every queued frame in order, without copies",
          "[outbound_queue]") {
  outbound_queue queue{100};
  const frame_batch_ptr first = batch_of({"ab", "cd"});
  REQUIRE(queue.push(first));
  REQUIRE(queue.push(batch_of({"e"})));
  REQUIRE(queue.bytes() == 5);
  const gathered out = gather_all(queue);
  REQUIRE(out.bytes == "abcde");
  REQUIRE(out.addresses.size() == 3);
  REQUIRE(out.addresses[0] == first->frames[0]->data());  // the shared bytes themselves
  queue.consume(5);
  REQUIRE(queue.empty());
  REQUIRE(gather_all(queue).bytes.empty());
}

TEST_CASE("outbound_queue gathers at most max_pieces frames", "[outbound_queue]") {
  outbound_queue queue{100};
  REQUIRE(queue.push(batch_of({"a", "b", "c"})));
  REQUIRE(queue.push(batch_of({"d"})));
  REQUIRE(gather_all(queue, 2).bytes == "ab");
  REQUIRE(gather_all(queue, 4).bytes == "abcd");
  REQUIRE(gather_all(queue, 0).bytes.empty());
}

TEST_CASE("outbound_queue resumes a partly written frame where it stopped", "[outbound_queue]") {
  outbound_queue queue{100};
  REQUIRE(queue.push(batch_of({"hello", "world"})));
  queue.consume(3);
  REQUIRE(queue.mid_frame());
  REQUIRE(queue.bytes() == 7);
  REQUIRE(gather_all(queue).bytes == "loworld");
  REQUIRE(gather_all(queue, 1024, true).bytes == "lo");
  queue.consume(2);
  REQUIRE_FALSE(queue.mid_frame());
  REQUIRE(gather_all(queue).bytes == "world");
  queue.consume(5);
  REQUIRE(queue.empty());
}

TEST_CASE("outbound_queue accepts up to exactly max bytes", "[outbound_queue]") {
  outbound_queue queue{10};
  REQUIRE(queue.push(make_batch({frame_of(4), frame_of(6)})));
  REQUIRE(queue.bytes() == 10);
  REQUIRE_FALSE(queue.push(make_batch({frame_of(1)})));
}

TEST_CASE("outbound_queue refuses a batch that would exceed max and keeps nothing",
          "[outbound_queue]") {
  outbound_queue queue{10};
  REQUIRE(queue.push(make_batch({frame_of(6, 'a')})));
  REQUIRE_FALSE(queue.push(make_batch({frame_of(2, 'b'), frame_of(3, 'c')})));
  REQUIRE(queue.bytes() == 6);
  REQUIRE(gather_all(queue).bytes == "aaaaaa");
}

TEST_CASE("outbound_queue counts partly written bytes against the bound", "[outbound_queue]") {
  outbound_queue queue{10};
  REQUIRE(queue.push(make_batch({frame_of(10)})));
  queue.consume(4);
  REQUIRE(queue.bytes() == 6);
  REQUIRE_FALSE(queue.push(make_batch({frame_of(5)})));
  REQUIRE(queue.push(make_batch({frame_of(4)})));
}

TEST_CASE("outbound_queue ignores empty batches", "[outbound_queue]") {
  outbound_queue queue{0};
  REQUIRE(queue.push(make_batch({})));
  REQUIRE(queue.push(make_batch({frame_of(0)})));
  REQUIRE(queue.empty());
}

TEST_CASE("outbound_queue takes a batch over the bound only when empty", "[outbound_queue]") {
  outbound_queue queue{10};
  REQUIRE(queue.push(make_batch({frame_of(8), frame_of(8)})));  // one round, 16 bytes
  REQUIRE(queue.bytes() == 16);
  REQUIRE_FALSE(queue.push(make_batch({frame_of(1)})));
  queue.consume(16);
  REQUIRE(queue.push(make_batch({frame_of(1)})));
}

TEST_CASE("outbound_queue would_take says what push would do, before anything is made",
          "[outbound_queue]") {
  outbound_queue queue{10};
  REQUIRE(queue.would_take(1000));  // empty: anything
  REQUIRE(queue.push(make_batch({frame_of(6)})));
  REQUIRE(queue.would_take(4));
  REQUIRE_FALSE(queue.would_take(5));
  REQUIRE(queue.would_take(0));
  REQUIRE_FALSE(queue.push(make_batch({frame_of(5)})));
}

TEST_CASE("outbound_queue skips empty frames between others", "[outbound_queue]") {
  outbound_queue queue{100};
  REQUIRE(queue.push(batch_of({"", "ab", "", ""})));
  REQUIRE(queue.push(batch_of({"", "c"})));
  const gathered out = gather_all(queue);
  REQUIRE(out.bytes == "abc");
  REQUIRE(out.addresses.size() == 2);
  queue.consume(2);
  REQUIRE(gather_all(queue).bytes == "c");
  queue.consume(1);
  REQUIRE(queue.empty());
}

TEST_CASE("outbound_queue drop_pending keeps only the rest of a partly written frame",
          "[outbound_queue]") {
  outbound_queue queue{100};
  REQUIRE(queue.push(batch_of({"12345", "678"})));
  REQUIRE(queue.push(batch_of({"9"})));
  queue.consume(2);
  queue.drop_pending();
  REQUIRE(queue.bytes() == 3);
  REQUIRE(queue.mid_frame());
  REQUIRE(gather_all(queue).bytes == "345");
  queue.consume(3);
  REQUIRE(queue.empty());
  REQUIRE_FALSE(queue.mid_frame());
}

TEST_CASE("outbound_queue drop_pending at a frame boundary drops everything", "[outbound_queue]") {
  outbound_queue queue{100};
  REQUIRE(queue.push(batch_of({"ab", "cd"})));
  queue.consume(2);
  queue.drop_pending();
  REQUIRE(queue.empty());
  REQUIRE(gather_all(queue).bytes.empty());
  REQUIRE(queue.push(batch_of({"ef"})));
  REQUIRE(gather_all(queue).bytes == "ef");
}

TEST_CASE("outbound_queue clear drops even a partly written frame", "[outbound_queue]") {
  outbound_queue queue{100};
  REQUIRE(queue.push(batch_of({"12345"})));
  queue.consume(2);
  queue.clear();
  REQUIRE(queue.empty());
  REQUIRE_FALSE(queue.mid_frame());
  REQUIRE(gather_all(queue).bytes.empty());
}

TEST_CASE("outbound_queue releases batches as soon as they are written", "[outbound_queue]") {
  outbound_queue queue{100};
  const frame_ptr frame = frame_of(3);
  REQUIRE(queue.push(make_batch({frame})));
  REQUIRE(frame.use_count() == 2);
  queue.consume(3);
  REQUIRE(frame.use_count() == 1);
}

TEST_CASE("outbound_queue writes exactly what was pushed over many random operations",
          "[outbound_queue]") {
  std::mt19937 random{20261126};
  outbound_queue queue{4096};
  std::string expected;  // every byte pushed, in order
  std::string written;   // every byte consumed, in order
  std::size_t next_fill = 0;
  for (int step = 0; step < 20000; ++step) {
    const int action = static_cast<int>(random() % 10);
    if (action < 4) {
      std::vector<frame_ptr> frames;
      std::string bytes;
      const std::size_t count = random() % 5;
      for (std::size_t i = 0; i < count; ++i) {
        std::string frame(random() % 40, static_cast<char>('a' + next_fill++ % 26));
        bytes += frame;
        frames.push_back(make_frame(std::move(frame)));
      }
      const std::size_t before = queue.bytes();
      if (queue.push(make_batch(std::move(frames)))) {
        expected += bytes;
        REQUIRE(queue.bytes() == before + bytes.size());
      } else {
        REQUIRE(before > 0);
        REQUIRE(before + bytes.size() > queue.max_bytes());
        REQUIRE(queue.bytes() == before);
      }
    } else if (action < 9) {
      const gathered out = gather_all(queue, 1 + random() % 8, random() % 4 == 0);
      const std::size_t amount = out.bytes.empty() ? 0 : random() % (out.bytes.size() + 1);
      written.append(out.bytes, 0, amount);
      queue.consume(amount);
    } else {
      // drop_pending: whatever is not started is gone from the expectation.
      const gathered rest = gather_all(queue, 1, true);
      const bool partly = queue.mid_frame();
      queue.drop_pending();
      expected = written + (partly ? rest.bytes : std::string{});
    }
    REQUIRE(queue.bytes() == expected.size() - written.size());
    REQUIRE(written == expected.substr(0, written.size()));
    REQUIRE(gather_all(queue).bytes == expected.substr(written.size()));
  }
}
