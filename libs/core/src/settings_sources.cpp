#include "herald/core/settings_sources.hpp"

namespace herald::core {

command_line parse_command_line(const std::vector<std::string_view>& args) {
  command_line result;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      result.help = true;
    } else if (arg == "--version") {
      result.version = true;
    } else if (arg == "--dump-config") {
      result.dump_config = true;
    } else if (arg == "--check-config") {
      result.check_config = true;
    } else if (arg.substr(0, 2) == "--" && arg.size() > 2) {
      std::string_view key = arg.substr(2);
      std::string value;
      const auto equals = key.find('=');
      if (equals != std::string_view::npos) {
        value = std::string{key.substr(equals + 1)};
        key = key.substr(0, equals);
      } else if (i + 1 < args.size()) {
        value = std::string{args[++i]};
      } else {
        result.errors.push_back({std::string{key}, "missing value"});
        continue;
      }
      if (key == "config-file") {
        result.config_file = value;
      } else {
        result.overrides.emplace_back(std::string{key}, std::move(value));
      }
    } else {
      result.errors.push_back(
          {std::string{arg}, "unexpected argument (flags look like --key=value)"});
    }
  }
  return result;
}

environment_settings read_environment(const char* const* envp) {
  environment_settings result;
  for (; envp != nullptr && *envp != nullptr; ++envp) {
    const std::string_view entry{*envp};
    const auto equals = entry.find('=');
    if (equals == std::string_view::npos) {
      continue;
    }
    auto key = key_from_environment_name(entry.substr(0, equals));
    if (!key) {
      continue;
    }
    std::string value{entry.substr(equals + 1)};
    if (*key == "config-file") {
      result.config_file = std::move(value);
    } else {
      result.overrides.emplace_back(std::move(*key), std::move(value));
    }
  }
  return result;
}

std::vector<config_error> apply_settings(settings& s, const key_values& values) {
  std::vector<config_error> errors;
  for (const auto& [key, value] : values) {
    if (auto error = apply_setting(s, key, value)) {
      errors.push_back(std::move(*error));
    }
  }
  return errors;
}

}  // namespace herald::core
