// Names the calling thread as `top -H`, `ps -L`, /proc/PID/task/TID/comm, perf and gdb show it
// (Linux keeps at most 15 bytes; longer names are cut, never refused).
#pragma once

#include <string>
#include <string_view>

namespace vault {

void SetThreadName(std::string_view name);
// The calling thread's name ("" if it cannot be read).
std::string ThreadName();

}  // namespace vault
