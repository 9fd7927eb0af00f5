#include "herald/actors/config_file.hpp"

#include <fstream>

#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>
#include <caf/settings.hpp>

namespace herald::actors {
namespace {

std::string to_text(const caf::config_value& value) {
  if (auto text = caf::get_if<std::string>(&value)) {
    return *text;
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
      flatten(*nested, name, out);
    } else {
      out.emplace_back(name, to_text(value));
    }
  }
}

}  // namespace

std::optional<std::string> read_config_file(const std::string& path, core::key_values& out) {
  std::ifstream file{path};
  if (!file) {
    return "herald: config: config-file: cannot read '" + path + "'";
  }
  auto parsed = caf::actor_system_config::parse_config(file);
  if (!parsed) {
    return "herald: config: config-file: '" + path + "': " + caf::to_string(parsed.error());
  }
  flatten(*parsed, "", out);
  return std::nullopt;
}

}  // namespace herald::actors
