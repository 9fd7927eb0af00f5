#include "report.hpp"

#include <cinttypes>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::bench {

namespace {

std::optional<double> per_delivery_us(std::optional<double> cpu_s, std::uint64_t deliveries) {
  if (!cpu_s || deliveries == 0) {
    return std::nullopt;
  }
  return *cpu_s * 1e6 / static_cast<double>(deliveries);
}

double per_second(std::uint64_t count, double seconds) {
  return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
}

std::optional<double> received_bytes_per_delivery(const bench_results& r) {
  if (r.deliveries == 0) {
    return std::nullopt;
  }
  return static_cast<double>(r.received_bytes) / static_cast<double>(r.deliveries);
}

double loss_ratio(const bench_results& r) {
  return r.expected_total == 0
             ? 0.0
             : static_cast<double>(r.lost) / static_cast<double>(r.expected_total);
}

// Builds one JSON object, members separated by commas as they come.
class json_object {
 public:
  json_object() : text_("{") {}

  json_object& string(const char* key, const std::string& value) {
    begin(key);
    append_quoted(value);
    return *this;
  }

  json_object& integer(const char* key, std::uint64_t value) {
    begin(key);
    text_ += std::to_string(value);
    return *this;
  }

  json_object& boolean(const char* key, bool value) {
    begin(key);
    text_ += value ? "true" : "false";
    return *this;
  }

  // %.*g keeps small ratios (1e-7) readable and large rates exact enough.
  json_object& number(const char* key, std::optional<double> value, int digits = 9) {
    begin(key);
    if (!value) {
      text_ += "null";
      return *this;
    }
    char formatted[64];
    std::snprintf(formatted, sizeof formatted, "%.*g", digits, *value);
    text_ += formatted;
    return *this;
  }

  json_object& optional_integer(const char* key, std::optional<std::uint64_t> value) {
    if (!value) {
      begin(key);
      text_ += "null";
      return *this;
    }
    return integer(key, *value);
  }

  json_object& object(const char* key, const json_object& inner) {
    begin(key);
    text_ += inner.finished();
    return *this;
  }

  json_object& array(const char* key, const std::vector<json_object>& items) {
    begin(key);
    text_ += '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) {
        text_ += ',';
      }
      text_ += items[i].finished();
    }
    text_ += ']';
    return *this;
  }

  std::string finished() const { return text_ + "}"; }

 private:
  // Keys are escaped too: connect failure reasons may quote a server's
  // status line.
  void begin(const char* key) {
    if (text_.size() > 1) {
      text_ += ',';
    }
    append_quoted(key);
    text_ += ':';
  }

  void append_quoted(std::string_view value) {
    text_ += '"';
    for (char c : value) {
      auto byte = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        text_ += '\\';
        text_ += c;
      } else if (byte < 0x20) {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
        text_ += escaped;
      } else {
        text_ += c;
      }
    }
    text_ += '"';
  }

  std::string text_;
};

std::string format_latency(std::int64_t ns) {
  char text[32];
  if (ns < 1'000'000) {
    std::snprintf(text, sizeof text, "%.1f us", static_cast<double>(ns) / 1e3);
  } else if (ns < 1'000'000'000) {
    std::snprintf(text, sizeof text, "%.2f ms", static_cast<double>(ns) / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.2f s", static_cast<double>(ns) / 1e9);
  }
  return text;
}

std::string format_bytes(double bytes) {
  char text[32];
  if (bytes < 10 * 1024) {
    std::snprintf(text, sizeof text, "%.0f B", bytes);
  } else if (bytes < 10.0 * 1024 * 1024) {
    std::snprintf(text, sizeof text, "%.1f KiB", bytes / 1024);
  } else {
    std::snprintf(text, sizeof text, "%.1f MiB", bytes / (1024 * 1024));
  }
  return text;
}

}  // namespace

void print_summary(std::FILE* out, const bench_results& r) {
  const char* transport = !r.tls           ? ""
                          : r.tls_verified ? ", TLS, server verified"
                                           : ", TLS, server not verified";
  std::fprintf(out, "herald-bench %s%s%s (protocol %s%s)\n", r.url.c_str(),
               r.label.empty() ? "" : "  label ", r.label.c_str(), r.protocol.c_str(), transport);
  std::fprintf(out,
               "  connections  %" PRIu64 " ok, %" PRIu64 " failed, %" PRIu64
               " closed by the server; ramp %.2f s\n",
               r.connections_ok, r.connections_failed, r.connections_closed, r.connect_s);
  for (const auto& [reason, count] : r.failure_reasons) {
    std::fprintf(out, "    failed: %s (%" PRIu64 ")\n", reason.c_str(), count);
  }
  for (const auto& [code, count] : r.close_codes) {
    std::fprintf(out, "    closed with %u (%" PRIu64 ")\n", static_cast<unsigned>(code), count);
  }
  if (r.idle) {
    std::fprintf(out, "  idle         %d connections held %.2f s\n", r.subscribers, r.window_s);
    if (r.rss_per_connection_bytes) {
      std::fprintf(out, "  server RSS   %s before, %s after: %s per connection\n",
                   format_bytes(static_cast<double>(*r.server_rss_before_bytes)).c_str(),
                   format_bytes(static_cast<double>(*r.server_rss_bytes)).c_str(),
                   format_bytes(*r.rss_per_connection_bytes).c_str());
    }
    if (r.server_cpu_s) {
      std::fprintf(out, "  server CPU   %.2f s while held\n", *r.server_cpu_s);
    }
    return;
  }
  char rate[48];
  if (r.rate > 0) {
    std::snprintf(rate, sizeof rate, "%g/s", r.rate);
  } else {
    std::snprintf(rate, sizeof rate, "max (inflight %d)", r.inflight);
  }
  std::fprintf(out,
               "  load         %d subscribers + %d publishers = %d receivers, %zu B, rate %s\n",
               r.subscribers, r.publishers, r.receivers, r.size, rate);
  std::fprintf(out, "  messages     filler %s, %s\n", r.filler.c_str(),
               r.compression ? "permessage-deflate" : "no compression");
  if (r.read_interval_us > 0) {
    std::fprintf(out, "  reading      subscribers at most every %d us\n", r.read_interval_us);
  }
  if (r.threads > 1) {
    std::fprintf(out, "  bench        %d threads\n", r.threads);
  }
  std::fprintf(out, "  window       %.2f s: %.0f deliveries/s, %.0f publications/s\n", r.window_s,
               per_second(r.deliveries, r.window_s), per_second(r.published, r.window_s));
  auto bytes_each = received_bytes_per_delivery(r);
  std::fprintf(out, "  received     %s read from the sockets in the window, %.1f B/delivery\n",
               format_bytes(static_cast<double>(r.received_bytes)).c_str(),
               bytes_each ? *bytes_each : 0.0);
  std::fprintf(out, "  latency      p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
               format_latency(r.latency_p50_ns).c_str(), format_latency(r.latency_p90_ns).c_str(),
               format_latency(r.latency_p99_ns).c_str(), format_latency(r.latency_p999_ns).c_str(),
               format_latency(r.latency_max_ns).c_str());
  std::fprintf(out, "  loss         %" PRIu64 " of %" PRIu64 " (%.6f)\n", r.lost, r.expected_total,
               loss_ratio(r));
  if (r.ignored_frames + r.foreign_publications + r.publish_skipped > 0) {
    std::fprintf(out,
                 "  oddities     %" PRIu64 " ignored frames, %" PRIu64
                 " foreign publications, %" PRIu64 " publications skipped (backlog)\n",
                 r.ignored_frames, r.foreign_publications, r.publish_skipped);
  }
  for (const auto& [code, count] : r.command_errors) {
    std::fprintf(out, "  refused      %" PRIu64 " commands with error %u\n", count,
                 static_cast<unsigned>(code));
  }
  auto bench_us = per_delivery_us(r.bench_cpu_s, r.deliveries);
  std::fprintf(out, "  bench CPU    %.2f s (%.3f us/delivery)\n", r.bench_cpu_s,
               bench_us ? *bench_us : 0.0);
  if (r.server_cpu_s) {
    auto server_us = per_delivery_us(r.server_cpu_s, r.deliveries);
    auto user_us = per_delivery_us(r.server_user_cpu_s, r.deliveries);
    std::fprintf(out, "  server CPU   %.2f s (%.3f us/delivery, %.3f in user space), RSS %s%s\n",
                 *r.server_cpu_s, server_us ? *server_us : 0.0, user_us ? *user_us : 0.0,
                 format_bytes(static_cast<double>(r.server_rss_bytes.value_or(0))).c_str(),
                 r.servers.size() > 1 ? ", the sum of:" : "");
  }
  if (r.servers.size() > 1 && r.window_s > 0) {
    for (const bench_results::server_process& each : r.servers) {
      if (!each.cpu_s) {
        std::fprintf(out, "    pid %d      not read\n", static_cast<int>(each.pid));
        continue;
      }
      auto each_us = per_delivery_us(each.cpu_s, r.deliveries);
      std::fprintf(out, "    pid %-8d %.2f s (%.3f us/delivery), RSS %s\n",
                   static_cast<int>(each.pid), *each.cpu_s, each_us ? *each_us : 0.0,
                   format_bytes(static_cast<double>(each.rss_bytes.value_or(0))).c_str());
    }
  }
}

void print_json_line(std::FILE* out, const bench_results& r) {
  json_object latency;
  // No samples (idle mode, nothing received): null, not a latency of 0.
  bool sampled = r.latency_samples > 0;
  auto us = [sampled](double ns) {
    return sampled ? std::optional<double>(ns / 1e3) : std::nullopt;
  };
  latency.number("p50", us(static_cast<double>(r.latency_p50_ns)))
      .number("p90", us(static_cast<double>(r.latency_p90_ns)))
      .number("p99", us(static_cast<double>(r.latency_p99_ns)))
      .number("p999", us(static_cast<double>(r.latency_p999_ns)))
      .number("max", us(static_cast<double>(r.latency_max_ns)))
      .number("mean", us(r.latency_mean_ns))
      .integer("samples", r.latency_samples);
  json_object close_codes;
  for (const auto& [code, count] : r.close_codes) {
    close_codes.integer(std::to_string(code).c_str(), count);
  }
  json_object command_errors;
  for (const auto& [code, count] : r.command_errors) {
    command_errors.integer(std::to_string(code).c_str(), count);
  }
  json_object failures;
  for (const auto& [reason, count] : r.failure_reasons) {
    failures.integer(reason.c_str(), count);
  }
  std::vector<json_object> servers;
  for (const bench_results::server_process& each : r.servers) {
    json_object& server = servers.emplace_back();
    server.integer("pid", static_cast<std::uint64_t>(each.pid))
        .number("cpu_s", each.cpu_s, 6)
        .number("cpu_us_per_delivery", per_delivery_us(each.cpu_s, r.deliveries), 6)
        .optional_integer("rss_bytes", each.rss_bytes);
    if (r.idle) {
      server.optional_integer("rss_before_bytes", each.rss_before_bytes);
    }
  }

  json_object line;
  line.string("label", r.label)
      .string("url", r.url)
      .string("protocol", r.protocol)
      .boolean("tls", r.tls)
      .boolean("tls_verified", r.tls_verified)
      .string("mode", r.idle ? "idle" : "load")
      .integer("subscribers", static_cast<std::uint64_t>(r.subscribers))
      .integer("publishers", static_cast<std::uint64_t>(r.publishers))
      .integer("receivers", static_cast<std::uint64_t>(r.receivers))
      .integer("size", r.size)
      .string("filler", r.filler)
      .boolean("compression", r.compression)
      .number("rate", r.rate)
      .integer("inflight", static_cast<std::uint64_t>(r.inflight))
      .integer("read_interval_us", static_cast<std::uint64_t>(r.read_interval_us))
      .integer("threads", static_cast<std::uint64_t>(r.threads))
      .number("warmup_s", r.warmup_s)
      .number("duration_s", r.window_s, 6)
      .number("drain_s", r.drain_s)
      .integer("deliveries", r.deliveries)
      .number("deliveries_per_s", per_second(r.deliveries, r.window_s))
      .integer("received_bytes", r.received_bytes)
      .number("received_bytes_per_delivery", received_bytes_per_delivery(r), 6)
      .integer("published", r.published)
      .number("published_per_s", per_second(r.published, r.window_s))
      .integer("published_total", r.published_total)
      .integer("received_total", r.received_total)
      .integer("expected_total", r.expected_total)
      .integer("lost", r.lost)
      .number("loss_ratio", loss_ratio(r), 6)
      .object("latency_us", latency)
      .integer("connections_ok", r.connections_ok)
      .integer("connections_failed", r.connections_failed)
      .integer("connections_closed", r.connections_closed)
      .number("connect_s", r.connect_s, 6)
      .object("close_codes", close_codes)
      .object("connect_failures", failures)
      .integer("ignored_frames", r.ignored_frames)
      .integer("foreign_publications", r.foreign_publications)
      .integer("publish_skipped", r.publish_skipped)
      .object("command_errors", command_errors)
      .number("bench_cpu_s", r.bench_cpu_s, 6)
      .number("bench_cpu_us_per_delivery", per_delivery_us(r.bench_cpu_s, r.deliveries), 6)
      .optional_integer("server_pid",
                        r.server_pid ? std::optional<std::uint64_t>(*r.server_pid) : std::nullopt)
      .number("server_cpu_s", r.server_cpu_s, 6)
      .number("server_cpu_us_per_delivery", per_delivery_us(r.server_cpu_s, r.deliveries), 6)
      .number("server_user_cpu_us_per_delivery", per_delivery_us(r.server_user_cpu_s, r.deliveries),
              6)
      .optional_integer("server_rss_bytes", r.server_rss_bytes)
      .optional_integer("server_rss_before_bytes", r.server_rss_before_bytes)
      .number("rss_per_connection_bytes", r.rss_per_connection_bytes, 9)
      .array("server_pids", servers);
  std::fprintf(out, "%s\n", line.finished().c_str());
}

}  // namespace herald::bench
