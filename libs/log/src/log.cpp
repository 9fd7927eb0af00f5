#include "herald/log/log.hpp"

#include <memory>
#include <vector>

#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "dropped_lines.hpp"
#include "herald/log/backend.hpp"
#include "herald/log/line_format.hpp"
#include "herald/log/rate_limit.hpp"

namespace herald::log {
namespace detail {
std::atomic<int> minimum_level{static_cast<int>(level::info)};
}  // namespace detail

namespace {

std::atomic<std::uint64_t> dropped_total{0};

// spdlog's message carries text only; the fields of the line being logged
// ride alongside it in this thread's slot. spdlog's synchronous logger runs
// the sink's formatter on the calling thread, within logger::log(), so the
// slot is read while the call that set it is still on the stack. (spdlog
// 1.12's mapped diagnostic context works the same way.)
thread_local field_list current_fields;

// Formats every line, whatever the sink, in one of the two line formats.
class structured_formatter final : public spdlog::formatter {
 public:
  explicit structured_formatter(herald::log::format line_format) : line_format_(line_format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    line.reserve(256);
    append_line(line, line_format_, level_of(msg.level), msg.time,
                std::string_view{msg.payload.data(), msg.payload.size()}, current_fields);
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<structured_formatter>(line_format_);
  }

 private:
  static level level_of(spdlog::level::level_enum l) {
    switch (l) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        return level::debug;
      case spdlog::level::info:
        return level::info;
      case spdlog::level::warn:
        return level::warn;
      default:
        return level::error;
    }
  }

  herald::log::format line_format_;
};

spdlog::level::level_enum spdlog_level(level l) {
  switch (l) {
    case level::debug:
      return spdlog::level::debug;
    case level::info:
      return spdlog::level::info;
    case level::warn:
      return spdlog::level::warn;
    case level::error:
      break;
  }
  return spdlog::level::err;
}

std::shared_ptr<spdlog::logger> make_logger(const options& chosen,
                                            std::shared_ptr<spdlog::sinks::sink> sink) {
  sink->set_formatter(std::make_unique<structured_formatter>(chosen.line_format));
  auto logger = std::make_shared<spdlog::logger>("herald", std::move(sink));
  logger->set_level(spdlog_level(chosen.minimum));
  // The stderr sink flushes each line itself; other sinks (tests) too.
  logger->flush_on(spdlog::level::trace);
  return logger;
}

// Replaced whole by configure(); a line being written keeps the logger it
// loaded alive.
std::shared_ptr<spdlog::logger>& logger_slot() {
  static std::shared_ptr<spdlog::logger> logger =
      make_logger(options{}, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  return logger;
}

}  // namespace

void count_dropped_line() {
  dropped_total.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t lines_dropped() {
  return dropped_total.load(std::memory_order_relaxed);
}

std::string_view name_of(level l) {
  switch (l) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    case level::error:
      break;
  }
  return "error";
}

std::optional<level> parse_level(std::string_view text) {
  for (level l : {level::debug, level::info, level::warn, level::error}) {
    if (text == name_of(l)) {
      return l;
    }
  }
  return std::nullopt;
}

std::optional<format> parse_format(std::string_view text) {
  if (text == "text") {
    return format::text;
  }
  if (text == "json") {
    return format::json;
  }
  return std::nullopt;
}

void configure(const options& chosen, std::shared_ptr<spdlog::sinks::sink> sink) {
  std::atomic_store(&logger_slot(), make_logger(chosen, std::move(sink)));
  detail::minimum_level.store(static_cast<int>(chosen.minimum), std::memory_order_relaxed);
}

void configure(const options& chosen) {
  configure(chosen, std::make_shared<spdlog::sinks::stderr_sink_mt>());
}

namespace detail {

void emit(level l, std::string_view msg, field_list fields) {
  const auto logger = std::atomic_load(&logger_slot());
  const field_list outer = current_fields;  // a line logged while formatting one: none do
  current_fields = fields;
  logger->log(spdlog_level(l), spdlog::string_view_t{msg.data(), msg.size()});
  current_fields = outer;
}

void emit_limited(level l, line_limit& limit, std::string_view msg, field_list fields) {
  std::uint64_t dropped_before = 0;
  if (!limit.admit(dropped_before)) {
    return;
  }
  if (dropped_before == 0) {
    emit(l, msg, fields);
    return;
  }
  // The first line after a gap says how many of its kind the gap hid.
  std::vector<field> with_count(fields.begin(), fields.end());
  with_count.push_back({"dropped_before", dropped_before});
  emit(l, msg, field_list{with_count});
}

}  // namespace detail

}  // namespace herald::log
