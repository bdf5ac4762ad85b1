// Task<T>: a lazily started C++20 coroutine that produces one T. It is how code that waits on
// the network (AWS calls, and the engines and core pipeline above them) is written without
// blocking a thread: `T v = co_await SomeTask();` suspends until the awaited task finishes and
// then continues on whichever thread completed it.
//
// Independent of Asio on purpose: engines and the AWS client see only util/. The HTTP server
// bridges a Task into its own event loop with StartTask().
//
// Rules:
//  - A Task starts when it is awaited or passed to StartTask/SyncWait; destroying an unstarted
//    Task frees its frame. A started Task must not be destroyed before it completes.
//  - Reference parameters of a coroutine must outlive it (the caller owns them while awaiting).
//  - Exceptions are not used; an exception escaping a coroutine terminates the process.
//  - GCC 12 coroutine bugs (each found here the hard way): never write `co_await` inside `?:`;
//    a lambda temporary inside a co_await expression (e.g. the argument of AwaitCallback) may be
//    destroyed twice, so such lambdas capture by reference or raw pointer only; prefer
//    `T v = co_await ...; co_return v;` over `co_return co_await ...` around Asio awaitables.
//    `make asan` and the ASan e2e run in CI check for regressions.
#pragma once

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "util/event_loop.h"

namespace vault {

template <typename T>
class [[nodiscard]] Task {
 public:
  struct promise_type {
    std::optional<T> value;
    std::coroutine_handle<> continuation;

    Task get_return_object() {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct FinalAwaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        auto c = h.promise().continuation;
        return c ? c : std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    template <typename U>
    void return_value(U&& v) {
      value.emplace(std::forward<U>(v));
    }
    void unhandled_exception() noexcept { std::terminate(); }
  };

  Task() = default;
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    h_.promise().continuation = awaiting;
    return h_;  // symmetric transfer: start the child now
  }
  T await_resume() { return std::move(*h_.promise().value); }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

namespace task_internal {
// A fire-and-forget coroutine that owns the task it runs and frees itself when done.
struct Detached {
  struct promise_type {
    Detached get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

template <typename T, typename F>
Detached RunDetached(Task<T> task, F done) {
  done(co_await std::move(task));
}
}  // namespace task_internal

// Starts `task` now, on this thread, and calls done(result) on whichever thread finishes it
// (possibly this one, before StartTask returns).
template <typename T, typename F>
void StartTask(Task<T> task, F done) {
  task_internal::RunDetached<T, F>(std::move(task), std::move(done));
}

// Runs `task` and blocks this thread until it completes. For tests and for synchronous callers
// whose task completes on another thread (never call it on the thread that must resume it).
// On an event-loop thread the task starts without that loop (WithoutEventLoop): its network waits
// go to threads of their own, not to the loop this call is about to block.
template <typename T>
T SyncWait(Task<T> task) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<T> out;
  {
    WithoutEventLoop no_loop;
    StartTask(std::move(task), [&](T v) {
      std::lock_guard lock(mu);
      out.emplace(std::move(v));
      cv.notify_one();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return out.has_value(); });
  return std::move(*out);
}

// Awaits a callback-style operation: `start(callback)` begins it and callback(T) is called once,
// on any thread, possibly synchronously inside start. Usage:
//   Result<Reply> r = co_await AwaitCallback<Result<Reply>>([&](auto cb) { client.Send(req, cb);
//   });
template <typename T>
class AwaitCallback {
 public:
  using Callback = std::function<void(T)>;
  explicit AwaitCallback(std::function<void(Callback)> start) : start_(std::move(start)) {}

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    handle_ = h;
    start_([this](T v) {
      value_.emplace(std::move(v));
      // Whoever comes second resumes: if start() is still running, await_suspend returns false
      // and the coroutine continues inline; otherwise this thread resumes it.
      if (state_.exchange(kDone) == kSuspended) handle_.resume();
    });
    return state_.exchange(kSuspended) != kDone;
  }
  T await_resume() { return std::move(*value_); }

 private:
  enum : int { kStarting = 0, kSuspended = 1, kDone = 2 };
  std::function<void(Callback)> start_;
  std::coroutine_handle<> handle_;
  std::optional<T> value_;
  std::atomic<int> state_{kStarting};
};

// Runs `tasks` concurrently and waits for all of them: each starts at once on this thread (and runs
// until it first waits), and the awaiting coroutine resumes, with the results in the tasks' order,
// on the thread that finished the last one (inline if they all finish without waiting).
template <typename T>
Task<std::vector<T>> WhenAll(std::vector<Task<T>> tasks) {
  struct State {
    std::mutex mu;
    std::vector<std::optional<T>> results;
    size_t left = 0;
  };
  auto state = std::make_shared<State>();
  state->results.resize(tasks.size());
  state->left = tasks.size();
  // The lambda captures by reference only (see the GCC 12 note above); the frame outlives it.
  using Done = std::function<void(std::vector<T>)>;
  std::vector<T> out = co_await AwaitCallback<std::vector<T>>([&](Done cb) {
    if (tasks.empty()) {
      cb({});
      return;
    }
    for (size_t i = 0; i < tasks.size(); ++i) {
      StartTask(std::move(tasks[i]), [st = state, i, cb](T v) {
        bool last;
        {
          std::lock_guard lock(st->mu);
          st->results[i].emplace(std::move(v));
          last = --st->left == 0;
        }
        if (!last) return;
        std::vector<T> all;
        all.reserve(st->results.size());
        for (auto& r : st->results) all.push_back(std::move(*r));
        cb(std::move(all));
      });
    }
  });
  co_return out;
}

// Something that runs closures (a thread pool, an event loop). Used to move a coroutine off the
// thread that completed its I/O (e.g. libcurl's) onto worker threads.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual void Post(std::function<void()> fn) = 0;
};

// `co_await ResumeOn(executor)` continues the coroutine on `executor` (inline when null).
class ResumeOn {
 public:
  explicit ResumeOn(Executor* ex) : ex_(ex) {}
  bool await_ready() const noexcept { return ex_ == nullptr; }
  void await_suspend(std::coroutine_handle<> h) {
    ex_->Post([h] { h.resume(); });
  }
  void await_resume() const noexcept {}

 private:
  Executor* ex_;
};

}  // namespace vault
