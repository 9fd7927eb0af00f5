#include "herald/redis/redis_engine.hpp"

#include <pthread.h>

#include <array>
#include <cassert>
#include <cstdio>
#include <deque>
#include <random>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "connection.hpp"
#include "herald/core/redis_keys.hpp"
#include "herald/core/shard_hash.hpp"
#include "herald/log/log.hpp"
#include "scripts.hpp"

namespace herald::redis {
namespace {

namespace asio = boost::asio;
using core::resp_value;

// What sync()'s PINGs carry, to tell their pongs from the keep-alive's.
constexpr std::string_view sync_marker = "herald-sync";

// Channels per SUBSCRIBE when a shard comes back (Centrifugo's batch).
constexpr std::size_t resubscribe_batch = 512;

enum script_id : std::size_t {
  publish_script,
  read_stream_script,
  presence_add_script,
  presence_remove_script,
  presence_get_script,
  presence_stats_script,
  script_count
};

// A function, not a table: the scripts are strings of another translation
// unit, made at its static initialization.
std::string_view script_body(script_id id) {
  switch (id) {
    case publish_script:
      return scripts::publish;
    case read_stream_script:
      return scripts::read_stream;
    case presence_add_script:
      return scripts::presence_add;
    case presence_remove_script:
      return scripts::presence_remove;
    case presence_get_script:
      return scripts::presence_get;
    case presence_stats_script:
    case script_count:
      break;
  }
  return scripts::presence_stats;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string seconds_text(std::chrono::seconds seconds) {
  return std::to_string(seconds.count());
}

std::uint64_t unix_now() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace

struct redis_engine::impl {
  struct subscription {
    bool confirmed = false;
    std::vector<std::function<void(bool)>> waiters;
  };

  struct shard {
    server_address address;
    std::unique_ptr<connection> commands;
    std::unique_ptr<connection> pubsub;
    std::unordered_map<std::string, subscription> wanted;  // by pub/sub channel
    // SUBSCRIBEs sent and not yet confirmed, by pub/sub channel: a channel
    // unsubscribed and subscribed again is confirmed by the last one.
    std::unordered_map<std::string, int> confirms_due;
    std::array<std::string, script_count> shas;  // empty until SCRIPT LOAD answered
    bool commands_up = false;
    bool pubsub_up = false;
    // The last reason logged per connection while it stays down: a Redis
    // that is away for an hour is one line per connection, not one per
    // retry (every 3 s), unless the reason changes.
    std::string commands_down_reason;
    std::string pubsub_down_reason;
    // sync() calls waiting for their PING's pong on the pub/sub connection.
    std::deque<std::function<void(bool)>> sync_waiters;
  };

  impl(engine_settings settings_in, executor run_on_owner_in, events on_in)
      : settings(std::move(settings_in)),
        run_on_owner(std::move(run_on_owner_in)),
        on(std::move(on_in)),
        keys(settings.prefix),
        work(asio::make_work_guard(io)),
        presence_timer(io),
        figures_timer(io),
        epochs(std::random_device{}()) {
    for (const auto& address : settings.shards) {
      auto& s = *shards.emplace_back(std::make_unique<shard>());
      s.address = address;
      connection_settings connect{address,
                                  settings.user,
                                  settings.password,
                                  settings.db,
                                  settings.connect_timeout,
                                  settings.io_timeout};
      s.commands = std::make_unique<connection>(
          io, connect,
          connection::callbacks{[this, &s] { commands_ready(s); },
                                [this, &s](const std::string& why) { lost(s, "commands", why); },
                                nullptr, nullptr});
      s.pubsub = std::make_unique<connection>(
          io, connect,
          connection::callbacks{[this, &s] { pubsub_ready(s); },
                                [this, &s](const std::string& why) { pubsub_lost(s, why); },
                                [this, &s](resp_value&& push) { received(s, std::move(push)); },
                                nullptr});
    }
    thread = std::thread([this] {
      pthread_setname_np(pthread_self(), "herald-redis");
      for (auto& s : shards) {
        s->commands->start();
        s->pubsub->start();
      }
      refresh_presence_later();
      update_figures_later();
      io.run();
    });
  }

  ~impl() {
    asio::post(io, [this] {
      // A timer that had expired already still runs its handler after
      // cancel(): the flag keeps it from arming itself again.
      stopping = true;
      for (auto& s : shards) {
        s->commands->stop();
        s->pubsub->stop();
      }
      presence_timer.cancel();
      figures_timer.cancel();
      work.reset();
    });
    thread.join();
  }

  // --- to the owner, in order, one executor call per turn of the loop ---

  void to_owner(std::function<void()> work_item) {
    owner_work.push_back(std::move(work_item));
    if (!owner_flush_posted) {
      owner_flush_posted = true;
      asio::post(io, [this] {
        owner_flush_posted = false;
        auto batch = std::move(owner_work);
        owner_work.clear();
        run_on_owner([batch = std::move(batch)] {
          for (const auto& item : batch) {
            item();
          }
        });
      });
    }
  }

  // --- shards and their connections ---

  shard& shard_for(std::string_view channel) {
    return *shards[core::shard_of(channel, shards.size())];
  }

  void commands_ready(shard& s) {
    s.commands_up = true;
    s.commands_down_reason.clear();
    s.shas = {};
    for (std::size_t id = 0; id < script_count; ++id) {
      s.commands->command(
          encode_command({"SCRIPT", "LOAD", script_body(static_cast<script_id>(id))}),
          [&s, id](std::optional<resp_value> reply) {
            if (reply && reply->is_string()) {
              s.shas[id] = std::move(reply->text);
            }
          });
    }
    log_state(s, "commands");
    update_up();
  }

  void lost(shard& s, const char* which, const std::string& why) {
    s.commands_up = false;
    log_lost(s, which, why, s.commands_down_reason);
    update_up();
  }

  void pubsub_ready(shard& s) {
    s.pubsub_up = true;
    s.pubsub_down_reason.clear();
    s.confirms_due.clear();
    std::vector<std::string> channels;
    channels.reserve(s.wanted.size() + 1);
    channels.push_back(keys.control());
    for (const auto& [name, state] : s.wanted) {
      channels.push_back(name);
    }
    for (std::size_t from = 0; from < channels.size(); from += resubscribe_batch) {
      std::vector<std::string_view> command{"SUBSCRIBE"};
      const std::size_t to = std::min(channels.size(), from + resubscribe_batch);
      for (std::size_t i = from; i < to; ++i) {
        command.push_back(channels[i]);
        ++s.confirms_due[channels[i]];
      }
      s.pubsub->send(encode_command(command));
    }
    log_state(s, "pub/sub");
    update_up();
  }

  void pubsub_lost(shard& s, const std::string& why) {
    s.pubsub_up = false;
    s.confirms_due.clear();
    for (auto& waiter : s.sync_waiters) {
      to_owner([waiter = std::move(waiter)] { waiter(false); });
    }
    s.sync_waiters.clear();
    std::vector<std::string> interrupted;
    for (auto& [name, state] : s.wanted) {
      if (state.confirmed) {
        if (auto channel = keys.channel_of_pubsub(name)) {
          interrupted.emplace_back(*channel);
        }
      }
      state.confirmed = false;
      for (auto& waiter : state.waiters) {
        to_owner([waiter = std::move(waiter)] { waiter(false); });
      }
      state.waiters.clear();
    }
    if (!interrupted.empty() && on.interrupted) {
      to_owner([this, interrupted = std::move(interrupted)]() mutable {
        on.interrupted(std::move(interrupted));
      });
    }
    log_lost(s, "pub/sub", why, s.pubsub_down_reason);
    update_up();
  }

  void received(shard& s, resp_value&& push) {
    auto event = core::parse_pubsub_event(std::move(push));
    if (!event) {
      return;  // not what a subscribed connection receives: ignored
    }
    using kind = core::pubsub_event::kind;
    if (event->what == kind::subscribed) {
      auto due = s.confirms_due.find(event->channel);
      if (due != s.confirms_due.end() && --due->second <= 0) {
        s.confirms_due.erase(due);
        auto wanted = s.wanted.find(event->channel);
        if (wanted != s.wanted.end() && !wanted->second.confirmed) {
          wanted->second.confirmed = true;
          for (auto& waiter : wanted->second.waiters) {
            to_owner([waiter = std::move(waiter)] { waiter(true); });
          }
          wanted->second.waiters.clear();
        }
      }
      return;
    }
    if (event->what == kind::pong) {
      // Keep-alive PINGs carry no message; sync()'s carry sync_marker.
      if (event->channel == sync_marker && !s.sync_waiters.empty()) {
        auto waiter = std::move(s.sync_waiters.front());
        s.sync_waiters.pop_front();
        to_owner([waiter = std::move(waiter)] { waiter(true); });
      }
      return;
    }
    if (event->what != kind::message) {
      return;
    }
    if (event->channel == keys.control()) {
      if (auto message = core::decode_control_message(event->payload); message && on.control) {
        to_owner(
            [this, message = std::move(*message)]() mutable { on.control(std::move(message)); });
      }
      return;
    }
    auto channel = keys.channel_of_pubsub(event->channel);
    if (!channel) {
      return;
    }
    auto message = core::decode_engine_message(event->payload);
    if (!message) {
      ++malformed;
      return;  // another program's message on our channel: not ours to deliver
    }
    if (on.message) {
      to_owner([this, channel = std::string{*channel}, message = std::move(*message)]() mutable {
        on.message(channel, std::move(message));
      });
    }
  }

  void update_up() {
    bool all = true;
    for (const auto& s : shards) {
      all = all && s->commands_up && s->pubsub_up;
    }
    figures.up.store(all, std::memory_order_relaxed);
  }

  void log_state(const shard& s, const char* what) {
    log::info("redis connection up", {{"server", s.address.text()}, {"connection", what}});
  }

  void log_lost(const shard& s, const char* which, const std::string& why,
                std::string& last_logged) {
    if (why == last_logged) {
      return;
    }
    last_logged = why;
    log::warn("redis connection down, retrying with backoff",
              {{"server", s.address.text()}, {"connection", which}, {"reason", why}});
  }

  // --- commands ---

  // Runs script `id` with `keys_and_args` (the number of keys first).
  void run_script(shard& s, script_id id, std::size_t key_count,
                  const std::vector<std::string_view>& keys_and_args,
                  std::function<void(std::optional<resp_value>)> done) {
    const bool loaded = !s.shas[id].empty();
    std::vector<std::string_view> command{loaded ? "EVALSHA" : "EVAL",
                                          loaded ? std::string_view{s.shas[id]} : script_body(id)};
    const std::string count = std::to_string(key_count);
    command.push_back(count);
    command.insert(command.end(), keys_and_args.begin(), keys_and_args.end());
    s.commands->command(encode_command(command),
                        [&s, id, done = std::move(done)](std::optional<resp_value> reply) {
                          if (reply && reply->is_error() && starts_with(reply->text, "NOSCRIPT")) {
                            s.shas[id].clear();  // flushed: EVAL until loaded again
                          }
                          done(std::move(reply));
                        });
  }

  std::string new_epoch() {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(epochs()));
    return text;
  }

  void refresh_presence_later() {
    presence_timer.expires_after(std::max(std::chrono::seconds{1}, settings.presence_ttl / 3));
    presence_timer.async_wait([this](const boost::system::error_code& error) {
      if (error || stopping) {
        return;
      }
      for (const auto& [channel, clients] : present) {
        for (const auto& [client_id, info] : clients) {
          add_presence_now(channel, client_id, info, false, nullptr);
        }
      }
      refresh_presence_later();
    });
  }

  void add_presence_now(const std::string& channel, const std::string& client_id,
                        const core::client_info& info, bool announce,
                        std::function<void(std::optional<bool>)> done) {
    shard& s = shard_for(channel);
    const std::string ttl = seconds_text(settings.presence_ttl);
    const std::string expires =
        std::to_string(unix_now() + static_cast<std::uint64_t>(settings.presence_ttl.count()));
    const std::string pubsub = announce ? keys.pubsub(channel) : std::string{};
    const std::string join =
        announce ? core::encode_presence_change({true, client_id, info}) : std::string{};
    const std::string encoded_info = core::encode_client_info(info);
    run_script(
        s, presence_add_script, 3,
        {keys.presence_data(channel), keys.presence_expire(channel), keys.presence_users(channel),
         client_id, encoded_info, info.user, expires, ttl, pubsub, join},
        [this, done = std::move(done)](std::optional<resp_value> reply) {
          if (!done) {
            return;
          }
          std::optional<bool> is_new;
          if (reply && reply->type == resp_value::kind::integer) {
            is_new = reply->integer == 1;
          }
          to_owner([done, is_new] { done(is_new); });
        });
  }

  void update_figures_later() {
    figures_timer.expires_after(std::chrono::milliseconds{500});
    figures_timer.async_wait([this](const boost::system::error_code& error) {
      if (error || stopping) {
        return;
      }
      std::uint64_t reconnects = 0;
      std::uint64_t commands = 0;
      std::uint64_t writes = 0;
      std::uint64_t round_trip = 0;
      for (const auto& s : shards) {
        reconnects += s->commands->reconnects() + s->pubsub->reconnects();
        commands += s->commands->commands() + s->pubsub->commands();
        writes += s->commands->writes() + s->pubsub->writes();
        round_trip = std::max(round_trip, s->commands->round_trip_us());
      }
      figures.reconnects.store(reconnects, std::memory_order_relaxed);
      figures.commands.store(commands, std::memory_order_relaxed);
      figures.writes.store(writes, std::memory_order_relaxed);
      figures.round_trip_us.store(round_trip, std::memory_order_relaxed);
      update_figures_later();
    });
  }

  engine_settings settings;
  executor run_on_owner;
  events on;
  core::redis_keys keys;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::vector<std::unique_ptr<shard>> shards;
  // This node's presence entries, refreshed before they expire.
  std::unordered_map<std::string, std::unordered_map<std::string, core::client_info>> present;
  asio::steady_timer presence_timer;
  asio::steady_timer figures_timer;
  std::mt19937_64 epochs;
  std::vector<std::function<void()>> owner_work;
  bool owner_flush_posted = false;
  bool stopping = false;
  std::uint64_t malformed = 0;
  engine_figures figures;
  std::thread thread;
};

redis_engine::redis_engine(engine_settings settings, executor run_on_owner, events on) {
  assert(!settings.shards.empty() && "a Redis engine without an address");
  impl_ = std::make_unique<impl>(std::move(settings), std::move(run_on_owner), std::move(on));
}

redis_engine::~redis_engine() = default;

const engine_figures& redis_engine::figures() const {
  return impl_->figures;
}

void redis_engine::publish(const std::string& channel, const core::publication& item,
                           const core::history_options& history, std::chrono::seconds meta_ttl,
                           std::function<void(std::optional<core::stream_position>)> done) {
  asio::post(impl_->io, [self_ptr = impl_.get(), channel,
                         payload = core::encode_publication_payload(item), history, meta_ttl,
                         done = std::move(done)]() mutable {
    auto& self = *self_ptr;
    impl::shard& s = self.shard_for(channel);
    auto finish = [&self, done = std::move(done)](std::optional<core::stream_position> position) {
      if (!position) {
        self.figures.publish_errors.fetch_add(1, std::memory_order_relaxed);
      }
      self.to_owner([done, position = std::move(position)] { done(position); });
    };
    if (!history.enabled()) {
      s.commands->command(
          encode_command({"PUBLISH", self.keys.pubsub(channel), "__p1:0:__" + payload}),
          [finish = std::move(finish)](std::optional<resp_value> reply) {
            finish(reply && reply->type == resp_value::kind::integer
                       ? std::optional<core::stream_position>{core::stream_position{}}
                       : std::nullopt);
          });
      return;
    }
    self.run_script(s, publish_script, 2,
                    {self.keys.stream(channel), self.keys.stream_meta(channel), payload,
                     std::to_string(history.size), seconds_text(history.ttl),
                     self.keys.pubsub(channel), seconds_text(meta_ttl), self.new_epoch()},
                    [finish = std::move(finish)](std::optional<resp_value> reply) {
                      finish(reply ? core::parse_stream_position(*reply) : std::nullopt);
                    });
  });
}

void redis_engine::subscribe(const std::string& channel, std::function<void(bool)> done) {
  asio::post(impl_->io, [self_ptr = impl_.get(), channel, done = std::move(done)]() mutable {
    auto& self = *self_ptr;
    impl::shard& s = self.shard_for(channel);
    const std::string name = self.keys.pubsub(channel);
    auto [wanted, inserted] = s.wanted.try_emplace(name);
    if (wanted->second.confirmed) {
      self.to_owner([done = std::move(done)] { done(true); });
      return;
    }
    if (!s.pubsub_up) {
      // Kept as wanted: if the owner keeps it, it is subscribed when the
      // shard is back; the owner unsubscribes what it does not keep.
      self.to_owner([done = std::move(done)] { done(false); });
      return;
    }
    wanted->second.waiters.push_back(std::move(done));
    if (inserted || s.confirms_due.count(name) == 0) {
      ++s.confirms_due[name];
      s.pubsub->send(encode_command({"SUBSCRIBE", name}));
    }
  });
}

void redis_engine::sync(const std::string& channel, std::function<void(bool)> done) {
  asio::post(impl_->io, [self_ptr = impl_.get(), channel, done = std::move(done)]() mutable {
    auto& self = *self_ptr;
    impl::shard& s = self.shard_for(channel);
    if (!s.pubsub_up) {
      self.to_owner([done = std::move(done)] { done(false); });
      return;
    }
    s.sync_waiters.push_back(std::move(done));
    s.pubsub->send(encode_command({"PING", sync_marker}));
  });
}

void redis_engine::unsubscribe(const std::string& channel) {
  asio::post(impl_->io, [self_ptr = impl_.get(), channel] {
    auto& self = *self_ptr;
    impl::shard& s = self.shard_for(channel);
    const std::string name = self.keys.pubsub(channel);
    auto wanted = s.wanted.find(name);
    if (wanted == s.wanted.end()) {
      return;
    }
    for (auto& waiter : wanted->second.waiters) {
      self.to_owner([waiter = std::move(waiter)] { waiter(false); });
    }
    s.wanted.erase(wanted);
    if (s.pubsub_up) {
      s.pubsub->send(encode_command({"UNSUBSCRIBE", name}));
    }
  });
}

void redis_engine::read_stream(const std::string& channel, const stream_query& query,
                               std::chrono::seconds meta_ttl, std::size_t max_entries,
                               std::function<void(std::optional<core::stream_read>)> done) {
  asio::post(impl_->io, [self_ptr = impl_.get(), channel, query, meta_ttl, max_entries,
                         done = std::move(done)]() mutable {
    auto& self = *self_ptr;
    const std::string since = query.since ? std::to_string(*query.since) : std::string{"-"};
    self.run_script(self.shard_for(channel), read_stream_script, 2,
                    {self.keys.stream(channel), self.keys.stream_meta(channel),
                     query.with_publications ? "1" : "0", since, std::to_string(query.limit),
                     query.reverse ? "1" : "0", seconds_text(meta_ttl), self.new_epoch()},
                    [&self, max_entries, done = std::move(done)](std::optional<resp_value> reply) {
                      auto read =
                          reply ? core::parse_stream_read(*reply, max_entries) : std::nullopt;
                      self.to_owner([done, read = std::move(read)] { done(read); });
                    });
  });
}

void redis_engine::remove_history(const std::string& channel, std::function<void(bool)> done) {
  asio::post(impl_->io, [self_ptr = impl_.get(), channel, done = std::move(done)]() mutable {
    auto& self = *self_ptr;
    self.shard_for(channel).commands->command(
        encode_command({"DEL", self.keys.stream(channel)}),
        [&self, done = std::move(done)](std::optional<resp_value> reply) {
          const bool removed = reply && reply->type == resp_value::kind::integer;
          self.to_owner([done, removed] { done(removed); });
        });
  });
}

void redis_engine::add_presence(const std::string& channel, const std::string& client_id,
                                const core::client_info& info, bool announce,
                                std::function<void(std::optional<bool>)> done) {
  asio::post(impl_->io, [self_ptr = impl_.get(), channel, client_id, info, announce,
                         done = std::move(done)]() mutable {
    self_ptr->present[channel][client_id] = info;
    self_ptr->add_presence_now(channel, client_id, info, announce, std::move(done));
  });
}

void redis_engine::remove_presence(const std::string& channel, const std::string& client_id,
                                   bool announce) {
  asio::post(impl_->io, [self_ptr = impl_.get(), channel, client_id, announce] {
    auto& self = *self_ptr;
    auto present = self.present.find(channel);
    if (present == self.present.end()) {
      return;  // not here: a channel without presence
    }
    auto entry = present->second.find(client_id);
    if (entry == present->second.end()) {
      return;
    }
    const core::client_info info = std::move(entry->second);
    present->second.erase(entry);
    if (present->second.empty()) {
      self.present.erase(present);
    }
    const std::string pubsub = announce ? self.keys.pubsub(channel) : std::string{};
    const std::string leave =
        announce ? core::encode_presence_change({false, client_id, info}) : std::string{};
    self.run_script(self.shard_for(channel), presence_remove_script, 3,
                    {self.keys.presence_data(channel), self.keys.presence_expire(channel),
                     self.keys.presence_users(channel), client_id, pubsub, leave},
                    [](std::optional<resp_value>) {});
  });
}

void redis_engine::presence(
    const std::string& channel,
    std::function<void(std::optional<std::unordered_map<std::string, core::client_info>>)> done) {
  asio::post(impl_->io, [self_ptr = impl_.get(), channel, done = std::move(done)]() mutable {
    auto& self = *self_ptr;
    self.run_script(self.shard_for(channel), presence_get_script, 3,
                    {self.keys.presence_data(channel), self.keys.presence_expire(channel),
                     self.keys.presence_users(channel), std::to_string(unix_now())},
                    [&self, done = std::move(done)](std::optional<resp_value> reply) {
                      auto clients = reply ? core::parse_presence(*reply) : std::nullopt;
                      self.to_owner([done, clients = std::move(clients)] { done(clients); });
                    });
  });
}

void redis_engine::presence_stats(const std::string& channel,
                                  std::function<void(std::optional<core::presence_stats>)> done) {
  asio::post(impl_->io, [self_ptr = impl_.get(), channel, done = std::move(done)]() mutable {
    auto& self = *self_ptr;
    self.run_script(self.shard_for(channel), presence_stats_script, 3,
                    {self.keys.presence_data(channel), self.keys.presence_expire(channel),
                     self.keys.presence_users(channel), std::to_string(unix_now())},
                    [&self, done = std::move(done)](std::optional<resp_value> reply) {
                      auto stats = reply ? core::parse_presence_stats(*reply) : std::nullopt;
                      self.to_owner([done, stats] { done(stats); });
                    });
  });
}

void redis_engine::send_control(const core::control_message& message) {
  asio::post(impl_->io, [self_ptr = impl_.get(), encoded = core::encode_control_message(message)] {
    auto& self = *self_ptr;
    // Every node listens on every shard: the first one up carries it.
    for (auto& s : self.shards) {
      if (s->commands_up) {
        s->commands->command(encode_command({"PUBLISH", self.keys.control(), encoded}), nullptr);
        return;
      }
    }
  });
}

}  // namespace herald::redis
