// Test helpers shared by the modules' unit tests (test targets only).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace vault::testing_util {

// True once `pred` holds, false if `timeout` passes first. For a condition another thread makes
// true (a server saw a request, a thread named itself), never to let time pass: tests move fake
// clocks and use the owners' barriers (ExpirationManager::Settle) for that. It polls, because
// the conditions it is used for have no notification to wait on.
inline bool Eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Counts events from other threads; Wait returns once `n` have happened.
class Counter {
 public:
  void Add(int k = 1) {
    std::lock_guard lock(mu_);
    n_ += k;
    cv_.notify_all();
  }
  bool WaitFor(int n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return n_ >= n; });
  }
  int value() {
    std::lock_guard lock(mu_);
    return n_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

}  // namespace vault::testing_util
