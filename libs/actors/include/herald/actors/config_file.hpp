#pragma once

#include <optional>
#include <string>

#include "herald/core/settings_sources.hpp"

namespace herald::actors {

// Reads a config file in CAF 0.17's INI format with CAF's own parser and
// flattens it into `key = text` pairs ("[ns] a=1" becomes "ns.a"; keys in
// [global] or before any section are plain; an empty section becomes
// "ns" = "{}"). Herald validates the keys and values itself, since CAF
// silently ignores unknown keys. Returns an error line on a missing file, a
// syntax error, or a [namespaces.NAME] section that comes twice (CAF would
// keep only the last one).
std::optional<std::string> read_config_file(const std::string& path, core::key_values& out);

}  // namespace herald::actors
