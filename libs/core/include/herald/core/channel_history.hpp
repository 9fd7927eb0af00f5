#pragma once

#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "herald/core/stream_position.hpp"

namespace herald::core {

// A fresh random epoch (8 hex digits from std::random_device). A node makes
// one at start, so a restarted in-memory node never matches positions its
// previous incarnation handed out.
std::string make_epoch();

// A channel's history settings (its namespace's history_size / history_ttl).
// Both must be positive for the channel to keep history, as in Centrifugo.
struct history_options {
  std::size_t size = 0;         // publications kept at most; older ones are trimmed
  std::chrono::seconds ttl{0};  // the stream empties `ttl` after its last publication
  bool enabled() const { return size > 0 && ttl.count() > 0; }
};

template <class Payload>
struct history_publication {
  std::uint64_t offset = 0;
  Payload payload;
};

// Centrifugo's history errors: bad_request is 107 (reverse iteration from
// offset 0), unrecoverable_position is 112 (`since` names another epoch).
enum class history_error { none, bad_request, unrecoverable_position };

template <class Payload>
struct history_result {
  history_error error = history_error::none;
  std::vector<history_publication<Payload>> publications;
  stream_position position;  // the stream's top, also with an error
};

template <class Payload>
struct recovery_result {
  bool recovered = false;
  std::vector<history_publication<Payload>> publications;  // empty unless recovered
  stream_position position;                                // the stream's top
};

// The offset arithmetic behind channel_history, kept out of the template so
// that it is compiled and tested once.
namespace history_detail {

using time_point = std::chrono::steady_clock::time_point;

// `count` offsets from `first`, upward, or downward when `reverse`.
struct offset_range {
  std::uint64_t first = 0;
  std::size_t count = 0;
  bool reverse = false;
};

// What a history query returns from a stream whose newest offset is `top` and
// which still holds the `retained` newest publications (memstream.Get in
// Centrifugo): limit 0 -> nothing, negative -> no limit; without `since`, from
// the oldest retained (newest when `reverse`); with it, from since + 1 upward
// (from the oldest retained if since + 1 is gone) or from since - 1 downward
// (nothing if since - 1 is gone).
offset_range plan_history(std::uint64_t top, std::size_t retained,
                          std::optional<std::uint64_t> since_offset, std::int64_t limit,
                          bool reverse);

// The publications after `since_offset` if every one of them is still
// retained and there are at most `max_publications` (0: no limit); nullopt
// when the client cannot be recovered (isStreamRecovered in Centrifugo).
std::optional<offset_range> plan_recovery(std::uint64_t top, std::size_t retained,
                                          std::uint64_t since_offset, std::size_t max_publications);

// now + ttl, saturating instead of overflowing for absurd TTLs.
time_point deadline_after(time_point now, std::chrono::seconds ttl);

// The epoch of streams created after `generation` streams were forgotten.
std::string epoch_for_generation(const std::string& base, std::uint64_t generation);

}  // namespace history_detail

// Per-channel bounded publication history with monotonically increasing
// offsets, the in-memory engine of Centrifugo (historyHub + memstream):
//
// - append() gives each publication the next offset of its channel (1, 2, ...)
//   and keeps at most history_options::size of them. The whole stream expires
//   `ttl` after the channel's last publication (Centrifugo resets one expiry
//   per channel on every publish, in memory and in Redis); expiry is lazy,
//   checked against the `now` passed in, or done for all channels by sweep().
// - An expired or removed stream keeps its position (top offset and epoch):
//   a client at the top is still "recovered", one behind it is not.
// - With meta_ttl > 0 a channel not appended to or read for meta_ttl is
//   forgotten completely (Centrifugo's history_meta_ttl); a later stream on
//   it starts again at offset 1 under a new epoch. With meta_ttl 0 (the
//   default) positions live as long as this object.
// - Channels without history never get an entry (append with disabled
//   options stores nothing), and reads never create one; position() does,
//   for a positioned subscriber of a quiet channel.
// - With max_channels > 0 at most that many channels have an entry: a new
//   one forgets the channel used least recently first (as if its meta_ttl
//   had passed), and evictions() counts how many were.
//
// Payload is what the broadcaster stores per publication: a cheap handle to
// the already encoded publication (e.g. std::shared_ptr<const std::string>),
// default-constructible and copyable; results copy the handle, never the
// bytes. Not thread-safe: one owner (the broadcaster actor) uses it.
//
// Costs: append O(1) amortised (a ring buffer per channel growing up to
// `size`), recover and history O(k) for k publications returned, sweep
// O(what expired): entries are kept in order of last use (meta_ttl is the
// same for all), and streams in order of last append per history TTL, so a
// sweep looks at nothing that is not due. An idle channel whose stream
// expired holds only its meta record (name, epoch, offsets, time points).
template <class Payload>
class channel_history {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using publication = history_publication<Payload>;

  explicit channel_history(std::string epoch,
                           std::chrono::seconds meta_ttl = std::chrono::seconds{0},
                           std::size_t max_channels = 0)
      : epoch_(std::move(epoch)), meta_ttl_(meta_ttl), max_channels_(max_channels) {}

  // Sets what the constructor does, before the first entry exists (the
  // broadcaster's state is built before its configuration is known).
  void set_limits(std::chrono::seconds meta_ttl, std::size_t max_channels) {
    assert(streams_.empty() && "history limits set after entries were made");
    meta_ttl_ = meta_ttl;
    max_channels_ = max_channels;
  }

  // Entries point into each other (the orders below): not copyable.
  channel_history(const channel_history&) = delete;
  channel_history& operator=(const channel_history&) = delete;
  channel_history(channel_history&&) = delete;
  channel_history& operator=(channel_history&&) = delete;

  // Stores `payload` as the channel's next publication; returns its position.
  // Disabled options store nothing and return {0, ""}, as Centrifugo's
  // publish without history does.
  stream_position append(const std::string& channel, Payload payload, time_point now,
                         const history_options& options) {
    if (!options.enabled()) {
      return {};
    }
    stream* s = find(channel, now);
    if (s == nullptr) {
      s = &create(channel);
    }
    s->push(std::move(payload), options.size);
    s->expire_at = history_detail::deadline_after(now, options.ttl);
    queue_expiry(*s, options.ttl);
    touch(*s, now);
    return {s->top, s->epoch};
  }

  // The channel's top. A channel without a stream gets its meta record
  // (offset 0 and an epoch) now, as Centrifugo's memory engine does: the
  // position handed to a subscriber stays valid while the channel is quiet,
  // until the record's meta TTL passes.
  stream_position position(const std::string& channel, time_point now) {
    stream* s = find(channel, now);
    if (s == nullptr) {
      s = &create(channel);
    }
    touch(*s, now);
    return {s->top, s->epoch};
  }

  // Subscribe with recover: the publications after `since_offset`, in order,
  // and recovered = true iff `since_epoch` is the stream's epoch (an empty one
  // is not checked, as in Centrifugo) and none of them was trimmed or expired
  // and, with max_publications > 0, there are at most that many. Otherwise
  // recovered = false and no publications: the client reloads its state. An
  // offset ahead of the top is never recovered.
  recovery_result<Payload> recover(const std::string& channel, std::uint64_t since_offset,
                                   const std::string& since_epoch, time_point now,
                                   std::size_t max_publications = 0) {
    recovery_result<Payload> result;
    stream* s = find(channel, now);
    result.position = top_of(s, now);
    if (!since_epoch.empty() && since_epoch != result.position.epoch) {
      return result;
    }
    auto range = history_detail::plan_recovery(result.position.offset, retained(s), since_offset,
                                               max_publications);
    if (!range) {
      return result;
    }
    result.recovered = true;
    collect(s, *range, result.publications);
    return result;
  }

  // Centrifugo's history call: `limit` 0 returns only the position, a
  // negative limit every retained publication; see
  // history_detail::plan_history. The client protocol caps it at 300; the
  // server API, a trusted caller, gets up to the channel's history-size. Errors:
  // reverse with since offset 0 -> bad_request; `since` with a non-empty epoch
  // other than the stream's -> unrecoverable_position.
  history_result<Payload> history(const std::string& channel,
                                  const std::optional<stream_position>& since, std::int64_t limit,
                                  bool reverse, time_point now) {
    history_result<Payload> result;
    stream* s = find(channel, now);
    result.position = top_of(s, now);
    if (since && reverse && since->offset == 0) {
      result.error = history_error::bad_request;
      return result;
    }
    if (since && !since->epoch.empty() && since->epoch != result.position.epoch) {
      result.error = history_error::unrecoverable_position;
      return result;
    }
    std::optional<std::uint64_t> since_offset;
    if (since) {
      since_offset = since->offset;
    }
    auto range = history_detail::plan_history(result.position.offset, retained(s), since_offset,
                                              limit, reverse);
    collect(s, range, result.publications);
    return result;
  }

  // The history_remove API: drops the channel's publications but keeps its
  // position, as Centrifugo's memory engine (stream.Clear()) does, so
  // clients at the top still recover and offsets go on increasing.
  void remove(const std::string& channel) {
    auto it = streams_.find(channel);
    if (it != streams_.end()) {
      drop_publications(it->second);
    }
  }

  // Applies every expiry due at `now`: frees expired streams' publications
  // and forgets channels idle for meta_ttl. Returns how many channels were
  // forgotten. The owner calls it periodically so that channels nobody
  // touches again release their memory.
  std::size_t sweep(time_point now) {
    std::size_t forgotten = 0;
    while (!by_use_.empty() && meta_expired(by_use_.front()->second, now)) {
      forget(*by_use_.front());
      ++forgotten;
    }
    for (auto& [ttl, queue] : by_expiry_) {
      while (!queue.empty() && now >= queue.front()->second.expire_at) {
        drop_publications(queue.front()->second);
      }
    }
    return forgotten;
  }

  // Channels with an entry (a stream or just its meta record).
  std::size_t channel_count() const { return streams_.size(); }

  // Channels forgotten to stay within max_channels, so far.
  std::uint64_t evictions() const { return evictions_; }

  // The node's epoch, as given to the constructor.
  const std::string& epoch() const { return epoch_; }

 private:
  // One channel's stream: a ring buffer of the newest `count` payloads, the
  // oldest at `head`. Offsets are contiguous (trimming and expiry only ever
  // drop the oldest), so they are computed, not stored.
  struct stream;
  using entry = std::pair<const std::string, stream>;  // a node of streams_: never moves
  using order = std::list<entry*>;

  struct stream {
    std::vector<Payload> ring;
    std::size_t head = 0;
    std::size_t count = 0;
    std::uint64_t top = 0;
    time_point expire_at{};
    time_point meta_deadline = time_point::max();
    std::string epoch;
    typename order::iterator used;       // in by_use_
    typename order::iterator expiry;     // in by_expiry_[expiry_ttl], while it holds publications
    std::chrono::seconds expiry_ttl{0};  // 0: in no expiry queue

    void push(Payload payload, std::size_t limit) {
      while (count >= limit) {
        pop_front();
      }
      if (count == ring.size()) {
        grow(limit);
      }
      ring[(head + count) % ring.size()] = std::move(payload);
      ++count;
      ++top;
    }

    void pop_front() {
      ring[head] = Payload{};  // releases the publication now, not when overwritten
      head = (head + 1) % ring.size();
      --count;
    }

    // Doubles the capacity up to `limit`, so a channel with history_size
    // 10000 that publishes rarely does not hold 10000 slots.
    void grow(std::size_t limit) {
      const std::size_t capacity = ring.size();
      std::size_t next = capacity == 0 ? 1 : capacity * 2;
      if (next > limit) {
        next = limit;
      }
      std::vector<Payload> bigger(next);
      for (std::size_t i = 0; i < count; ++i) {
        bigger[i] = std::move(ring[(head + i) % capacity]);
      }
      ring.swap(bigger);
      head = 0;
    }

    void clear() {
      std::vector<Payload>().swap(ring);
      head = 0;
      count = 0;
    }

    const Payload& at(std::uint64_t offset) const {
      const std::uint64_t first = top - count + 1;
      return ring[(head + static_cast<std::size_t>(offset - first)) % ring.size()];
    }
  };

  bool meta_expired(const stream& s, time_point now) const {
    return meta_ttl_.count() > 0 && now >= s.meta_deadline;
  }

  void expire(stream& s, time_point now) {
    if (s.count > 0 && now >= s.expire_at) {
      drop_publications(s);
    }
  }

  // A new entry for `channel`, most recently used, after forgetting the
  // least recently used one if the cap says so.
  stream& create(const std::string& channel) {
    if (max_channels_ > 0 && streams_.size() >= max_channels_ && !by_use_.empty()) {
      forget(*by_use_.front());
      ++evictions_;
    }
    auto [it, inserted] = streams_.try_emplace(channel);
    stream& s = it->second;
    s.epoch = current_epoch();
    s.used = by_use_.insert(by_use_.end(), &*it);
    return s;
  }

  // Forgets the channel completely: a later stream on it is a new one.
  void forget(entry& e) {
    stream& s = e.second;
    by_use_.erase(s.used);
    if (s.expiry_ttl.count() > 0) {
      by_expiry_[s.expiry_ttl].erase(s.expiry);
    }
    streams_.erase(e.first);  // `e` is gone from here on
    ++generation_;
  }

  // The stream's publications go; its position stays.
  void drop_publications(stream& s) {
    s.clear();
    if (s.expiry_ttl.count() > 0) {
      by_expiry_[s.expiry_ttl].erase(s.expiry);
      s.expiry_ttl = std::chrono::seconds{0};
    }
  }

  // The stream was appended to: it expires last among those of its TTL.
  void queue_expiry(stream& s, std::chrono::seconds ttl) {
    // expiry_ttl 0 means "in no queue": only append() queues, and it stores
    // only with a history TTL (history_options::enabled()).
    assert(ttl.count() > 0 && "a stream queued for expiry without a TTL");
    if (s.expiry_ttl.count() > 0) {
      by_expiry_[s.expiry_ttl].erase(s.expiry);
    }
    auto& queue = by_expiry_[ttl];
    s.expiry = queue.insert(queue.end(), *s.used);  // by_use_ holds the stream's own node
    s.expiry_ttl = ttl;
  }

  // The channel's stream after the expiries due at `now`; nullptr if it has
  // none (never had one, or was forgotten just now).
  stream* find(const std::string& channel, time_point now) {
    auto it = streams_.find(channel);
    if (it == streams_.end()) {
      return nullptr;
    }
    if (meta_expired(it->second, now)) {
      forget(*it);
      return nullptr;
    }
    expire(it->second, now);
    return &it->second;
  }

  // Appends and reads keep the meta record alive, as in Centrifugo, and
  // make the channel the most recently used.
  void touch(stream& s, time_point now) {
    if (meta_ttl_.count() > 0) {
      s.meta_deadline = history_detail::deadline_after(now, meta_ttl_);
    }
    by_use_.splice(by_use_.end(), by_use_, s.used);
  }

  stream_position top_of(stream* s, time_point now) {
    if (s == nullptr) {
      return {0, current_epoch()};
    }
    touch(*s, now);
    return {s->top, s->epoch};
  }

  static std::size_t retained(const stream* s) { return s == nullptr ? 0 : s->count; }

  static void collect(const stream* s, const history_detail::offset_range& range,
                      std::vector<publication>& out) {
    if (s == nullptr || range.count == 0) {
      return;
    }
    out.reserve(range.count);
    for (std::size_t i = 0; i < range.count; ++i) {
      const std::uint64_t offset = range.reverse ? range.first - i : range.first + i;
      out.push_back(publication{offset, s->at(offset)});
    }
  }

  // Streams created after a channel was forgotten get a new epoch, so that
  // a client holding a position in the forgotten stream is never told it
  // recovered from the new one, whose offsets start again at 1.
  std::string current_epoch() const {
    return history_detail::epoch_for_generation(epoch_, generation_);
  }

  std::unordered_map<std::string, stream> streams_;
  // Every entry, least recently used first: meta_ttl is the same for all,
  // so this is also the order of their meta deadlines.
  order by_use_;
  // Per history TTL, the streams holding publications, in the order they
  // expire (of their last append).
  std::map<std::chrono::seconds, order> by_expiry_;
  std::string epoch_;
  std::chrono::seconds meta_ttl_;
  std::size_t max_channels_;
  std::uint64_t generation_ = 0;  // channels forgotten so far
  std::uint64_t evictions_ = 0;
};

}  // namespace herald::core
