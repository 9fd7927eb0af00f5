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
#include "per_thread_counter.hpp"
#include "server_context.hpp"
#include "stats_publisher.hpp"
#include "tls_context.hpp"
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
  std::shared_ptr<tls_context> tls;        // null: no TLS
  std::shared_ptr<listener> tls_acceptor;  // tls-port's, if set
  std::string endpoint_text;
  std::string tls_endpoint_text;
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
    tls_acceptor.reset();
    // Its timer belongs to a context too: it must go before the contexts
    // (a member destroyed after this body would find its timer service
    // gone).
    stats.reset();
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
  self.ctx->inflating = inflating_input::config{self.settings.max_message_bytes,
                                                &websocket_transport::compression_failed};
  if (self.settings.dashboard) {
    self.ctx->dashboard = std::make_unique<dashboard_access>(self.settings.dashboard_password);
  }

  const unsigned workers = core::effective_workers(self.settings);
  std::vector<asio::io_context*> raw_contexts;
  for (unsigned i = 0; i < workers; ++i) {
    self.contexts.push_back(std::make_unique<asio::io_context>(1));
    self.schedulers.push_back(std::make_unique<write_scheduler>(
        *self.contexts.back(), write_deferral_limit::for_workers(workers)));
    raw_contexts.push_back(self.contexts.back().get());
    self.guards.push_back(asio::make_work_guard(*self.contexts.back()));
  }

  boost::beast::error_code ec;
  const auto address = asio::ip::make_address(self.settings.address, ec);
  if (ec) {
    return "herald: config: address: " + ec.message();
  }
  if (!self.settings.tls_cert.empty()) {
    std::vector<std::string> warnings;  // check_tls_files reported them
    auto loaded = tls_context::load(self.settings, warnings);
    if (auto* error = std::get_if<core::config_error>(&loaded)) {
      return error->line();
    }
    self.tls = std::get<std::shared_ptr<tls_context>>(std::move(loaded));
  }
  const bool separate_tls_port = self.tls && self.settings.tls_port != 0;
  const auto open = [&](std::shared_ptr<listener>& slot, std::uint16_t port,
                        std::shared_ptr<const tls_context> tls,
                        std::string& endpoint_text) -> std::string {
    slot =
        std::make_shared<listener>(*self.contexts.front(), raw_contexts, *self.ctx, std::move(tls));
    if (auto open_ec = slot->open({address, port})) {
      return "herald: cannot listen on " + self.settings.address + ":" + std::to_string(port) +
             ": " + open_ec.message();
    }
    const auto bound = slot->local_endpoint();
    endpoint_text = bound.address().to_string() + ":" + std::to_string(bound.port());
    return {};
  };
  if (auto problem = open(self.acceptor, self.settings.port, separate_tls_port ? nullptr : self.tls,
                          self.endpoint_text);
      !problem.empty()) {
    return problem;
  }
  if (separate_tls_port) {
    if (auto problem =
            open(self.tls_acceptor, self.settings.tls_port, self.tls, self.tls_endpoint_text);
        !problem.empty()) {
      return problem;
    }
  } else if (self.tls) {
    self.tls_endpoint_text = self.endpoint_text;
  }
  self.acceptor->run();
  if (self.tls_acceptor) {
    self.tls_acceptor->run();
  }
  if (self.settings.dashboard) {
    self.stats =
        std::make_shared<stats_publisher>(*self.contexts.front(), *self.ctx, self.node_name);
    self.stats->start();
  }
  for (std::size_t i = 0; i < self.contexts.size(); ++i) {
    self.threads.emplace_back(
        [i, ctx = self.contexts[i].get(), scheduler = self.schedulers[i].get()] {
          // The thread's sessions are made on it and take its scheduler.
          const write_scheduler::binding bound(*scheduler);
          per_thread_counter::bind_this_thread(i + 1);
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

std::string server::tls_endpoint() const {
  return impl_->tls_endpoint_text;
}

tls_check server::reload_tls() {
  tls_check result;
  if (!impl_->tls) {
    return result;
  }
  auto outcome = impl_->tls->reload();
  if (outcome.error) {
    result.errors.push_back(std::move(*outcome.error));
  }
  result.warnings = std::move(outcome.warnings);
  return result;
}

tls_check check_tls_files(const core::settings& settings) {
  tls_check result;
  if (settings.tls_cert.empty()) {
    return result;
  }
  auto outcome = tls_context::check(settings);
  if (outcome.error) {
    result.errors.push_back(std::move(*outcome.error));
  }
  result.warnings = std::move(outcome.warnings);
  return result;
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
  if (self.tls_acceptor) {
    self.tls_acceptor->stop();
  }
  self.stop_threads();
}

}  // namespace herald::net
