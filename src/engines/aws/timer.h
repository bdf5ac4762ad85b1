// A single-thread timer for coroutine sleeps: `co_await timer.Sleep(ms)` suspends without
// holding a worker thread and resumes on the timer thread when due. The thread starts on first
// use. Destruction resumes pending sleepers with false (they must treat it as "stop waiting").
// Thread-safe. Candidate for util/ once another module needs it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "util/task.h"

namespace vault::engines::awsengine {

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

}  // namespace vault::engines::awsengine
