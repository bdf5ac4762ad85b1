// A single-thread timer for coroutine sleeps: `co_await timer.Sleep(ms)` suspends without
// holding a worker thread and resumes on the timer thread when due. The thread starts on first
// use. Destruction resumes pending sleepers with false (they must treat it as "stop waiting").
// Thread-safe. Used for waits between attempts (AWS key propagation, an unmount's drain).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "util/status.h"
#include "util/task.h"

namespace vault {

class DelayTimer {
 public:
  DelayTimer();
  ~DelayTimer();
  DelayTimer(const DelayTimer&) = delete;
  DelayTimer& operator=(const DelayTimer&) = delete;

  // Completes with true after `millis` (>= 0), or false if the timer is shut down first.
  Task<bool> Sleep(int64_t millis);

 private:
  struct State;
  void Schedule(int64_t millis, std::function<void(bool)> fire);

  // Shared with the thread, which may outlive this object when the last owner of the engine
  // lets go from inside a timer callback.
  std::shared_ptr<State> state_;
  std::thread thread_;
};

// Runs `attempt` (a callable returning Task<Result<bool>>: true when done) until it is done or
// fails, or `deadline` passes, sleeping `step` on `timer` between attempts (no thread is held).
// Returns true when done, false when the deadline came first. For rare administrative waits
// (an unmount's drain), not for request paths.
template <class F>
Task<Result<bool>> PollUntil(DelayTimer* timer, std::chrono::steady_clock::time_point deadline,
                             F attempt,
                             std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
  for (;;) {
    Result<bool> done = co_await attempt();
    if (!done.ok() || *done) co_return done;
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    if (!co_await timer->Sleep(step.count())) co_return false;  // the timer is shutting down
  }
}

}  // namespace vault
