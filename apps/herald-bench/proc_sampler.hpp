#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace herald::bench {

// One reading of a process's cumulative CPU time and resident memory.
struct process_sample {
  double cpu_s = 0;             // user + system, all threads
  double user_cpu_s = 0;        // of which in user space (the program's own code and libraries)
  std::uint64_t rss_bytes = 0;  // VmRSS; 0 when not read (own process)
};

// Reads /proc/PID/stat (utime + stime: the thread group leader's line sums
// every thread, dead ones included) and /proc/PID/status (VmRSS). Empty when
// the process is gone or unreadable. Resolution is one clock tick (10 ms), so
// CPU figures want windows of seconds.
std::optional<process_sample> sample_process(pid_t pid);

// The bench's own CPU time from getrusage(RUSAGE_SELF): microsecond
// resolution, no /proc parsing.
process_sample sample_self();

}  // namespace herald::bench
