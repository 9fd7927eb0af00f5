#include "stats_publisher.hpp"

#include <boost/asio/post.hpp>

#include "herald/core/dashboard.hpp"
#include "herald/core/stats_document.hpp"
#include "server_metrics.hpp"

namespace herald::net {
namespace {

constexpr std::chrono::seconds period{1};

}  // namespace

stats_publisher::stats_publisher(boost::asio::io_context& io, server_context& ctx,
                                 std::string node_name)
    : timer_(io), ctx_(ctx), node_name_(std::move(node_name)) {}

void stats_publisher::start() {
  previous_ = snapshot_metrics(ctx_);
  previous_at_ = std::chrono::steady_clock::now();
  next_ = previous_at_;
  schedule();
}

void stats_publisher::stop() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->timer_.cancel(); });
}

void stats_publisher::schedule() {
  // On a fixed beat, not a second after the last publication: a slow tick
  // does not shift every later one.
  next_ += period;
  const auto now = std::chrono::steady_clock::now();
  if (next_ < now) {
    next_ = now;
  }
  timer_.expires_at(next_);
  timer_.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) { self->on_tick(ec); });
}

void stats_publisher::on_tick(boost::system::error_code ec) {
  if (ec || ctx_.draining.load()) {
    return;
  }
  const auto current = snapshot_metrics(ctx_);
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - previous_at_).count();
  const auto unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  std::vector<core::server_api::command_slot> commands;
  commands.emplace_back(core::server_api::request{core::server_api::publish_request{
      std::string{core::dashboard_channel},
      core::encode_stats_document(node_name_, unix_ms, previous_, current, elapsed), true}});
  // The reply (the publication's offset, or an error while Redis is down)
  // tells the dashboard nothing it does not see: the next document comes
  // anyway.
  ctx_.hub.call_api(actors::api_call{std::move(commands), [](std::string) {}});
  previous_ = current;
  previous_at_ = now;
  schedule();
}

}  // namespace herald::net
