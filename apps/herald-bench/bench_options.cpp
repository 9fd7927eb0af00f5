#include "bench_options.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <string_view>
#include <vector>

#include "protocol.hpp"

namespace herald::bench {

namespace {

bool parse_int(std::string_view text, long long min, long long max, long long& value) {
  auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
  return parsed.ec == std::errc() && parsed.ptr == text.data() + text.size() && value >= min &&
         value <= max;
}

// Durations and the rate: a finite decimal number, 0 or more.
bool parse_non_negative(std::string_view text, double& value) {
  std::string copy(text);
  char* end = nullptr;
  value = std::strtod(copy.c_str(), &end);
  return !copy.empty() && end == copy.c_str() + copy.size() && std::isfinite(value) && value >= 0;
}

// "A,B,C" -> its items (one empty item for an empty text).
std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> items;
  while (true) {
    std::size_t comma = text.find(',');
    items.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) {
      return items;
    }
    text.remove_prefix(comma + 1);
  }
}

// One flag: how it takes its value (none for switches) and where it goes.
struct flag_spec {
  std::string_view name;
  bool takes_value;
  std::function<bool(std::string_view)> apply;
};

std::vector<flag_spec> flag_specs(bench_options& o) {
  auto int_flag = [](int& field, long long min, long long max) {
    return [&field, min, max](std::string_view text) {
      long long value = 0;
      if (!parse_int(text, min, max, value)) {
        return false;
      }
      field = static_cast<int>(value);
      return true;
    };
  };
  auto number_flag = [](double& field) {
    return [&field](std::string_view text) { return parse_non_negative(text, field); };
  };
  auto string_flag = [](std::string& field) {
    return [&field](std::string_view text) {
      field = std::string(text);
      return true;
    };
  };
  auto switch_flag = [](bool& field) {
    return [&field](std::string_view) {
      field = true;
      return true;
    };
  };
  return {
      {"url", true, string_flag(o.url)},
      {"protocol", true, string_flag(o.protocol)},
      {"channel", true,
       [&o](std::string_view text) {
         o.channel = std::string(text);
         return !text.empty();
       }},
      {"token", true, string_flag(o.token)},
      {"channel-per-publisher", false, switch_flag(o.channel_per_publisher)},
      {"extra-channels", true, int_flag(o.extra_channels, 0, 100)},
      {"label", true, string_flag(o.label)},
      {"subscribers", true, int_flag(o.subscribers, 0, 10'000'000)},
      {"publishers", true, int_flag(o.publishers, 0, 1'000'000)},
      {"size", true,
       [&o](std::string_view text) {
         long long value = 0;
         if (!parse_int(text, 0, 64LL << 20, value)) {
           return false;
         }
         o.size = static_cast<std::size_t>(value);
         return true;
       }},
      {"filler", true, [&o](std::string_view text) { return parse_filler(text, o.filler); }},
      {"compression", false, switch_flag(o.compression)},
      {"rate", true, number_flag(o.rate)},
      {"inflight", true, int_flag(o.inflight, 1, 1'000'000)},
      {"read-interval-us", true, int_flag(o.read_interval_us, 0, 10'000'000)},
      {"warmup", true, number_flag(o.warmup_s)},
      {"duration", true, number_flag(o.duration_s)},
      {"drain", true, number_flag(o.drain_s)},
      {"settle", true, number_flag(o.settle_s)},
      {"connect-concurrency", true, int_flag(o.connect_concurrency, 1, 1'000'000)},
      {"threads", true, int_flag(o.threads, 1, 256)},
      {"connect-timeout", true, number_flag(o.connect_timeout_s)},
      {"source-addrs", true, string_flag(o.source_addrs)},
      {"tls-ca", true,
       [&o](std::string_view text) {
         o.tls_ca = std::string(text);
         return !text.empty();
       }},
      {"tls-server-name", true,
       [&o](std::string_view text) {
         o.tls_server_name = std::string(text);
         return !text.empty();
       }},
      {"subscriber-urls", true,
       [&o](std::string_view text) {
         o.subscriber_urls.clear();
         for (std::string_view item : split_list(text)) {
           if (item.empty()) {
             return false;
           }
           o.subscriber_urls.emplace_back(item);
         }
         return true;
       }},
      {"server-pid", true,
       [&o](std::string_view text) {
         o.server_pids.clear();
         for (std::string_view item : split_list(text)) {
           long long value = 0;
           if (!parse_int(item, 1, std::numeric_limits<pid_t>::max(), value)) {
             return false;
           }
           o.server_pids.push_back(static_cast<pid_t>(value));
         }
         return true;
       }},
      {"idle", false, switch_flag(o.idle)},
      {"json", false, switch_flag(o.json_only)},
      {"quiet", false, switch_flag(o.quiet)},
      {"expect-no-loss", false, switch_flag(o.expect_no_loss)},
      {"help", false, switch_flag(o.help)},
  };
}

}  // namespace

bool parse_options(int argc, char** argv, bench_options& options, std::string& error) {
  std::vector<flag_spec> specs = flag_specs(options);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h") {
      arg = "--help";
    }
    if (arg.substr(0, 2) != "--") {
      error = "unexpected argument: " + std::string(arg);
      return false;
    }
    arg.remove_prefix(2);
    std::string_view name = arg.substr(0, arg.find('='));
    const flag_spec* spec = nullptr;
    for (const flag_spec& candidate : specs) {
      if (candidate.name == name) {
        spec = &candidate;
      }
    }
    if (spec == nullptr) {
      error = "unknown flag --" + std::string(name) + " (see --help)";
      return false;
    }
    std::string_view value;
    if (name.size() < arg.size()) {
      if (!spec->takes_value) {
        error = "--" + std::string(name) + " takes no value";
        return false;
      }
      value = arg.substr(name.size() + 1);
    } else if (spec->takes_value) {
      if (i + 1 >= argc) {
        error = "--" + std::string(name) + " needs a value";
        return false;
      }
      value = argv[++i];
    }
    if (!spec->apply(value)) {
      error = "bad value for --" + std::string(name) + ": " + std::string(value);
      return false;
    }
  }
  if (options.help) {
    return true;
  }
  if (!make_protocol(options)) {
    error = "unknown --protocol " + options.protocol + " (known: " + std::string(protocol_names()) +
            ")";
    return false;
  }
  if (options.url.empty()) {
    options.url = std::string(default_url(options.protocol));
  }
  if (options.duration_s <= 0) {
    error = "--duration must be above 0";
    return false;
  }
  if (!options.idle && options.publishers == 0) {
    error = "--publishers must be at least 1 (or use --idle)";
    return false;
  }
  if (options.idle && options.subscribers == 0) {
    error = "--idle needs --subscribers of at least 1";
    return false;
  }
  if (options.channel_per_publisher && (options.protocol != "centrifuge" || options.idle)) {
    error = "--channel-per-publisher needs --protocol centrifuge and publishers (not --idle)";
    return false;
  }
  if (options.extra_channels > 0 && options.protocol != "centrifuge") {
    error = "--extra-channels needs --protocol centrifuge";
    return false;
  }
  return true;
}

std::string help_text() {
  return R"(herald-bench - load generator for WebSocket push servers (Herald, and peers
speaking the same protocol)

Usage: herald-bench [--FLAG VALUE | --FLAG=VALUE ...]

Publishers send stamped messages, every connection receives every message,
and the bench reports deliveries per second, end-to-end latency, loss, and
the CPU and memory the server (and the bench itself) spent on them.

Target
  --url URL                  ws://HOST[:PORT][/PATH], or wss://... for TLS
                             (default ws://127.0.0.1:8000/ws, and
                             ws://127.0.0.1:8000/connection/websocket with
                             --protocol centrifuge)
  --protocol NAME            application protocol inside the frames (default
                             ws):
                               ws          the tutorial's {"message":"..."}
                                           JSON on /ws
                               centrifuge  Centrifugo's client protocol v2,
                                           JSON: connect, subscribe, publish
                                           commands, pub pushes, {} pings
  --channel NAME             centrifuge: the channel every connection
                             subscribes to and publishers publish to
                             (default bench)
  --token JWT                centrifuge: the connection token sent in the
                             connect command (default: none)
  --channel-per-publisher    centrifuge: publisher i subscribes and publishes
                             to "<channel>.<i>"; subscribers are spread
                             round-robin over those channels, so each
                             publication reaches its channel's subscribers
                             and its publisher only
  --extra-channels E         centrifuge: every connection also subscribes to
                             "<channel>.extra.0" .. "<channel>.extra.<E-1>",
                             which nobody publishes on: with --idle, what
                             subscriptions cost the server (default 0, at
                             most 100; a server's channel limit per
                             connection still applies: refusals count as
                             command errors)
  --subscriber-urls U,U,...  spread the subscribers round-robin over these
                             URLs (other nodes of a cluster, say);
                             publishers stay on --url (default: all on
                             --url); ws:// or wss:// like --url
  --tls-ca FILE              wss://: verify the server's certificate (chain
                             and name) against these PEM roots. Without it
                             the server is NOT verified: benches run on
                             loopback against throwaway certificates
  --tls-server-name NAME     wss://: the name sent as SNI and, with
                             --tls-ca, checked against the certificate
                             (default: the URL's host; an IP address is
                             checked as an address and sends no SNI)
  --label TEXT               scenario name copied into the report

Load
  --subscribers N            connections that only receive (default 100)
  --publishers K             connections that send; they receive too, so
                             receivers = N + K (default 1)
  --size B                   bytes of the message string; it starts with
                             "<publisher> <seq> <send time ns>" and is
                             padded with --filler (default 64)
  --filler x|ticker          what pads the message to --size: x, the letter
                             repeated (default); ticker, market-data-like
                             records ("sym=EURUSD bid=1.08423 ask=1.08441
                             size=1200000 venue=LMAX;"), different in every
                             publication, that compress about 4:1 as a JSON
                             quote feed does. Use ticker with --compression:
                             x compresses to almost nothing
  --compression              offer permessage-deflate (RFC 7692) in every
                             upgrade and inflate what the server compresses;
                             a server that declines it fails the connection
                             ("server declined permessage-deflate"). The
                             bench's own messages go uncompressed
  --rate R                   publications per second over all publishers,
                             paced by the clock; 0 = as fast as --inflight
                             allows (default 0)
  --inflight W               at --rate 0, messages a publisher may have sent
                             but not yet received back itself (default 64)
  --read-interval-us U       a subscriber reads at most once per U
                             microseconds (up to 64 KiB a read), as a client
                             behind a network that batches does; publishers
                             read at once (default 0: whenever data arrives)

Phases (seconds, fractions allowed)
  --settle S                 pause after the last connection is up, before
                             publishing or sampling idle memory (default 1)
  --warmup S                 publishing, not measured (default 1)
  --duration S               the measured window; in --idle mode, how long
                             the connections are held (default 10)
  --drain S                  after the window, longest wait for messages
                             still in flight; loss is counted after it
                             (default 2; ends early once all arrived)

Connections
  --connect-concurrency C    TCP connects + upgrades in progress at once
                             (default 100, shared by the threads); failures
                             are counted, never retried
  --threads T                spread the connections over T event loops, one
                             thread each, so that receiving is not the
                             limit of a fan-out: the first thread holds the
                             publishers, the subscribers are split evenly
                             (default 1). Latency needs no clock sync: all
                             threads stamp and read CLOCK_MONOTONIC
  --connect-timeout S        a connection not upgraded by then has failed
                             (default 10)
  --source-addrs A,B,...     bind client sockets round-robin to these local
                             addresses (e.g. 127.0.0.1,127.0.0.2) to get past
                             one address' ~28k ephemeral ports

Server sampling
  --server-pid PID[,PID...]  read /proc/PID/stat and /proc/PID/status at the
                             window's start and end: server CPU seconds and
                             CPU us per delivery, RSS; in --idle mode RSS per
                             connection. Several PIDs (the nodes of a cluster
                             and its Redis) are summed, and reported one by
                             one too

Modes and output
  --idle                     open --subscribers connections, send nothing,
                             report server RSS per connection, hold them for
                             --duration, close
  --json                     print only the JSON line on stdout
  --quiet                    no progress line on stderr
  --expect-no-loss           exit 1 if any message was lost
  --help, -h                 this text

Output: a summary, then one JSON line with every figure, on stdout; a
progress line per second on stderr. received_bytes is what every connection
read from its socket in the window (after TLS decryption on wss://), so
received_bytes_per_delivery shows what compression saved. Exit status 0, 1
if no connection could be made or (with --expect-no-loss) a message was
lost, 2 for bad flags.
)";
}

}  // namespace herald::bench
