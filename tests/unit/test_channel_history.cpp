#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "herald/core/channel_history.hpp"

using herald::core::channel_history;
using herald::core::history_error;
using herald::core::history_options;
using herald::core::stream_position;
namespace detail = herald::core::history_detail;

namespace {

using payload = std::shared_ptr<const std::string>;
using history = channel_history<payload>;
using std::chrono::seconds;

// An arbitrary start: tests pass every time explicitly.
const history::time_point t0 = history::time_point{} + std::chrono::hours(1);

payload make(const std::string& text) {
  return std::make_shared<const std::string>(text);
}

history_options opts(std::size_t size, long ttl_seconds = 60) {
  return history_options{size, seconds(ttl_seconds)};
}

template <class Publications>
std::vector<std::uint64_t> offsets(const Publications& publications) {
  std::vector<std::uint64_t> result;
  for (const auto& p : publications) {
    result.push_back(p.offset);
  }
  return result;
}

template <class Publications>
std::vector<std::string> texts(const Publications& publications) {
  std::vector<std::string> result;
  for (const auto& p : publications) {
    result.push_back(*p.payload);
  }
  return result;
}

using offset_list = std::vector<std::uint64_t>;

}  // namespace

TEST_CASE("make_epoch gives 8 random hex digits", "[history]") {
  const auto a = herald::core::make_epoch();
  const auto b = herald::core::make_epoch();
  REQUIRE(a.size() == 8);
  REQUIRE(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  REQUIRE(a != b);  // fails once in 2^32 runs
}

TEST_CASE("offsets start at 1 per channel and increase by 1", "[history]") {
  history h("ep0ch");
  REQUIRE(h.position("a", t0) == stream_position{0, "ep0ch"});
  REQUIRE(h.append("a", make("a1"), t0, opts(10)) == stream_position{1, "ep0ch"});
  REQUIRE(h.append("a", make("a2"), t0, opts(10)) == stream_position{2, "ep0ch"});
  REQUIRE(h.append("b", make("b1"), t0, opts(10)) == stream_position{1, "ep0ch"});
  REQUIRE(h.append("a", make("a3"), t0, opts(10)).offset == 3);
  REQUIRE(h.position("a", t0) == stream_position{3, "ep0ch"});
  REQUIRE(h.position("b", t0) == stream_position{1, "ep0ch"});
  REQUIRE(h.channel_count() == 2);
  REQUIRE(h.epoch() == "ep0ch");
}

TEST_CASE("a channel without history options gets no entry", "[history]") {
  history h("e");
  REQUIRE(h.append("x", make("1"), t0, opts(0)) == stream_position{});
  REQUIRE(h.append("x", make("1"), t0, opts(10, 0)) == stream_position{});
  REQUIRE(h.channel_count() == 0);
  // Recovery and history reads create nothing either.
  h.recover("y", 3, "e", t0);
  h.history("y", std::nullopt, -1, false, t0);
  h.remove("y");
  REQUIRE(h.channel_count() == 0);
}

TEST_CASE("position() pins a quiet channel's epoch", "[history]") {
  // A subscriber positioned on a channel nobody has published to must find
  // the same epoch when it comes back, whatever happened to other channels.
  history h("e", seconds(100));
  const auto first = h.position("quiet", t0);
  REQUIRE(h.channel_count() == 1);
  h.append("busy", make("1"), t0, opts(10, 10));
  REQUIRE(h.position("quiet", t0 + seconds(90)) == first);  // a read keeps it alive
  REQUIRE(h.sweep(t0 + seconds(150)) == 1);                 // busy is forgotten: a new generation
  REQUIRE(h.position("quiet", t0 + seconds(160)) == first);
  REQUIRE(h.recover("quiet", 0, first.epoch, t0 + seconds(170)).recovered);
}

TEST_CASE("the stream keeps the newest `size` publications, shared not copied", "[history]") {
  history h("e");
  std::vector<payload> sent;
  for (int i = 1; i <= 5; ++i) {
    sent.push_back(make("m" + std::to_string(i)));
    h.append("c", sent.back(), t0, opts(3));
  }
  auto r = h.history("c", std::nullopt, -1, false, t0);
  REQUIRE(r.error == history_error::none);
  REQUIRE(offsets(r.publications) == offset_list{3, 4, 5});
  REQUIRE(texts(r.publications) == std::vector<std::string>{"m3", "m4", "m5"});
  REQUIRE(r.publications[0].payload.get() == sent[2].get());  // the same object
  REQUIRE(r.position == stream_position{5, "e"});
  // Trimmed publications are released: only `sent` still holds them.
  REQUIRE(sent[0].use_count() == 1);
  REQUIRE(sent[1].use_count() == 1);
  REQUIRE(sent[4].use_count() == 3);  // sent, the stream, the result
}

TEST_CASE("the ring buffer grows and wraps without losing order", "[history]") {
  history h("e");
  for (int i = 1; i <= 1000; ++i) {
    h.append("c", make(std::to_string(i)), t0, opts(37));
    auto r = h.history("c", std::nullopt, -1, false, t0);
    const std::uint64_t expected_first = i > 37 ? static_cast<std::uint64_t>(i - 36) : 1;
    REQUIRE(r.publications.size() == static_cast<std::size_t>(std::min(i, 37)));
    REQUIRE(r.publications.front().offset == expected_first);
    REQUIRE(r.publications.back().offset == static_cast<std::uint64_t>(i));
    REQUIRE(*r.publications.back().payload == std::to_string(i));
  }
}

TEST_CASE("a smaller size trims the stream at the next append", "[history]") {
  history h("e");
  for (int i = 1; i <= 8; ++i) {
    h.append("c", make(std::to_string(i)), t0, opts(8));
  }
  h.append("c", make("9"), t0, opts(3));
  REQUIRE(offsets(h.history("c", std::nullopt, -1, false, t0).publications) ==
          offset_list{7, 8, 9});
  h.append("c", make("10"), t0, opts(5));
  REQUIRE(offsets(h.history("c", std::nullopt, -1, false, t0).publications) ==
          offset_list{7, 8, 9, 10});
}

TEST_CASE("the stream expires ttl after its last publication, keeping its position", "[history]") {
  history h("e");
  h.append("c", make("1"), t0, opts(10, 10));
  h.append("c", make("2"), t0 + seconds(5), opts(10, 10));
  // The first publication is 12 s old, but the stream lives until 5 + 10.
  REQUIRE(h.history("c", std::nullopt, -1, false, t0 + seconds(12)).publications.size() == 2);
  REQUIRE(h.history("c", std::nullopt, -1, false, t0 + seconds(14)).publications.size() == 2);
  auto r = h.history("c", std::nullopt, -1, false, t0 + seconds(15));
  REQUIRE(r.publications.empty());
  REQUIRE(r.position == stream_position{2, "e"});
  REQUIRE(h.channel_count() == 1);
  // Offsets go on after expiry.
  REQUIRE(h.append("c", make("3"), t0 + seconds(20), opts(10, 10)).offset == 3);
  REQUIRE(offsets(h.history("c", std::nullopt, -1, false, t0 + seconds(20)).publications) ==
          offset_list{3});
}

TEST_CASE("expiry is lazy per access, or done for all channels by sweep", "[history]") {
  history h("e");
  auto kept = make("x");
  h.append("a", kept, t0, opts(10, 10));
  h.append("b", kept, t0, opts(10, 10));
  REQUIRE(kept.use_count() == 3);
  // An access to "a" expires "a" only.
  h.position("a", t0 + seconds(10));
  REQUIRE(kept.use_count() == 2);
  REQUIRE(h.sweep(t0 + seconds(9)) == 0);
  REQUIRE(kept.use_count() == 2);
  REQUIRE(h.sweep(t0 + seconds(10)) == 0);  // nothing forgotten without meta_ttl
  REQUIRE(kept.use_count() == 1);
  REQUIRE(h.channel_count() == 2);
  REQUIRE(h.position("b", t0 + seconds(100)) == stream_position{1, "e"});
}

TEST_CASE("recovery returns exactly the missed publications in order", "[history]") {
  history h("e");
  for (int i = 1; i <= 10; ++i) {
    h.append("c", make("m" + std::to_string(i)), t0, opts(10));
  }
  auto r = h.recover("c", 6, "e", t0);
  REQUIRE(r.recovered);
  REQUIRE(offsets(r.publications) == offset_list{7, 8, 9, 10});
  REQUIRE(texts(r.publications) == std::vector<std::string>{"m7", "m8", "m9", "m10"});
  REQUIRE(r.position == stream_position{10, "e"});

  SECTION("from the top: recovered, nothing missed") {
    auto top = h.recover("c", 10, "e", t0);
    REQUIRE(top.recovered);
    REQUIRE(top.publications.empty());
  }
  SECTION("from offset 0 while all are retained") {
    auto all = h.recover("c", 0, "e", t0);
    REQUIRE(all.recovered);
    REQUIRE(all.publications.size() == 10);
  }
  SECTION("an offset ahead of the top is never recovered") {
    auto ahead = h.recover("c", 11, "e", t0);
    REQUIRE_FALSE(ahead.recovered);
    REQUIRE(ahead.publications.empty());
    REQUIRE(ahead.position == stream_position{10, "e"});
  }
  SECTION("another epoch is never recovered") {
    auto other = h.recover("c", 6, "other", t0);
    REQUIRE_FALSE(other.recovered);
    REQUIRE(other.publications.empty());
    REQUIRE(other.position == stream_position{10, "e"});
    REQUIRE_FALSE(h.recover("c", 10, "other", t0).recovered);
  }
  SECTION("an empty epoch is not checked, as in Centrifugo") {
    REQUIRE(h.recover("c", 6, "", t0).recovered);
  }
  SECTION("more missed than max_publications: not recovered, nothing sent") {
    REQUIRE(h.recover("c", 6, "e", t0, 4).recovered);
    auto limited = h.recover("c", 6, "e", t0, 3);
    REQUIRE_FALSE(limited.recovered);
    REQUIRE(limited.publications.empty());
  }
}

TEST_CASE("recovery fails once a missed publication was trimmed", "[history]") {
  history h("e");
  for (int i = 1; i <= 20; ++i) {
    h.append("c", make(std::to_string(i)), t0, opts(10));
  }
  // Retained: 11..20.
  REQUIRE(h.recover("c", 10, "e", t0).recovered);
  REQUIRE(h.recover("c", 10, "e", t0).publications.size() == 10);
  auto gone = h.recover("c", 9, "e", t0);
  REQUIRE_FALSE(gone.recovered);
  REQUIRE(gone.publications.empty());
  REQUIRE_FALSE(h.recover("c", 0, "e", t0).recovered);
}

TEST_CASE("recovery after expiry succeeds only from the top", "[history]") {
  history h("e");
  for (int i = 1; i <= 10; ++i) {
    h.append("c", make(std::to_string(i)), t0, opts(10, 1));
  }
  const auto later = t0 + seconds(3);
  REQUIRE_FALSE(h.recover("c", 8, "e", later).recovered);
  auto top = h.recover("c", 10, "e", later);
  REQUIRE(top.recovered);
  REQUIRE(top.publications.empty());
}

// Centrifugo's client_test.go clientRecoverTests, row by row: history size,
// ttl, publications, since offset, sleep, recovery limit -> recovered, count.
TEST_CASE("recovery matches Centrifugo's recovery table", "[history]") {
  struct row {
    const char* name;
    std::size_t size;
    long ttl;
    int publications;
    std::uint64_t since;
    long sleep;
    std::size_t limit;
    bool recovered;
    std::size_t recovered_count;
  };
  const row rows[] = {
      {"empty_stream", 10, 60, 0, 0, 0, 0, true, 0},
      {"from_position", 10, 60, 10, 8, 0, 0, true, 2},
      {"from_position_limited", 10, 60, 10, 5, 0, 2, false, 0},
      {"from_position_with_server_limit", 10, 60, 10, 5, 0, 1, false, 0},
      {"from_position_that_already_gone", 10, 60, 20, 8, 0, 0, false, 0},
      {"from_position_that_not_exist_yet", 10, 60, 20, 108, 0, 0, false, 0},
      {"same_position_no_pubs_expected", 10, 60, 7, 7, 0, 0, true, 0},
      {"empty_position_recover_expected", 10, 60, 4, 0, 0, 0, true, 4},
      {"from_position_in_expired_stream", 10, 1, 10, 8, 3, 0, false, 0},
      {"from_same_position_in_expired_stream", 10, 1, 1, 1, 3, 0, true, 0},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    history h("e");
    for (int i = 1; i <= r.publications; ++i) {
      h.append("c", make(std::to_string(i)), t0, opts(r.size, r.ttl));
    }
    const auto now = t0 + seconds(r.sleep);
    const auto epoch = h.position("c", now).epoch;
    auto result = h.recover("c", r.since, epoch, now, r.limit);
    REQUIRE(result.recovered == r.recovered);
    REQUIRE(result.publications.size() == r.recovered_count);
  }
}

TEST_CASE("history follows Centrifugo's limit, since and reverse", "[history]") {
  history h("e");
  for (int i = 1; i <= 10; ++i) {
    h.append("c", make(std::to_string(i)), t0, opts(8));
  }
  // Retained: 3..10.
  auto query = [&](std::optional<stream_position> since, std::int64_t limit, bool reverse) {
    return h.history("c", since, limit, reverse, t0);
  };
  auto at = [](std::uint64_t offset) { return stream_position{offset, "e"}; };

  SECTION("limit 0: only the position") {
    auto r = query(std::nullopt, 0, false);
    REQUIRE(r.publications.empty());
    REQUIRE(r.position == stream_position{10, "e"});
    REQUIRE(query(at(4), 0, false).publications.empty());
  }
  SECTION("no since") {
    REQUIRE(offsets(query(std::nullopt, -1, false).publications) ==
            offset_list{3, 4, 5, 6, 7, 8, 9, 10});
    REQUIRE(offsets(query(std::nullopt, 3, false).publications) == offset_list{3, 4, 5});
    REQUIRE(offsets(query(std::nullopt, 3, true).publications) == offset_list{10, 9, 8});
    REQUIRE(offsets(query(std::nullopt, 100, true).publications).size() == 8);
  }
  SECTION("since, forward: after the offset, from the oldest retained if it is gone") {
    REQUIRE(offsets(query(at(6), -1, false).publications) == offset_list{7, 8, 9, 10});
    REQUIRE(offsets(query(at(6), 2, false).publications) == offset_list{7, 8});
    REQUIRE(offsets(query(at(1), 2, false).publications) == offset_list{3, 4});
    REQUIRE(query(at(10), -1, false).publications.empty());
    REQUIRE(query(at(50), -1, false).publications.empty());
  }
  SECTION("since, reverse: before the offset, nothing if since - 1 is gone") {
    REQUIRE(offsets(query(at(6), -1, true).publications) == offset_list{5, 4, 3});
    REQUIRE(offsets(query(at(6), 2, true).publications) == offset_list{5, 4});
    REQUIRE(offsets(query(at(11), 2, true).publications) == offset_list{10, 9});
    REQUIRE(query(at(3), -1, true).publications.empty());
    REQUIRE(query(at(12), -1, true).publications.empty());
  }
  SECTION("errors") {
    auto bad = query(at(0), 5, true);
    REQUIRE(bad.error == history_error::bad_request);
    REQUIRE(bad.publications.empty());
    auto other = query(stream_position{4, "old"}, 5, false);
    REQUIRE(other.error == history_error::unrecoverable_position);
    REQUIRE(other.publications.empty());
    REQUIRE(other.position == stream_position{10, "e"});
    // An empty since epoch is not checked.
    auto any = query(stream_position{4, ""}, 2, false);
    REQUIRE(any.error == history_error::none);
    REQUIRE(offsets(any.publications) == offset_list{5, 6});
  }
}

TEST_CASE("paging through history forward and backward sees every publication once", "[history]") {
  history h("e");
  const int total = 1000;
  for (int i = 1; i <= total; ++i) {
    h.append("c", make(std::to_string(i)), t0, opts(total));
  }
  std::vector<std::uint64_t> seen;
  stream_position since{0, "e"};
  while (true) {
    auto page = h.history("c", since, 33, false, t0);
    if (page.publications.empty()) {
      break;
    }
    for (const auto& p : page.publications) {
      seen.push_back(p.offset);
    }
    since.offset = page.publications.back().offset;
  }
  REQUIRE(seen.size() == total);
  REQUIRE(std::is_sorted(seen.begin(), seen.end()));

  seen.clear();
  std::optional<stream_position> before;
  while (true) {
    auto page = h.history("c", before, 33, true, t0);
    for (const auto& p : page.publications) {
      seen.push_back(p.offset);
    }
    if (page.publications.size() < 33) {
      break;
    }
    before = stream_position{page.publications.back().offset, "e"};
  }
  REQUIRE(seen.size() == total);
  REQUIRE(std::is_sorted(seen.rbegin(), seen.rend()));
}

TEST_CASE("remove drops the publications but keeps the position", "[history]") {
  history h("e");
  auto first = make("1");
  h.append("c", first, t0, opts(10));
  h.append("c", make("2"), t0, opts(10));
  h.remove("c");
  REQUIRE(first.use_count() == 1);
  auto r = h.history("c", std::nullopt, -1, false, t0);
  REQUIRE(r.publications.empty());
  REQUIRE(r.position == stream_position{2, "e"});
  REQUIRE(h.recover("c", 2, "e", t0).recovered);
  REQUIRE_FALSE(h.recover("c", 1, "e", t0).recovered);
  REQUIRE(h.append("c", make("3"), t0, opts(10)) == stream_position{3, "e"});
  h.remove("unknown");
  REQUIRE(h.channel_count() == 1);
}

TEST_CASE("many channels keep independent streams", "[history]") {
  history h("e");
  const int channels = 2000;
  for (int round = 1; round <= 5; ++round) {
    for (int c = 0; c < channels; ++c) {
      if (c % 5 < round) {
        h.append("ch" + std::to_string(c), make(std::to_string(c * 100 + round)), t0, opts(3));
      }
    }
  }
  REQUIRE(h.channel_count() == channels);
  for (int c = 0; c < channels; ++c) {
    const auto name = "ch" + std::to_string(c);
    const auto count = static_cast<std::uint64_t>(5 - c % 5);
    auto r = h.history(name, std::nullopt, -1, false, t0);
    REQUIRE(r.position.offset == count);
    REQUIRE(r.publications.size() == std::min<std::uint64_t>(count, 3));
    REQUIRE(*r.publications.back().payload == std::to_string(c * 100 + 5));
  }
}

TEST_CASE("meta_ttl forgets idle channels and gives new streams a new epoch", "[history]") {
  history h("e", seconds(100));
  h.append("c", make("1"), t0, opts(10, 10));
  h.append("c", make("2"), t0, opts(10, 10));
  const auto old_position = h.position("c", t0 + seconds(50));  // a read keeps it alive
  REQUIRE(old_position == stream_position{2, "e"});
  REQUIRE(h.position("c", t0 + seconds(149)) == stream_position{2, "e"});
  REQUIRE(h.channel_count() == 1);

  SECTION("lazily, on the next access") {
    const auto later = t0 + seconds(249);
    auto fresh = h.position("c", later);
    REQUIRE(fresh.offset == 0);
    REQUIRE(fresh.epoch != "e");
    REQUIRE(h.channel_count() == 1);  // the new stream's meta record
    auto appended = h.append("c", make("new"), later, opts(10, 10));
    REQUIRE(appended == stream_position{1, fresh.epoch});
    // A client of the forgotten stream is never told it recovered.
    REQUIRE_FALSE(h.recover("c", 0, "e", later).recovered);
    REQUIRE_FALSE(h.recover("c", 2, "e", later).recovered);
    REQUIRE(h.recover("c", 0, fresh.epoch, later).recovered);
  }
  SECTION("by sweep") {
    h.append("other", make("x"), t0 + seconds(200), opts(10, 10));
    REQUIRE(h.sweep(t0 + seconds(248)) == 0);
    REQUIRE(h.sweep(t0 + seconds(249)) == 1);
    REQUIRE(h.channel_count() == 1);
    REQUIRE(h.position("other", t0 + seconds(249)) == stream_position{1, "e"});
    REQUIRE(h.position("c", t0 + seconds(249)).epoch != "e");
    // A second forgotten stream gets yet another epoch.
    const auto second = h.append("c", make("y"), t0 + seconds(250), opts(10, 10)).epoch;
    REQUIRE(h.sweep(t0 + seconds(400)) == 2);
    const auto third = h.append("c", make("z"), t0 + seconds(400), opts(10, 10)).epoch;
    REQUIRE(third != second);
    REQUIRE(third != "e");
  }
}

TEST_CASE("history_detail plans ranges as Centrifugo's memstream does", "[history]") {
  using detail::plan_history;
  using detail::plan_recovery;
  // Top 10, retained 3..10.
  auto r = plan_history(10, 8, std::nullopt, -1, false);
  REQUIRE((r.first == 3 && r.count == 8 && !r.reverse));
  r = plan_history(10, 8, std::nullopt, 2, true);
  REQUIRE((r.first == 10 && r.count == 2 && r.reverse));
  REQUIRE(plan_history(10, 0, std::nullopt, -1, false).count == 0);
  REQUIRE(plan_history(10, 8, std::uint64_t{0}, -1, false).first == 3);
  REQUIRE(plan_history(10, 8, UINT64_MAX, -1, false).count == 0);
  REQUIRE(plan_history(10, 8, UINT64_MAX, -1, true).count == 0);

  REQUIRE(plan_recovery(0, 0, 0, 0).has_value());
  REQUIRE_FALSE(plan_recovery(0, 0, 1, 0).has_value());
  REQUIRE_FALSE(plan_recovery(10, 0, 9, 0).has_value());
  auto all = plan_recovery(10, 10, 0, 0);
  REQUIRE((all && all->first == 1 && all->count == 10));
  REQUIRE(plan_recovery(10, 10, 0, 10).has_value());
  REQUIRE_FALSE(plan_recovery(10, 10, 0, 9).has_value());

  const auto now = detail::time_point{} + seconds(5);
  REQUIRE(detail::deadline_after(now, seconds(7)) == now + seconds(7));
  REQUIRE(detail::deadline_after(now, seconds::max()) == detail::time_point::max());
  REQUIRE(detail::epoch_for_generation("ab", 0) == "ab");
  REQUIRE(detail::epoch_for_generation("ab", 12) == "ab-12");
}

namespace {

// The reference for the model check: every publication ever made, and the
// oldest offset still retained.
struct model_channel {
  std::vector<int> all;  // offset i holds all[i - 1]
  std::uint64_t retained_from = 1;
  history::time_point expires_at{};

  std::uint64_t top() const { return all.size(); }

  void expire(history::time_point now) {
    if (now >= expires_at) {
      retained_from = top() + 1;
    }
  }
  std::vector<std::uint64_t> retained() const {
    std::vector<std::uint64_t> result;
    for (auto o = retained_from; o <= top(); ++o) {
      result.push_back(o);
    }
    return result;
  }
};

std::vector<std::uint64_t> take(std::vector<std::uint64_t> list, std::int64_t limit) {
  if (limit >= 0 && list.size() > static_cast<std::size_t>(limit)) {
    list.resize(static_cast<std::size_t>(limit));
  }
  return list;
}

}  // namespace

TEST_CASE("channel_history agrees with a simple reference model", "[history]") {
  std::mt19937 rng(20240611);
  channel_history<int> h("e");
  std::map<std::string, model_channel> model;
  auto now = t0;
  const char* names[] = {"a", "b", "c", "ns:d"};

  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  // Mostly near the top, where the interesting boundaries are.
  auto pick_since = [&](std::uint64_t top) -> std::uint64_t {
    if (pick(4) == 0) {
      return static_cast<std::uint64_t>(pick(static_cast<int>(top) + 3));
    }
    const auto back = static_cast<std::uint64_t>(pick(18));
    return top + 2 > back ? top + 2 - back : 0;
  };
  int recovered = 0;
  int not_recovered = 0;

  for (int step = 0; step < 20000; ++step) {
    now += std::chrono::milliseconds(pick(400));
    const std::string channel = names[pick(4)];
    auto& m = model[channel];
    m.expire(now);
    const int op = pick(10);
    if (op < 5) {
      const std::size_t size = 1 + static_cast<std::size_t>(pick(step % 3000 < 1500 ? 12 : 4));
      const long ttl = 1 + pick(20);
      const int value = pick(1000000);
      m.all.push_back(value);
      if (m.top() + 1 > size) {
        m.retained_from = std::max<std::uint64_t>(m.retained_from, m.top() + 1 - size);
      }
      m.expires_at = now + seconds(ttl);
      auto position = h.append(channel, value, now, history_options{size, seconds(ttl)});
      REQUIRE(position == stream_position{m.top(), "e"});
    } else if (op < 7) {
      const std::uint64_t since = pick_since(m.top());
      const std::size_t limit = static_cast<std::size_t>(pick(8));
      auto r = h.recover(channel, since, "e", now, limit);
      const bool expected =
          since <= m.top() && (since == m.top() || (since + 1 >= m.retained_from &&
                                                    (limit == 0 || m.top() - since <= limit)));
      REQUIRE(r.recovered == expected);
      REQUIRE(r.position.offset == m.top());
      ++(expected ? recovered : not_recovered);
      std::vector<std::uint64_t> want;
      if (expected) {
        for (auto o = since + 1; o <= m.top(); ++o) {
          want.push_back(o);
        }
      }
      REQUIRE(offsets(r.publications) == want);
      for (const auto& p : r.publications) {
        REQUIRE(p.payload == m.all[p.offset - 1]);
      }
    } else if (op < 9) {
      const bool reverse = pick(2) == 1;
      const std::int64_t limit = pick(6) - 1;
      std::optional<stream_position> since;
      if (pick(3) > 0) {
        since = stream_position{pick_since(m.top()), "e"};
      }
      auto r = h.history(channel, since, limit, reverse, now);
      if (since && reverse && since->offset == 0) {
        REQUIRE(r.error == history_error::bad_request);
        continue;
      }
      REQUIRE(r.error == history_error::none);
      REQUIRE(r.position.offset == m.top());
      auto list = m.retained();
      std::vector<std::uint64_t> want;
      if (!since) {
        if (reverse) {
          std::reverse(list.begin(), list.end());
        }
        want = list;
      } else if (!reverse) {
        for (auto o : list) {
          if (o > since->offset) {
            want.push_back(o);
          }
        }
      } else if (std::find(list.begin(), list.end(), since->offset - 1) != list.end()) {
        for (auto it = list.rbegin(); it != list.rend(); ++it) {
          if (*it <= since->offset - 1) {
            want.push_back(*it);
          }
        }
      }
      REQUIRE(offsets(r.publications) == take(want, limit));
      for (const auto& p : r.publications) {
        REQUIRE(p.payload == m.all[p.offset - 1]);
      }
    } else {
      h.remove(channel);
      m.retained_from = m.top() + 1;
    }
  }
  // Both outcomes were exercised often.
  REQUIRE(recovered > 200);
  REQUIRE(not_recovered > 200);
}

TEST_CASE("at max_channels a new channel forgets the least recently used", "[history]") {
  using namespace std::chrono_literals;
  channel_history<int> history{"e", std::chrono::seconds{0}, 3};
  const auto t0 = std::chrono::steady_clock::time_point{};
  const history_options keep{10, std::chrono::seconds{60}};
  history.append("a", 1, t0, keep);
  history.append("b", 1, t0, keep);
  history.position("quiet", t0);
  history.append("a", 2, t0 + 1s, keep);  // "a" used again: "b" is the oldest now
  CHECK(history.channel_count() == 3);
  history.append("c", 1, t0 + 2s, keep);
  CHECK(history.channel_count() == 3);
  CHECK(history.evictions() == 1);
  // "b" was forgotten: its stream starts again, under a new epoch.
  const auto b = history.append("b", 7, t0 + 3s, keep);
  CHECK(b.offset == 1);
  CHECK(b.epoch != "e");
  CHECK(history.evictions() == 2);  // ... which forgot "quiet" in turn
  CHECK(history.position("a", t0 + 3s).offset == 2);
}

TEST_CASE("sweep looks only at what is due, in order", "[history]") {
  using namespace std::chrono_literals;
  channel_history<int> history{"e", std::chrono::seconds{100}};
  const auto t0 = std::chrono::steady_clock::time_point{};
  const history_options short_ttl{10, std::chrono::seconds{5}};
  const history_options long_ttl{10, std::chrono::seconds{50}};
  for (int i = 0; i < 100; ++i) {
    history.append("s" + std::to_string(i), i, t0 + std::chrono::seconds{i % 3}, short_ttl);
    history.append("l" + std::to_string(i), i, t0, long_ttl);
  }
  // At t0 + 6s every short stream has expired (its publications gone, its
  // position kept); the long ones have not.
  CHECK(history.sweep(t0 + 6s) == 0);
  CHECK(history.history("s7", std::nullopt, -1, false, t0 + 6s).publications.empty());
  CHECK(history.history("s7", std::nullopt, -1, false, t0 + 6s).position.offset == 1);
  CHECK(history.history("l7", std::nullopt, -1, false, t0 + 6s).publications.size() == 1);
  // Appending again puts a stream at the back of its TTL's queue.
  history.append("s1", 99, t0 + 10s, short_ttl);
  CHECK(history.sweep(t0 + 12s) == 0);
  CHECK(history.history("s1", std::nullopt, -1, false, t0 + 12s).publications.size() == 1);
  // meta_ttl forgets the channels unused for 100 s, all of them at once.
  CHECK(history.sweep(t0 + 200s) == 200);
  CHECK(history.channel_count() == 0);
}
