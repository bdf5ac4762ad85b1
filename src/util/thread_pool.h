// A fixed pool of threads running posted closures in FIFO order. Storage backends run their
// blocking work on one (RunBlocking below); tests use it as an Executor.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "util/task.h"
#include "util/thread_attrs.h"

namespace vault {

class ThreadPool : public Executor {
 public:
  // `name`, when given, names the threads (util/thread_attrs.h SetThreadName).
  explicit ThreadPool(int threads, std::string name = "") {
    for (int i = 0; i < std::max(1, threads); ++i) {
      workers_.emplace_back([this, name] {
        if (!name.empty()) SetThreadName(name);
        Run();
      });
    }
  }
  ~ThreadPool() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // The pool whose thread is calling, or null.
  static ThreadPool* Current() { return current_; }

  // Thread-safe. Closures posted after destruction began are dropped. The wake-up is sent under
  // the lock: a Post racing with the destructor must not touch cv_ after the destructor (which
  // takes the lock first) has gone on to destroy it.
  void Post(std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    queue_.push_back(std::move(fn));
    cv_.notify_one();
  }

 private:
  void Run() {
    current_ = this;
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  static inline thread_local ThreadPool* current_ = nullptr;
};

// `R r = co_await RunBlocking(pool, fn)`: runs fn() (which may block: a synced write, a file read)
// on one of `pool`'s threads and continues the awaiting coroutine where it was: posted back to
// the event loop of the thread that awaited (util/event_loop.h) when it has one, else on the pool
// thread that ran fn. Inline, with no hop, when the caller already is on one of the pool's
// threads. So whoever awaits a backend's operation never learns which thread did the waiting.
template <typename F>
class RunBlocking {
 public:
  using R = std::invoke_result_t<F&>;
  RunBlocking(ThreadPool* pool, F fn) : pool_(pool), fn_(std::move(fn)) {}

  bool await_ready() {
    if (ThreadPool::Current() != pool_) return false;
    result_.emplace(fn_());
    return true;
  }
  void await_suspend(std::coroutine_handle<> h) {
    EventLoop* loop = EventLoop::Current();
    pool_->Post([this, h, loop] {
      result_.emplace(fn_());
      if (loop) {
        loop->Post([h] { h.resume(); });
      } else {
        h.resume();
      }
    });
  }
  R await_resume() { return std::move(*result_); }

 private:
  ThreadPool* pool_;
  F fn_;
  std::optional<R> result_;
};

}  // namespace vault
