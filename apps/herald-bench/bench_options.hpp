#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "payload_filler.hpp"

namespace herald::bench {

// Everything a run is told on the command line; see help_text() for the
// meaning and default of each.
struct bench_options {
  std::string url;  // empty until parsed: then default_url(protocol)
  // Subscribers' URLs, round-robin; empty: all on `url`.
  std::vector<std::string> subscriber_urls;
  std::string tls_ca;           // wss://: PEM roots; empty: server not verified
  std::string tls_server_name;  // wss://: SNI and verified name; empty: the URL's host
  std::string protocol = "ws";
  std::string channel = "bench";  // --protocol centrifuge
  std::string token;              // --protocol centrifuge; empty: none sent
  // --protocol centrifuge: publisher i on "<channel>.<i>", subscribers
  // spread over those channels.
  bool channel_per_publisher = false;
  // --protocol centrifuge: channels each connection subscribes to besides
  // its own, "<channel>.extra.<j>", never published on.
  int extra_channels = 0;
  std::string label;
  int subscribers = 100;
  int publishers = 1;
  std::size_t size = 64;
  payload_filler filler = payload_filler::x;
  // Offer permessage-deflate and fail connections whose server declines it.
  bool compression = false;
  double rate = 0;  // publications per second over all publishers; 0 = max
  int inflight = 64;
  // Subscribers read at most once per this many microseconds (0: whenever
  // data arrives), as clients behind a real network do.
  int read_interval_us = 0;
  double warmup_s = 1;
  double duration_s = 10;
  double drain_s = 2;
  double settle_s = 1;
  int connect_concurrency = 100;
  // Event loops the connections are spread over: the lead thread holds the
  // publishers and a share of the subscribers, the others the rest.
  int threads = 1;
  double connect_timeout_s = 10;
  std::string source_addrs;
  std::vector<pid_t> server_pids;  // empty: no server sampling
  bool idle = false;
  bool json_only = false;
  bool quiet = false;
  bool expect_no_loss = false;
  bool help = false;
};

// Parses argv; false with `error` set on an unknown flag or a bad value.
bool parse_options(int argc, char** argv, bench_options& options, std::string& error);

std::string help_text();

}  // namespace herald::bench
