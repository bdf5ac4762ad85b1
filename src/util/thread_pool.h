// A fixed pool of threads running posted closures in FIFO order: the Executor that coroutines
// waiting on the network (AWS calls) resume on, so the network thread only moves bytes.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
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

  // Thread-safe. Closures posted after destruction began are dropped.
  void Post(std::function<void()> fn) override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      queue_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }

 private:
  void Run() {
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
};

}  // namespace vault
