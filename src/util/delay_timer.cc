#include "util/delay_timer.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <queue>
#include <vector>

#include "util/thread_attrs.h"

namespace vault {

namespace {
int64_t MonoNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Entry {
  int64_t due_ns;
  uint64_t seq;
  std::function<void(bool)> fire;
  bool operator>(const Entry& o) const {
    return due_ns != o.due_ns ? due_ns > o.due_ns : seq > o.seq;
  }
};
}  // namespace

struct DelayTimer::State {
  std::mutex mu;
  std::condition_variable cv;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
  uint64_t seq = 0;
  bool stop = false;
  bool started = false;

  static void Loop(std::shared_ptr<State> s) {
    std::unique_lock lock(s->mu);
    while (!s->stop) {
      if (s->queue.empty()) {
        s->cv.wait(lock);
        continue;
      }
      int64_t now = MonoNanos();
      if (s->queue.top().due_ns > now) {
        s->cv.wait_for(lock, std::chrono::nanoseconds(s->queue.top().due_ns - now));
        continue;
      }
      auto fire = s->queue.top().fire;
      s->queue.pop();
      lock.unlock();
      fire(true);
      lock.lock();
    }
  }
};

DelayTimer::DelayTimer() : state_(std::make_shared<State>()) {}

DelayTimer::~DelayTimer() {
  std::vector<std::function<void(bool)>> pending;
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
    while (!state_->queue.empty()) {
      pending.push_back(state_->queue.top().fire);
      state_->queue.pop();
    }
  }
  state_->cv.notify_all();
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // we are inside a callback; the thread exits when it returns
    } else {
      thread_.join();
    }
  }
  for (auto& f : pending) f(false);
}

void DelayTimer::Schedule(int64_t millis, std::function<void(bool)> fire) {
  {
    std::lock_guard lock(state_->mu);
    if (!state_->stop) {
      if (!state_->started) {
        state_->started = true;
        thread_ = std::thread([state = state_]() mutable {
          SetThreadName("delay-timer");
          State::Loop(std::move(state));
        });
      }
      state_->queue.push(Entry{MonoNanos() + std::max<int64_t>(millis, 0) * 1000000, state_->seq++,
                               std::move(fire)});
      state_->cv.notify_all();
      return;
    }
  }
  fire(false);
}

Task<bool> DelayTimer::Sleep(int64_t millis) {
  bool ok = co_await AwaitCallback<bool>(
      [this, millis](std::function<void(bool)> cb) { Schedule(millis, std::move(cb)); });
  co_return ok;
}

}  // namespace vault
