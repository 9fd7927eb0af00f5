#include "herald/core/settings_report.hpp"

namespace herald::core {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// settings.cpp writes strings quoted, with '"' and '\' escaped.
std::string unquote(std::string_view text) {
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') {
    return std::string{text};
  }
  std::string out;
  for (std::size_t i = 1; i + 1 < text.size(); ++i) {
    if (text[i] == '\\' && i + 2 < text.size()) {
      ++i;
    }
    out.push_back(text[i]);
  }
  return out;
}

}  // namespace

bool is_secret_key(std::string_view key) {
  return key == "token-hmac-secret" || key == "api-key" || key == "redis-password" ||
         key == "dashboard-password" || ends_with(key, "-secret") || ends_with(key, "-password");
}

std::string masked(std::string_view secret) {
  return secret.empty() ? std::string{} : std::string{"***"};
}

std::vector<std::pair<std::string, std::string>> reported_settings(const settings& s) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [key, text] : setting_values(s)) {
    std::string plain = unquote(text);
    if (is_secret_key(key)) {
      plain = masked(plain);
    }
    out.emplace_back(std::string{key}, std::move(plain));
  }
  std::string names;
  for (const auto& [name, options] : s.namespaces.namespaces()) {
    names += (names.empty() ? "" : ",") + name;
  }
  out.emplace_back("namespaces", std::move(names));
  return out;
}

}  // namespace herald::core
