#include "herald/net/server.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include "listener.hpp"
#include "server_context.hpp"
#include "stats_publisher.hpp"
#include "websocket_session.hpp"
#include "write_scheduler.hpp"

namespace herald::net {

namespace asio = boost::asio;

struct server::impl {
  impl(const core::settings& s, actors::hub& h) : settings(s), hub(h) {}

  const core::settings& settings;
  actors::hub& hub;
  std::unique_ptr<server_context> ctx;
  // One io_context per worker thread (concurrency hint 1): a connection
  // lives on one thread, so its handlers need no strand and no lock.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  // One per context, bound to its thread while it runs. They outlive the
  // threads: actors may still hand deliveries over until hub.stop(), after
  // the threads are gone (those are dropped with the scheduler).
  std::vector<std::unique_ptr<write_scheduler>> schedulers;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  std::shared_ptr<listener> acceptor;
  std::string endpoint_text;
  std::string node_name = "herald";
  std::shared_ptr<stats_publisher> stats;

  void stop_threads() {
    guards.clear();
    for (auto& context : contexts) {
      context->stop();
    }
    for (auto& thread : threads) {
      thread.join();
    }
    threads.clear();
  }

  ~impl() {
    stop_threads();
    // Sessions still referenced by pending handlers are destroyed with
    // their io_context, before the server_context they point to.
    acceptor.reset();
    // What the inboxes still hold (sessions among it) goes first, while
    // the sessions' contexts still exist.
    schedulers.clear();
    contexts.clear();
  }
};

server::server(const core::settings& settings, actors::hub& hub)
    : impl_(std::make_unique<impl>(settings, hub)) {}

server::~server() = default;

std::string server::start() {
  auto& self = *impl_;
  std::error_code fs_ec;
  auto root = std::filesystem::canonical(self.settings.static_dir, fs_ec);
  if (fs_ec) {
    return "herald: config: static-dir: '" + self.settings.static_dir + "': " + fs_ec.message();
  }
  self.ctx.reset(new server_context{self.settings,
                                    root,
                                    self.hub,
                                    {},
                                    {},
                                    {},
                                    core::token_verifier{self.settings.token_hmac_secret}});
  if (self.settings.dashboard) {
    self.ctx->dashboard = std::make_unique<dashboard_access>(self.settings.dashboard_password);
  }

  const unsigned workers = core::effective_workers(self.settings);
  std::vector<asio::io_context*> raw_contexts;
  for (unsigned i = 0; i < workers; ++i) {
    self.contexts.push_back(std::make_unique<asio::io_context>(1));
    self.schedulers.push_back(std::make_unique<write_scheduler>(*self.contexts.back()));
    raw_contexts.push_back(self.contexts.back().get());
    self.guards.push_back(asio::make_work_guard(*self.contexts.back()));
  }

  boost::beast::error_code ec;
  const auto address = asio::ip::make_address(self.settings.address, ec);
  if (ec) {
    return "herald: config: address: " + ec.message();
  }
  self.acceptor = std::make_shared<listener>(*self.contexts.front(), raw_contexts, *self.ctx);
  ec = self.acceptor->open({address, self.settings.port});
  if (ec) {
    return "herald: cannot listen on " + self.settings.address + ":" +
           std::to_string(self.settings.port) + ": " + ec.message();
  }
  const auto bound = self.acceptor->local_endpoint();
  self.endpoint_text = bound.address().to_string() + ":" + std::to_string(bound.port());
  self.acceptor->run();
  if (self.settings.dashboard) {
    self.stats =
        std::make_shared<stats_publisher>(*self.contexts.front(), *self.ctx, self.node_name);
    self.stats->start();
  }
  for (std::size_t i = 0; i < self.contexts.size(); ++i) {
    self.threads.emplace_back([ctx = self.contexts[i].get(), scheduler = self.schedulers[i].get()] {
      // The thread's sessions are made on it and take its scheduler.
      const write_scheduler::binding bound(*scheduler);
      ctx->run();
    });
  }
  return {};
}

void server::set_node_name(std::string name) {
  impl_->node_name = std::move(name);
}

std::string server::local_endpoint() const {
  return impl_->endpoint_text;
}

void server::shutdown() {
  auto& self = *impl_;
  if (!self.ctx) {
    return;
  }
  auto& sessions = self.ctx->sessions;
  self.ctx->draining.store(true);
  if (self.stats) {
    self.stats->stop();
  }
  for (auto& session : sessions.snapshot()) {
    session->begin_shutdown();
  }
  const auto deadline = std::chrono::steady_clock::now() + self.settings.shutdown_timeout;
  if (!sessions.wait_empty_until(deadline)) {
    for (auto& session : sessions.snapshot()) {
      session->abort();
    }
    sessions.wait_empty_until(std::chrono::steady_clock::now() + std::chrono::seconds{2});
  }
  self.acceptor->stop();
  self.stop_threads();
}

}  // namespace herald::net
