#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <boost/json.hpp>

#include "herald/log/backend.hpp"
#include "herald/log/line_format.hpp"
#include "herald/log/log.hpp"
#include "herald/log/rate_limit.hpp"
#include "json_test_support.hpp"

namespace hlog = herald::log;
using herald::test::bytes;
using herald::test::parse_json;

namespace {

// 2024-05-01T12:34:56.789Z
const std::chrono::system_clock::time_point when = std::chrono::system_clock::time_point{} +
                                                   std::chrono::seconds{1714566896} +
                                                   std::chrono::milliseconds{789};

std::string line(hlog::format f, hlog::level l, std::string_view msg, hlog::fields fields) {
  std::string out;
  hlog::append_line(out, f, l, when, msg, hlog::field_list{fields.begin(), fields.end()});
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string one; std::getline(in, one);) {
    out.push_back(one);
  }
  return out;
}

// Lines logged through the whole facility into a string, in format `f` at
// level `minimum`; stderr again when it goes.
class captured_log {
 public:
  captured_log(hlog::format f, hlog::level minimum) {
    hlog::configure({minimum, f}, std::make_shared<spdlog::sinks::ostream_sink_mt>(text_));
  }
  ~captured_log() { hlog::configure({}); }
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
};

}  // namespace

TEST_CASE("times are UTC, ISO 8601, with milliseconds", "[log][line_format]") {
  std::string out;
  hlog::append_utc_time(out, when);
  CHECK(out == "2024-05-01T12:34:56.789Z");
}

TEST_CASE("a JSON line is one object with time, level, msg and the fields as keys",
          "[log][line_format]") {
  const std::string text =
      line(hlog::format::json, hlog::level::warn, "upgrade refused",
           {{"cause", "origin"}, {"status", 403u}, {"delta", -2}, {"ok", false}, {"s", 1.5}});
  REQUIRE(text.back() == '\n');
  CHECK(text.find('\n') == text.size() - 1);
  const auto value = parse_json(text);
  const auto& object = value.as_object();
  CHECK(object.at("time").as_string() == "2024-05-01T12:34:56.789Z");
  CHECK(object.at("level").as_string() == "warn");
  CHECK(object.at("msg").as_string() == "upgrade refused");
  CHECK(object.at("cause").as_string() == "origin");
  CHECK(object.at("status").to_number<int>() == 403);
  CHECK(object.at("delta").to_number<int>() == -2);
  CHECK(object.at("ok").as_bool() == false);
  CHECK(object.at("s").to_number<double>() == 1.5);
}

TEST_CASE("JSON lines escape whatever a client sends", "[log][line_format]") {
  const std::string hostile =
      bytes("quote\" backslash\\ newline\n cr\r tab\t nul\0 bell\x07 bad\xff\xfe utf8 \xC3\xA9");
  const std::string text =
      line(hlog::format::json, hlog::level::warn, "msg \"with\"\nbreak", {{"origin", hostile}});
  CHECK(text.find('\n') == text.size() - 1);
  const auto value = parse_json(text);
  const auto& object = value.as_object();
  CHECK(object.at("msg").as_string() == "msg \"with\"\nbreak");
  const std::string origin{object.at("origin").as_string()};
  CHECK(origin.find("quote\" backslash\\ newline\n cr\r tab\t nul") == 0);
  CHECK(origin.find(std::string{"nul\0", 4}) != std::string::npos);
  CHECK(origin.find("bad\xEF\xBF\xBD\xEF\xBF\xBD utf8") != std::string::npos);  // U+FFFD each
  CHECK(origin.find("\xC3\xA9") != std::string::npos);                          // kept
}

TEST_CASE("JSON lines replace overlong forms and surrogates", "[log][line_format]") {
  const std::string text = line(hlog::format::json, hlog::level::info, "m",
                                {{"a", bytes("\xC0\xAF")}, {"b", bytes("\xED\xA0\x80")}});
  const auto value = parse_json(text);
  CHECK(value.as_object().at("a").as_string().find("\xEF\xBF\xBD") == 0);
  CHECK(value.as_object().at("b").as_string().find("\xEF\xBF\xBD") == 0);
}

TEST_CASE("a text line is time, level, message, then key=value", "[log][line_format]") {
  CHECK(line(hlog::format::text, hlog::level::warn, "upgrade refused",
             {{"cause", "origin"}, {"status", 403}, {"peer", "10.0.0.7"}}) ==
        "2024-05-01T12:34:56.789Z WARN upgrade refused cause=origin status=403 peer=10.0.0.7\n");
}

TEST_CASE("text values that would break the line are quoted and escaped", "[log][line_format]") {
  CHECK(line(hlog::format::text, hlog::level::info, "m",
             {{"a", "two words"}, {"b", ""}, {"c", "x=y"}, {"d", "line\nbreak\"q\""}}) ==
        "2024-05-01T12:34:56.789Z INFO m a=\"two words\" b=\"\" c=\"x=y\" "
        "d=\"line\\nbreak\\\"q\\\"\"\n");
  const std::string hostile =
      line(hlog::format::text, hlog::level::info, "m\nn", {{"e", bytes("nul\0esc\x1b")}});
  CHECK(hostile == "2024-05-01T12:34:56.789Z INFO m\\nn e=\"nul\\x00esc\\x1b\"\n");
}

TEST_CASE("lines logged through spdlog parse back as JSON, one per line", "[log]") {
  std::string text;
  {
    captured_log captured{hlog::format::json, hlog::level::debug};
    hlog::info("herald started", {{"version", "0.1.0"}, {"port", 8000}});
    hlog::debug("connected", {{"protocol", "ws"}});
    hlog::warn("odd", {});
    text = captured.text();
  }
  const auto lines = lines_of(text);
  REQUIRE(lines.size() == 3);
  for (const auto& one : lines) {
    const auto value = parse_json(one);
    CHECK(value.as_object().contains("time"));
  }
  CHECK(parse_json(lines[0]).as_object().at("version").as_string() == "0.1.0");
  CHECK(parse_json(lines[0]).as_object().at("port").to_number<int>() == 8000);
  CHECK(parse_json(lines[1]).as_object().at("level").as_string() == "debug");
  CHECK(parse_json(lines[2]).as_object().at("msg").as_string() == "odd");
}

TEST_CASE("lines below the level are not written", "[log]") {
  captured_log captured{hlog::format::text, hlog::level::warn};
  CHECK_FALSE(hlog::enabled(hlog::level::info));
  CHECK(hlog::enabled(hlog::level::error));
  hlog::info("quiet");
  hlog::debug("quieter");
  hlog::error("loud", {{"n", 1}});
  const auto lines = lines_of(captured.text());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(" ERROR loud n=1") != std::string::npos);
}

TEST_CASE("a limited line kind drops its flood and says so on its next line", "[log]") {
  captured_log captured{hlog::format::json, hlog::level::info};
  hlog::line_limit limit{0.001, 3};
  for (int i = 0; i < 100; ++i) {
    hlog::warn(limit, "flood", {{"i", i}});
  }
  CHECK(lines_of(captured.text()).size() == 3);
}

TEST_CASE("levels and formats parse from their setting's text", "[log]") {
  CHECK(hlog::parse_level("debug") == hlog::level::debug);
  CHECK(hlog::parse_level("error") == hlog::level::error);
  CHECK_FALSE(hlog::parse_level("verbose"));
  CHECK(hlog::parse_format("json") == hlog::format::json);
  CHECK_FALSE(hlog::parse_format("xml"));
}
