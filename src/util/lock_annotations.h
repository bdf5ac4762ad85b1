// Abseil-style lock annotations (its thread_annotations.h): which mutex guards a member, which lock
// a function expects. They document the locking in the code itself; under clang they expand to its
// thread-safety attributes, under GCC (the build's compiler) to nothing. A std::mutex is never
// held across a co_await: state guarded across a wait uses an AsyncMutex (util/async_mutex.h),
// named the same way. docs/architecture.md ("Concurrency") lists every lock.
#pragma once

#if defined(__clang__)
#define VAULT_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define VAULT_THREAD_ANNOTATION(x)
#endif

// The member is read and written only with `mu` held.
#define GUARDED_BY(mu) VAULT_THREAD_ANNOTATION(guarded_by(mu))
// The pointee is read and written only with `mu` held.
#define PT_GUARDED_BY(mu) VAULT_THREAD_ANNOTATION(pt_guarded_by(mu))
// The function must be called with `mu` held (the "...Locked" functions).
#define REQUIRES(...) VAULT_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// The function takes `mu` itself: callers must not hold it.
#define EXCLUDES(...) VAULT_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
