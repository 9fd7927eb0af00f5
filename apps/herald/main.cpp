// herald: config -> actor system -> server -> wait for a signal -> drain.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string_view>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "herald/actors/config_file.hpp"
#include "herald/actors/hub.hpp"
#include "herald/core/dashboard.hpp"
#include "herald/core/settings.hpp"
#include "herald/core/settings_report.hpp"
#include "herald/core/settings_sources.hpp"
#include "herald/log/log.hpp"
#include "herald/net/server.hpp"
#include "herald/redis/server_address.hpp"

extern char** environ;

namespace {

constexpr int exit_config_error = 2;

void print_usage() {
  std::cout << "herald " HERALD_VERSION
               " - real-time push server\n\n"
               "Usage: herald [--config-file=PATH] [--KEY=VALUE ...]\n\n"
               "  --config-file=PATH  CAF INI file (HERALD_CONFIG_FILE); see config/herald.ini\n"
               "  --check-config      validate the configuration and exit\n"
               "  --dump-config       print the effective configuration and exit\n"
               "  --version           print the version and exit\n"
               "  --help, -h          print this help and exit\n\n"
               "Settings (also HERALD_<KEY> variables, upper case, '-' as '_'; precedence:\n"
               "flags, then environment, then the file, then these defaults):\n"
            << herald::core::options_help();
}

// Loads defaults < file < environment < flags; prints every problem.
bool load_settings(const herald::core::command_line& cli, herald::core::settings& settings) {
  const auto env = herald::core::read_environment(environ);
  std::vector<herald::core::config_error> errors;
  const auto config_file = cli.config_file ? cli.config_file : env.config_file;
  if (config_file) {
    herald::core::key_values from_file;
    if (auto problem = herald::actors::read_config_file(*config_file, from_file)) {
      std::cerr << *problem << "\n";
      return false;
    }
    auto file_errors = herald::core::apply_settings(settings, from_file);
    for (auto& error : file_errors) {
      error.message += " (in " + *config_file + ")";
      errors.push_back(std::move(error));
    }
  }
  for (auto& error : herald::core::apply_settings(settings, env.overrides)) {
    error.message += " (from the environment)";
    errors.push_back(std::move(error));
  }
  for (auto& error : herald::core::apply_settings(settings, cli.overrides)) {
    errors.push_back(std::move(error));
  }
  if (errors.empty()) {
    errors = herald::core::check_settings(settings);
  }
  for (const auto& error : errors) {
    std::cerr << error.line() << "\n";
  }
  return errors.empty();
}

// Every thread started after this inherits SCHED_BATCH: a thread woken by
// another (a CAF worker by an I/O thread's message, an I/O thread by a
// worker's post) no longer preempts it, so each runs its turn to the end.
// An I/O thread then reads every ready publication before the broadcaster
// runs, and the broadcaster's round, and with it every socket's write,
// carries all of them: on one core, S2 went from 1.07 to 0.54 us of CPU per
// delivery. Latency is unchanged while the server is not saturated, since
// nothing else waits for the core. No privilege is needed.
void prefer_throughput_scheduling() {
  sched_param param{};
  param.sched_priority = 0;
  if (sched_setscheduler(0, SCHED_BATCH, &param) != 0) {
    std::perror("herald: SCHED_BATCH not available, keeping the default scheduler");
  }
}

int wait_for_stop_signal(const sigset_t& signals) {
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  return signal_number;
}

// engine = redis: where and how to reach Redis (the settings checked the
// addresses already).
std::optional<herald::redis::engine_settings> redis_settings(
    const herald::core::settings& settings) {
  if (settings.engine != "redis") {
    return std::nullopt;
  }
  herald::redis::engine_settings redis;
  for (const auto& address : settings.redis_address) {
    redis.shards.push_back(*herald::redis::parse_server_address(address));
  }
  redis.user = settings.redis_user;
  redis.password = settings.redis_password;
  redis.db = settings.redis_db;
  redis.prefix = settings.redis_prefix;
  redis.connect_timeout = settings.redis_connect_timeout;
  redis.io_timeout = settings.redis_io_timeout;
  redis.presence_ttl = std::chrono::ceil<std::chrono::seconds>(settings.presence_ttl);
  return redis;
}

// node-name, or this host's name and the port (the process id for port 0,
// which tells nodes on one host apart too).
std::string node_name_of(const herald::core::settings& settings) {
  if (!settings.node_name.empty()) {
    return settings.node_name;
  }
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) {
    std::snprintf(host, sizeof host, "herald");
  }
  return std::string{host} + ":" +
         std::to_string(settings.port != 0 ? settings.port : static_cast<unsigned>(getpid()));
}

// log-level and log-format, checked by the settings already.
void configure_logging(const herald::core::settings& settings) {
  herald::log::options chosen;
  chosen.minimum = herald::log::parse_level(settings.log_level).value_or(chosen.minimum);
  chosen.line_format = herald::log::parse_format(settings.log_format).value_or(chosen.line_format);
  herald::log::configure(chosen);
}

// The start line: the version, where the server listens and every setting,
// secrets masked, so that a log shows what a process ran with.
void log_start(const herald::core::settings& settings, const std::string& endpoint) {
  const auto reported = herald::core::reported_settings(settings);
  std::vector<herald::log::field> fields{{"version", HERALD_VERSION}, {"listening", endpoint}};
  for (const auto& [key, value] : reported) {
    // Numbers and flags as such, so that a JSON reader gets them typed.
    using kind = herald::core::option_kind;
    const auto& options = herald::core::option_table();
    const auto option = std::find_if(options.begin(), options.end(),
                                     [&](const auto& info) { return info.name == key; });
    const auto what = option == options.end() ? kind::string : option->kind;
    if (what == kind::unsigned_integer) {
      fields.push_back({key, std::stoull(value)});
    } else if (what == kind::boolean) {
      fields.push_back({key, value == "true"});
    } else {
      fields.push_back({key, value});
    }
  }
  herald::log::write(herald::log::level::info, "herald started", fields);
}

void log_tls_warnings(const std::vector<std::string>& warnings) {
  for (const auto& warning : warnings) {
    herald::log::warn("TLS certificate", {{"warning", warning}});
  }
}

// SIGHUP: new handshakes get the files' current pair; a pair that does not
// load is logged and the one in use stays.
void reload_tls(herald::net::server& server, const herald::core::settings& settings) {
  if (server.tls_endpoint().empty()) {
    herald::log::info("SIGHUP ignored: no TLS listener");
    return;
  }
  const auto reloaded = server.reload_tls();
  log_tls_warnings(reloaded.warnings);
  for (const auto& error : reloaded.errors) {
    herald::log::error("TLS certificate not replaced, the one in use stays",
                       {{"key", error.key}, {"error", error.message}});
  }
  if (reloaded.errors.empty()) {
    herald::log::info("TLS certificate reloaded",
                      {{"tls-cert", settings.tls_cert}, {"tls-key", settings.tls_key}});
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Every thread started from here on inherits the blocked set, so the
  // signals are only ever taken by sigwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);  // reload the TLS certificate
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const auto cli = herald::core::parse_command_line(args);
  if (!cli.errors.empty()) {
    for (const auto& error : cli.errors) {
      std::cerr << error.line() << "\n";
    }
    return exit_config_error;
  }
  if (cli.help) {
    print_usage();
    return 0;
  }
  if (cli.version) {
    std::cout << "herald " HERALD_VERSION "\n";
    return 0;
  }
  herald::core::settings settings;
  if (!load_settings(cli, settings)) {
    return exit_config_error;
  }
  if (cli.dump_config) {
    std::cout << herald::core::dump_settings(settings);
    return 0;
  }
  configure_logging(settings);
  // The TLS files are read before anything binds: a certificate without
  // its key (or no certificate at all) is a config error.
  const auto tls = herald::net::check_tls_files(settings);
  log_tls_warnings(tls.warnings);
  if (!tls.errors.empty()) {
    for (const auto& error : tls.errors) {
      std::cerr << error.line() << "\n";
    }
    return exit_config_error;
  }
  if (cli.check_config) {
    std::cout << "herald: config OK\n";
    return 0;
  }

  const auto started = std::chrono::steady_clock::now();
  prefer_throughput_scheduling();
  caf::actor_system_config actor_config;
  actor_config.set("scheduler.max-threads",
                   static_cast<std::size_t>(herald::core::effective_workers(settings)));
  // CAF's idle workers poll, then sleep 50 us at a time for 500 rounds
  // before they wait on a condition variable that an enqueue signals. The
  // workers share their cores with the I/O threads, and every one of those
  // short sleeps costs two context switches, so go to the signalled wait
  // after a short spin.
  actor_config.set("work-stealing.moderate-poll-attempts", std::size_t{0});
  caf::actor_system system{actor_config};
  // One round being written per I/O thread: a thread that is done with its
  // part of a round can take the next while the others finish theirs.
  herald::actors::broadcaster_config broadcaster;
  auto namespaces = settings.namespaces;
  if (settings.dashboard) {
    herald::core::add_dashboard_namespace(namespaces);
  }
  broadcaster.namespaces = std::make_shared<const herald::core::channel_namespaces>(namespaces);
  broadcaster.history_meta_ttl =
      std::chrono::duration_cast<std::chrono::seconds>(settings.history_meta_ttl);
  broadcaster.history_max_channels = settings.history_max_channels;
  broadcaster.max_rounds_in_flight = herald::core::effective_workers(settings);
  broadcaster.redis = redis_settings(settings);
  broadcaster.node_name = node_name_of(settings);
  herald::actors::hub hub{system, std::move(broadcaster)};

  herald::net::server server{settings, hub};
  server.set_node_name(node_name_of(settings));
  if (auto problem = server.start(); !problem.empty()) {
    std::cerr << problem << "\n";
    hub.stop();
    return 1;
  }
  // The start line first: whoever waits for the listening line finds it
  // written.
  log_start(settings, server.local_endpoint());
  std::cout << "herald: listening on " << server.local_endpoint() << std::endl;
  if (const auto tls_endpoint = server.tls_endpoint(); !tls_endpoint.empty()) {
    std::cout << "herald: TLS on " << tls_endpoint << std::endl;
  }

  int signal_number = wait_for_stop_signal(stop_signals);
  while (signal_number == SIGHUP) {
    reload_tls(server, settings);
    signal_number = wait_for_stop_signal(stop_signals);
  }
  const char* const signal_name = signal_number == SIGINT ? "SIGINT" : "SIGTERM";
  std::cout << "herald: " << signal_name << ", shutting down" << std::endl;
  herald::log::info("shutting down", {{"reason", signal_name}});
  server.shutdown();
  // The I/O threads are gone; end every actor before the server's I/O
  // contexts (and the sessions in them) are destroyed at scope exit.
  hub.stop();
  system.await_all_actors_done();
  const std::chrono::duration<double> uptime = std::chrono::steady_clock::now() - started;
  herald::log::info("herald stopped", {{"reason", signal_name},
                                       {"uptime_s", uptime.count()},
                                       {"log_lines_dropped", herald::log::lines_dropped()}});
  std::cout << "herald: stopped" << std::endl;
  return 0;
}
