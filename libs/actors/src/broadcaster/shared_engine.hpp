#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include <caf/actor_cast.hpp>

#include "engine.hpp"
#include "herald/actors/broadcast_counters.hpp"
#include "herald/actors/messages.hpp"
#include "herald/redis/redis_engine.hpp"

namespace herald::actors::broadcaster_parts {

// Several nodes on Redis: the channel_engine seam over redis::redis_engine.
// The Redis engine's results come back on its own thread; they queue here
// and reach the broadcaster as one engine_atom per batch, whose handler
// runs them (run_queued) in the order they came.
class shared_engine final : public channel_engine {
 public:
  shared_engine(redis::engine_settings settings, receiver to_broadcaster,
                std::shared_ptr<broadcast_counters> counters, std::chrono::seconds meta_ttl,
                caf::actor_addr broadcaster);
  ~shared_engine() override;

  // The broadcaster's engine_atom: runs what the Redis engine queued.
  void run_queued();

  bool shared() const override { return true; }
  void publish(const std::string& channel, core::publication_ptr publication,
               const core::history_options& history,
               std::function<void(std::optional<core::stream_position>)> done) override;
  void watch(const std::string& channel, std::function<void(bool)> done) override;
  void unwatch(const std::string& channel) override;
  void sync(const std::string& channel, std::function<void(bool)> done) override;
  void position(const std::string& channel,
                std::function<void(std::optional<core::stream_position>)> done) override;
  void recover(const std::string& channel, std::uint64_t since_offset,
               const std::string& since_epoch, std::size_t max_publications,
               std::function<void(std::optional<core::recovery_result<core::publication_ptr>>)>
                   done) override;
  void history(const std::string& channel, const std::optional<core::stream_position>& since,
               std::int64_t limit, bool reverse,
               std::function<void(std::optional<core::history_result<core::publication_ptr>>)> done)
      override;
  void remove_history(const std::string& channel, std::function<void(bool)> done) override;
  void join(const std::string& channel, const std::string& client_id, const core::client_info& info,
            bool announce, std::function<void(std::optional<bool>)> done) override;
  void leave(const std::string& channel, const std::string& client_id, bool announce) override;
  void presence(
      const std::string& channel,
      std::function<void(std::optional<core::presence_registry::shared_client_map>)> done) override;
  void presence_stats(const std::string& channel,
                      std::function<void(std::optional<core::presence_stats>)> done) override;
  void control(core::control_message message) override;
  void tick() override;

 private:
  // Work from the Redis engine's thread, for the broadcaster's.
  struct work_queue {
    std::mutex lock;
    std::vector<std::function<void()>> items;
  };

  void received(const std::string& channel, core::engine_message&& message);

  receiver to_broadcaster_;
  std::shared_ptr<broadcast_counters> counters_;
  std::chrono::seconds meta_ttl_;
  std::shared_ptr<work_queue> queue_ = std::make_shared<work_queue>();
  std::vector<std::function<void()>> running_;  // run_queued's batch, reused
  // The last position seen per positioned channel this node watches: a
  // publication that does not follow it means some were missed.
  std::unordered_map<std::string, core::stream_position> last_seen_;
  // The channels watched: only theirs are tracked in last_seen_ (messages
  // still in flight after an unwatch are not).
  std::unordered_set<std::string> watched_;
  std::uint64_t interruptions_ = 0;
  std::unique_ptr<redis::redis_engine> redis_;  // last: stopped first
};

}  // namespace herald::actors::broadcaster_parts
