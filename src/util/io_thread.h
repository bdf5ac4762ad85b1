// I/O threads and the hand-off away from them.
//
// A network I/O thread (CurlHttpClient's own) resumes the coroutines waiting on it inline, so a chain
// of outbound calls (CreateUser, PutUserPolicy, CreateAccessKey) continues without a thread hop
// per call. Such a thread may only run short, non-blocking steps (sign, parse, start the next
// call, a short storage read or write). Before work that may wait synchronously on something the
// I/O thread itself must deliver (SyncWait, token revocation with its lease revocations) or that
// belongs to the request's caller (core's lease writes), a coroutine leaves the thread with
// `co_await LeaveIoThread()`: on a thread that registered a hand-off executor it continues there;
// anywhere else it continues inline, at no cost.
#pragma once

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

}  // namespace vault
