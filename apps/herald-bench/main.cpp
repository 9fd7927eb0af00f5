// herald-bench: an epoll load generator (one loop per --threads) for WebSocket push
// servers. See README.md next to this file for what it measures and how.

#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "bench_options.hpp"
#include "protocol.hpp"
#include "report.hpp"
#include "socket_address.hpp"
#include "threaded_run.hpp"
#include "tls_client.hpp"
#include "ws_url.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

// Every connection is a descriptor: take the hard limit rather than make the
// user remember `ulimit -n`, and say so when even that is too small.
void raise_descriptor_limit(std::size_t connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return;
  }
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  // A few descriptors go to stdio, epoll and /proc reads.
  if (limit.rlim_cur != RLIM_INFINITY && connections + 16 > limit.rlim_cur) {
    std::fprintf(stderr,
                 "herald-bench: warning: %zu connections but only %llu file descriptors "
                 "(hard limit); the rest will fail\n",
                 connections, static_cast<unsigned long long>(limit.rlim_cur));
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace herald::bench;

  bench_options options;
  std::string error;
  if (!parse_options(argc, argv, options, error)) {
    std::fprintf(stderr, "herald-bench: %s\n", error.c_str());
    return exit_usage;
  }
  if (options.help) {
    std::fputs(help_text().c_str(), stdout);
    return exit_ok;
  }

  run_target target;
  if (!parse_ws_url(options.url, target.url, error) ||
      !resolve_server(target.url.host, target.url.port, target.server, error) ||
      !parse_source_addresses(options.source_addrs, target.sources, error)) {
    std::fprintf(stderr, "herald-bench: %s\n", error.c_str());
    return exit_usage;
  }
  for (const std::string& url : options.subscriber_urls) {
    run_endpoint& endpoint = target.subscriber_endpoints.emplace_back();
    if (!parse_ws_url(url, endpoint.url, error) ||
        !resolve_server(endpoint.url.host, endpoint.url.port, endpoint.server, error)) {
      std::fprintf(stderr, "herald-bench: --subscriber-urls: %s\n", error.c_str());
      return exit_usage;
    }
  }
  // One scheme per run: the report's "tls" must describe every connection.
  for (const run_endpoint& endpoint : target.subscriber_endpoints) {
    if (endpoint.url.tls != target.url.tls) {
      std::fprintf(stderr, "herald-bench: --subscriber-urls and --url mix ws:// and wss://\n");
      return exit_usage;
    }
  }
  std::unique_ptr<tls_client_context> tls;
  if (target.url.tls) {
    tls = tls_client_context::create(options.tls_ca, error);
    if (!tls) {
      std::fprintf(stderr, "herald-bench: %s\n", error.c_str());
      return exit_usage;
    }
    target.tls = tls.get();
  } else if (!options.tls_ca.empty() || !options.tls_server_name.empty()) {
    std::fprintf(stderr, "herald-bench: --tls-ca and --tls-server-name need a wss:// --url\n");
    return exit_usage;
  }
  for (const socket_address& source : target.sources) {
    bool same_family = source.family() == target.server.family();
    for (const run_endpoint& endpoint : target.subscriber_endpoints) {
      same_family = same_family && source.family() == endpoint.server.family();
    }
    if (!same_family) {
      std::fprintf(stderr, "herald-bench: --source-addrs mixes address families with the URLs\n");
      return exit_usage;
    }
  }

  // A server that resets a connection must not kill the bench; send() uses
  // MSG_NOSIGNAL too, this covers everything else.
  std::signal(SIGPIPE, SIG_IGN);
  std::size_t connections = static_cast<std::size_t>(options.subscribers) +
                            (options.idle ? 0 : static_cast<std::size_t>(options.publishers));
  raise_descriptor_limit(connections);

  bench_results results;
  try {
    results = run_bench(options, target);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "herald-bench: %s\n", e.what());
    return exit_failed;
  }

  if (!options.json_only) {
    print_summary(stdout, results);
  }
  print_json_line(stdout, results);
  std::fflush(stdout);

  if (results.connections_ok == 0) {
    std::fprintf(stderr, "herald-bench: no connection could be made\n");
    return exit_failed;
  }
  if (options.expect_no_loss && results.lost > 0) {
    std::fprintf(stderr, "herald-bench: %llu messages lost\n",
                 static_cast<unsigned long long>(results.lost));
    return exit_failed;
  }
  return exit_ok;
}
