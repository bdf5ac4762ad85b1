// EventLoop: the seam through which a network client runs its sockets and timers on the event
// loop of the thread that uses it, instead of on a thread of its own.
//
// Why: a request that calls AWS starts on an HTTP I/O thread. When the outbound HTTP client moves
// its bytes on that same thread, a chain of calls (CreateUser, PutUserPolicy, CreateAccessKey) and
// the answer to the caller cost no thread wake-up besides the replies' own arrival.
//
// The HTTP server's I/O threads each run one loop (net::AsioEventLoop over their io_context) and
// register it with SetCurrent(); CurlHttpClient sends on EventLoop::Current() when there is one.
// Threads without a loop (workers, background threads) have Current() == nullptr.
//
// Threads: every method except Post runs on the loop's own thread only.
#pragma once

#include <coroutine>
#include <cstdint>
#include <functional>

namespace vault {

class EventLoop {
 public:
  enum Events : int { kRead = 1, kWrite = 2 };

  virtual ~EventLoop() = default;

  // Watches `fd` (which the caller owns and keeps open until Unwatch) for the readiness in
  // `events` (kRead | kWrite) and calls fn(ready) on the loop thread each time it is ready, level-
  // triggered: as long as the fd stays ready and watched, fn is called again. A second Watch of the
  // same fd replaces the events and the callback. fn may call Watch/Unwatch itself.
  virtual void Watch(int fd, int events, std::function<void(int ready)> fn) = 0;
  // Stops watching `fd` (never closes it). No callback for it runs afterwards.
  virtual void Unwatch(int fd) = 0;

  // Calls fn once on the loop thread, no earlier than delay_ms from now; or early, when the loop
  // stops (so a waiting coroutine is never leaked). Returns an id for CancelTimer.
  virtual uint64_t RunAfter(int64_t delay_ms, std::function<void()> fn) = 0;
  // Drops a timer that has not fired: its fn never runs.
  virtual void CancelTimer(uint64_t id) = 0;

  // Runs fn on the loop thread, soon. Thread-safe.
  virtual void Post(std::function<void()> fn) = 0;

  // Runs fn on the loop thread once the loop has stopped, before its pending timers fire early:
  // a client fails what it still has in flight on this loop. Runs inline if already stopped.
  virtual void AtStop(std::function<void()> fn) = 0;
  // True once the loop has stopped (its stop hooks have started).
  virtual bool stopped() const = 0;

  // The calling thread's loop, or nullptr.
  static EventLoop* Current() { return current_; }
  // Registers (nullptr: clears) the calling thread's loop. Called by the thread that runs it.
  static void SetCurrent(EventLoop* loop) { current_ = loop; }

 private:
  static inline thread_local EventLoop* current_ = nullptr;
};

// Hides the calling thread's loop for a scope: what starts inside uses threads of its own. For a
// caller about to block this thread until a task finishes (SyncWait), which would otherwise wait
// on a reply that only this blocked thread's loop could deliver.
class WithoutEventLoop {
 public:
  WithoutEventLoop() : saved_(EventLoop::Current()) { EventLoop::SetCurrent(nullptr); }
  ~WithoutEventLoop() { EventLoop::SetCurrent(saved_); }
  WithoutEventLoop(const WithoutEventLoop&) = delete;
  WithoutEventLoop& operator=(const WithoutEventLoop&) = delete;

 private:
  EventLoop* saved_;
};

}  // namespace vault
