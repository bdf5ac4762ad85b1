// Per-thread attributes: a thread's name, and the CPU time slice it asks the kernel for.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vault {

// Names the calling thread as `top -H`, `ps -L`, /proc/PID/task/TID/comm, perf and gdb show it
// (Linux keeps at most 15 bytes; longer names are cut, never refused).
void SetThreadName(std::string_view name);
// The calling thread's name ("" if it cannot be read).
std::string ThreadName();

// Asks the scheduler for a time slice of `nanos` for the calling thread (sched_setattr's
// sched_runtime under SCHED_OTHER, which Linux 6.12+ (EEVDF) takes as the thread's slice, clamped
// to 0.1-100 ms; its share of the CPU is unchanged). A thread that asks for a shorter slice than
// the one running may preempt it when woken (EEVDF's PREEMPT_SHORT) instead of waiting until that
// one blocks or its own slice ends. For threads that wake for short bursts on every network reply.
// Returns the slice the kernel now reports for the thread: 0 where the kernel has no per-thread
// slices (before 6.12, where the request is accepted and ignored) or refuses the call (seccomp);
// the thread then runs as before.
uint64_t RequestTimeSlice(uint64_t nanos);
// The slice the kernel reports for thread `tid`: the one it asked for, else the kernel's default
// (about 0.75 ms x (1 + log2 CPUs)); 0 where the kernel keeps no per-thread slice.
uint64_t TimeSliceOf(int tid);

}  // namespace vault
