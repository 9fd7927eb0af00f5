#include "proc_sampler.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace herald::bench {

namespace {

// Reads a small /proc file into `buffer` (NUL-terminated); false on failure.
bool read_small_file(const char* path, char* buffer, std::size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  ssize_t n = read(fd, buffer, size - 1);
  close(fd);
  if (n <= 0) {
    return false;
  }
  buffer[n] = '\0';
  return true;
}

struct cpu_seconds {
  double total = 0;
  double user = 0;
};

// utime and stime are fields 14 and 15 of /proc/PID/stat. The command name
// (field 2) may hold spaces and parentheses, so fields are counted from the
// last ')'.
std::optional<cpu_seconds> read_cpu_seconds(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  char text[4096];
  if (!read_small_file(path, text, sizeof text)) {
    return std::nullopt;
  }
  const char* after_name = std::strrchr(text, ')');
  if (after_name == nullptr) {
    return std::nullopt;
  }
  // After ") " comes field 3 (state); utime is 11 fields further.
  const char* p = after_name + 1;
  unsigned long long ticks[2] = {0, 0};
  for (int field = 3; field <= 15; ++field) {
    while (*p == ' ') {
      ++p;
    }
    if (*p == '\0') {
      return std::nullopt;
    }
    if (field >= 14) {
      ticks[field - 14] = std::strtoull(p, nullptr, 10);
    }
    while (*p != ' ' && *p != '\0') {
      ++p;
    }
  }
  static const auto ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  return cpu_seconds{static_cast<double>(ticks[0] + ticks[1]) / ticks_per_second,
                     static_cast<double>(ticks[0]) / ticks_per_second};
}

std::optional<std::uint64_t> read_rss_bytes(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  char text[8192];
  if (!read_small_file(path, text, sizeof text)) {
    return std::nullopt;
  }
  const char* line = std::strstr(text, "\nVmRSS:");
  if (line == nullptr) {
    return std::nullopt;
  }
  // "VmRSS:     12345 kB"
  unsigned long long kib = std::strtoull(line + 7, nullptr, 10);
  return static_cast<std::uint64_t>(kib) * 1024;
}

}  // namespace

std::optional<process_sample> sample_process(pid_t pid) {
  auto cpu = read_cpu_seconds(pid);
  auto rss = read_rss_bytes(pid);
  if (!cpu || !rss) {
    return std::nullopt;
  }
  return process_sample{cpu->total, cpu->user, *rss};
}

process_sample sample_self() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return process_sample{seconds(usage.ru_utime) + seconds(usage.ru_stime), seconds(usage.ru_utime),
                        0};
}

}  // namespace herald::bench
