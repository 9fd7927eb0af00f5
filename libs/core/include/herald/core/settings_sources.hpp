#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "herald/core/settings.hpp"

namespace herald::core {

using key_values = std::vector<std::pair<std::string, std::string>>;

// What the command line asks for. Flags that name settings are kept as
// overrides, applied last so that they win over the environment and the file.
struct command_line {
  bool help = false;
  bool version = false;
  bool dump_config = false;
  bool check_config = false;
  std::optional<std::string> config_file;
  key_values overrides;
  std::vector<config_error> errors;
};

// Accepts `--key=value`, `--key value` and the bare flags --help (-h),
// --version, --dump-config and --check-config.
command_line parse_command_line(const std::vector<std::string_view>& args);

// HERALD_<KEY> variables from `envp` (NULL-terminated); HERALD_CONFIG_FILE
// names the config file when the command line does not.
struct environment_settings {
  std::optional<std::string> config_file;
  key_values overrides;
};
environment_settings read_environment(const char* const* envp);

// Applies `values` in order; returns every error, one per bad key.
std::vector<config_error> apply_settings(settings& s, const key_values& values);

}  // namespace herald::core
