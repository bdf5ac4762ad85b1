// I/O threads and the hand-off away from them.
//
// A network I/O thread (CurlHttpClient's own) resumes the coroutines waiting on it inline, so a
// chain of outbound calls (CreateUser, PutUserPolicy, CreateAccessKey) continues without a thread
// hop per call. Such a thread may only run short, non-blocking steps (sign, parse, start the next
// call, a short storage read or write). Before work that may wait synchronously on something the
// I/O thread itself must deliver (SyncWait, token revocation with its lease revocations) or that
// belongs to the request's caller (core's lease writes), a coroutine leaves the thread with
// `co_await LeaveIoThread()`: on a thread that registered a hand-off executor it continues there;
// anywhere else it continues inline, at no cost.
#pragma once

#include <chrono>
#include <thread>

#include "util/status.h"
#include "util/task.h"

namespace vault {

namespace io_thread_internal {
inline thread_local Executor* handoff = nullptr;
}  // namespace io_thread_internal

// Registers (null: clears) the calling thread's hand-off executor. Called by I/O threads.
inline void SetIoThreadHandoff(Executor* ex) { io_thread_internal::handoff = ex; }
// The calling thread's hand-off executor; null on threads that may block.
inline Executor* IoThreadHandoff() { return io_thread_internal::handoff; }
// `co_await LeaveIoThread()`: see above.
inline ResumeOn LeaveIoThread() { return ResumeOn(io_thread_internal::handoff); }

// Runs `attempt` (a callable returning Task<Result<bool>>: true when done) until it is done or
// fails, or `deadline` passes, sleeping `step` between attempts. The sleeps block, so it leaves
// the I/O thread before the first. Returns true when done, false when the deadline came first.
// For rare administrative waits (unmount), not for request paths.
template <class F>
Task<Result<bool>> PollUntil(std::chrono::steady_clock::time_point deadline, F attempt,
                             std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
  for (bool left = false;;) {
    Result<bool> done = co_await attempt();
    if (!done.ok() || *done) co_return done;
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    if (!left) {
      left = true;
      co_await LeaveIoThread();
    }
    std::this_thread::sleep_for(step);
  }
}

}  // namespace vault
