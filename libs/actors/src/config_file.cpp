#include "herald/actors/config_file.hpp"

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>
#include <utility>

#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>
#include <caf/settings.hpp>

namespace herald::actors {
namespace {

// A duration in the largest unit that holds it exactly, as
// core::parse_duration reads it (caf::to_string writes a zero as "0d").
std::string duration_text(caf::timespan value) {
  const auto ns = value.count();
  constexpr std::pair<std::int64_t, const char*> units[] = {{3'600'000'000'000, "h"},
                                                            {60'000'000'000, "min"},
                                                            {1'000'000'000, "s"},
                                                            {1'000'000, "ms"},
                                                            {1'000, "us"}};
  if (ns == 0) {
    return "0s";
  }
  for (const auto& [size, unit] : units) {
    if (ns % size == 0) {
      return std::to_string(ns / size) + unit;
    }
  }
  return std::to_string(ns) + "ns";
}

std::string to_text(const caf::config_value& value) {
  if (auto text = caf::get_if<std::string>(&value)) {
    return *text;
  }
  if (auto duration = caf::get_if<caf::timespan>(&value)) {
    return duration_text(*duration);
  }
  if (auto list = caf::get_if<caf::config_value::list>(&value)) {
    std::string joined;
    for (const auto& item : *list) {
      joined += (joined.empty() ? "" : ",") + to_text(item);
    }
    return joined;
  }
  return caf::to_string(value);
}

void flatten(const caf::settings& section, const std::string& prefix, core::key_values& out) {
  for (const auto& [key, value] : section) {
    const std::string name = (prefix.empty() || prefix == "global") ? key : prefix + "." + key;
    if (auto nested = caf::get_if<caf::settings>(&value)) {
      if (nested->empty()) {
        out.emplace_back(name, "{}");  // an empty section still names something
      } else {
        flatten(*nested, name, out);
      }
    } else {
      out.emplace_back(name, to_text(value));
    }
  }
}

// CAF's parser replaces what an earlier [namespaces.NAME] section (or one
// below it, [namespaces.NAME.x]) set when the same path comes again, and
// says nothing. Finds such a repeat in the section headers of `text`.
std::optional<std::string> repeated_namespace_section(const std::string& text,
                                                      const std::string& path) {
  std::map<std::string, int> first_line;
  std::istringstream lines{text};
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    std::size_t pos = line.find_first_not_of(" \t");
    if (pos == std::string::npos || line[pos] != '[') {
      continue;
    }
    const auto close = line.find(']', pos);
    if (close == std::string::npos) {
      continue;
    }
    std::string header = line.substr(pos + 1, close - pos - 1);
    header.erase(0, header.find_first_not_of(" \t"));
    header.erase(header.find_last_not_of(" \t") + 1);
    constexpr std::string_view prefix = "namespaces.";
    if (header.compare(0, prefix.size(), prefix) != 0) {
      continue;
    }
    const auto end = header.find('.', prefix.size());
    const std::string name = header.substr(0, end);
    auto [it, inserted] = first_line.emplace(name, number);
    if (!inserted) {
      return "herald: config: " + name + ": section [" + header + "] on line " +
             std::to_string(number) + " replaces what line " + std::to_string(it->second) +
             " set (CAF keeps only the last section of a name); write each namespace once (in " +
             path + ")";
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> read_config_file(const std::string& path, core::key_values& out) {
  std::ifstream file{path};
  if (!file) {
    return "herald: config: config-file: cannot read '" + path + "'";
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  const std::string text = contents.str();
  std::istringstream source{text};
  auto parsed = caf::actor_system_config::parse_config(source);
  if (!parsed) {
    return "herald: config: config-file: '" + path + "': " + caf::to_string(parsed.error());
  }
  if (auto problem = repeated_namespace_section(text, path)) {
    return problem;
  }
  flatten(*parsed, "", out);
  return std::nullopt;
}

}  // namespace herald::actors
