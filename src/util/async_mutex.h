// AsyncMutex: mutual exclusion for coroutines that hold the lock across co_await (a storage write,
// an AWS call). A std::mutex may not be held there: the coroutine may resume on another thread,
// and a thread may not unlock what another locked. Waiters queue in FIFO order and suspend; the
// unlocking coroutine resumes the next waiter inline. Never blocks a thread.
//
//   AsyncMutex::Guard g = co_await mu.Lock();   // released when g goes out of scope
#pragma once

#include <coroutine>
#include <deque>
#include <mutex>
#include <utility>

#include "util/lock_annotations.h"

namespace vault {

class AsyncMutex {
 public:
  class [[nodiscard]] Guard {
   public:
    Guard() = default;
    explicit Guard(AsyncMutex* mu) : mu_(mu) {}
    Guard(Guard&& o) noexcept : mu_(std::exchange(o.mu_, nullptr)) {}
    Guard& operator=(Guard&& o) noexcept {
      if (this != &o) {
        Release();
        mu_ = std::exchange(o.mu_, nullptr);
      }
      return *this;
    }
    ~Guard() { Release(); }
    void Release() {
      if (mu_) std::exchange(mu_, nullptr)->Unlock();
    }

   private:
    AsyncMutex* mu_ = nullptr;
  };

  class LockAwaiter {
   public:
    explicit LockAwaiter(AsyncMutex* mu) : mu_(mu) {}
    bool await_ready() { return mu_->TryLock(); }
    bool await_suspend(std::coroutine_handle<> h) {
      std::lock_guard lock(mu_->mu_);
      if (!mu_->locked_) {  // released between await_ready and now
        mu_->locked_ = true;
        return false;
      }
      mu_->waiters_.push_back(h);
      return true;
    }
    Guard await_resume() { return Guard(mu_); }

   private:
    AsyncMutex* mu_;
  };

  // co_await Lock(): the lock, held by the returned Guard.
  LockAwaiter Lock() { return LockAwaiter(this); }
  bool TryLock() {
    std::lock_guard lock(mu_);
    if (locked_) return false;
    locked_ = true;
    return true;
  }
  // Hands the lock to the first waiter (resumed on this thread), or frees it.
  void Unlock() {
    std::coroutine_handle<> next;
    {
      std::lock_guard lock(mu_);
      if (waiters_.empty()) {
        locked_ = false;
        return;
      }
      next = waiters_.front();
      waiters_.pop_front();
    }
    next.resume();  // the lock passes to it still held
  }

 private:
  std::mutex mu_;
  bool locked_ GUARDED_BY(mu_) = false;
  std::deque<std::coroutine_handle<>> waiters_ GUARDED_BY(mu_);
};

}  // namespace vault
