#pragma once

#include <string_view>

namespace herald::core {

// Content-Type for a file name, by extension (case-insensitive). Unknown
// extensions are served as application/octet-stream, never as text, so a
// browser does not sniff uploaded bytes into a script.
std::string_view mime_type_for(std::string_view file_name);

}  // namespace herald::core
