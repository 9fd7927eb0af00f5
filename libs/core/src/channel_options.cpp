#include "herald/core/channel_options.hpp"

namespace herald::core {

void channel_namespaces::set_namespace(std::string name, channel_options options) {
  namespaces_.insert_or_assign(std::move(name), std::move(options));
}

bool channel_namespaces::has_namespace(std::string_view name) const {
  return namespaces_.find(name) != namespaces_.end();
}

const channel_options* channel_namespaces::find_namespace(std::string_view name) const {
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? nullptr : &it->second;
}

std::string_view channel_namespaces::namespace_of(std::string_view channel) const {
  const auto& prefix = naming_.private_prefix;
  if (!prefix.empty() && channel.substr(0, prefix.size()) == prefix) {
    channel.remove_prefix(prefix.size());
  }
  const auto& boundary = naming_.namespace_boundary;
  if (boundary.empty()) {
    return {};
  }
  const auto end = channel.find(boundary);
  if (end == std::string_view::npos) {
    return {};
  }
  return channel.substr(0, end);
}

const channel_options* channel_namespaces::options_for(std::string_view channel) const {
  const auto name = namespace_of(channel);
  if (name.empty()) {
    return &defaults_;
  }
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? nullptr : &it->second;
}

bool channel_namespaces::is_private(std::string_view channel) const {
  const auto& prefix = naming_.private_prefix;
  return !prefix.empty() && channel.substr(0, prefix.size()) == prefix;
}

bool channel_namespaces::is_user_limited(std::string_view channel) const {
  const auto& boundary = naming_.user_boundary;
  return !boundary.empty() && channel.find(boundary) != std::string_view::npos;
}

bool channel_namespaces::user_allowed(std::string_view channel, std::string_view user) const {
  if (!is_user_limited(channel)) {
    return true;
  }
  const auto& boundary = naming_.user_boundary;
  auto users = channel.substr(channel.rfind(boundary) + boundary.size());
  const auto& separator = naming_.user_separator;
  if (separator.empty()) {
    return users == user;
  }
  while (true) {
    const auto end = users.find(separator);
    if (users.substr(0, end) == user) {
      return true;
    }
    if (end == std::string_view::npos) {
      return false;
    }
    users.remove_prefix(end + separator.size());
  }
}

}  // namespace herald::core
