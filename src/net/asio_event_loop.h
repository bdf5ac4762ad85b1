// AsioEventLoop: util/event_loop.h's EventLoop over a Boost.Asio io_context run by one thread (the
// HTTP server's I/O threads). File descriptors are watched through Asio's reactor (epoll), timers
// are Asio steady timers, so the loop's thread sleeps in one epoll_wait for both its own sockets
// and those of the clients that run on it.
//
// Life cycle, on the loop's thread:
//   net::AsioEventLoop loop(&ioc);
//   EventLoop::SetCurrent(&loop);
//   ioc.run();
//   loop.Stopped();  // stop hooks, then pending timers fire early
//   EventLoop::SetCurrent(nullptr);
// The io_context must outlive the loop; the loop must outlive its thread's use of it.
#pragma once

#include <memory>

#include "util/event_loop.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace vault::net {

class AsioEventLoop final : public EventLoop {
 public:
  explicit AsioEventLoop(boost::asio::io_context* ioc);
  ~AsioEventLoop() override;
  AsioEventLoop(const AsioEventLoop&) = delete;
  AsioEventLoop& operator=(const AsioEventLoop&) = delete;

  void Watch(int fd, int events, std::function<void(int ready)> fn) override;
  void Unwatch(int fd) override;
  uint64_t RunAfter(int64_t delay_ms, std::function<void()> fn) override;
  void CancelTimer(uint64_t id) override;
  void Post(std::function<void()> fn) override;
  void AtStop(std::function<void()> fn) override;
  bool stopped() const override;

  // The io_context this loop runs on (for clients that speak Asio themselves).
  boost::asio::io_context* context() const;

  // Called on the loop's thread once ioc.run() has returned: marks the loop stopped, runs the
  // stop hooks, then fires the pending timers early (their callbacks may add more; those run
  // inline). Watches still registered are dropped without closing their descriptors.
  void Stopped();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A thread of its own running an io_context with an AsioEventLoop registered as its EventLoop: how
// tests and tools get a loop like the HTTP server's I/O threads without the server.
class AsioLoopThread {
 public:
  AsioLoopThread();
  // Stops the loop (as Stop) and joins the thread.
  ~AsioLoopThread();
  AsioLoopThread(const AsioLoopThread&) = delete;
  AsioLoopThread& operator=(const AsioLoopThread&) = delete;

  EventLoop* loop();
  // Runs fn on the loop's thread and waits for it to return.
  void RunSync(std::function<void()> fn);
  // Stops the io_context; the thread runs AsioEventLoop::Stopped() and exits. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vault::net
