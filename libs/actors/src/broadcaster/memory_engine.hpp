#pragma once

#include <chrono>
#include <memory>

#include "engine.hpp"
#include "herald/actors/broadcast_counters.hpp"

namespace herald::actors::broadcaster_parts {

// One node's channels in its own memory: core::channel_history and
// core::presence_registry, answered at once. Publications go straight to
// the receiver; control messages too, since this node is the only one.
class memory_engine final : public channel_engine {
 public:
  memory_engine(receiver to_broadcaster, std::shared_ptr<broadcast_counters> counters,
                std::chrono::seconds meta_ttl, std::size_t max_channels);

  bool shared() const override { return false; }
  void publish(const std::string& channel, core::publication_ptr publication,
               const core::history_options& history,
               std::function<void(std::optional<core::stream_position>)> done) override;
  void watch(const std::string&, std::function<void(bool)> done) override { done(true); }
  void unwatch(const std::string&) override {}
  void sync(const std::string&, std::function<void(bool)> done) override { done(true); }
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
  receiver to_broadcaster_;
  std::shared_ptr<broadcast_counters> counters_;
  // The epoch is new with every start, so a client's position from an
  // earlier run is never taken as recoverable.
  core::channel_history<core::publication_ptr> history_{core::make_epoch()};
  core::presence_registry presence_;
  // When a line last said history-max-channels bit, and the evictions then.
  std::chrono::steady_clock::time_point evictions_reported_{};
  std::uint64_t evictions_at_report_ = 0;
};

}  // namespace herald::actors::broadcaster_parts
