// Asio (not Beast): the reactor and timers only.
#include "net/asio_event_loop.h"

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <map>
#include <thread>
#include <unordered_map>
#include <vector>

#include "util/thread_attrs.h"

namespace vault::net {

namespace asio = boost::asio;

namespace {

using Callback = std::function<void(int)>;

// One watched descriptor. Asio's reactor owns the epoll registration while the descriptor is
// assigned; Unwatch releases it (deregisters, never closes).
struct Watcher {
  Watcher(asio::io_context& ioc, int fd) : sd(ioc) {
    boost::system::error_code ec;
    sd.assign(fd, ec);
    ok = !ec;
  }
  asio::posix::stream_descriptor sd;
  bool ok = false;
  bool removed = false;
  int events = 0;
  bool armed[2] = {false, false};  // a wait is queued for [read, write]
  // Shared so that a callback replaced (Watch) or dropped (Unwatch) while it runs stays alive.
  std::shared_ptr<Callback> fn;
};

}  // namespace

struct AsioEventLoop::Impl {
  explicit Impl(asio::io_context* c) : ioc(c) {}

  asio::io_context* ioc;
  std::unordered_map<int, std::shared_ptr<Watcher>> watches;
  struct Timer {
    std::unique_ptr<asio::steady_timer> timer;
    std::function<void()> fn;
  };
  std::map<uint64_t, Timer> timers;  // by id: creation order when they fire early at stop
  uint64_t next_timer = 1;
  std::vector<std::function<void()>> stop_hooks;
  std::atomic<bool> is_stopped{false};

  // Queues a wait for one direction (0 read, 1 write). Asio's non-speculative wait re-registers
  // the descriptor with epoll (EPOLL_CTL_MOD), which reports a descriptor that is already ready:
  // together with re-arming after each callback this gives level-triggered behaviour.
  void Arm(const std::shared_ptr<Watcher>& w, int dir) {
    w->armed[dir] = true;
    w->sd.async_wait(dir == 0 ? asio::posix::stream_descriptor::wait_read
                              : asio::posix::stream_descriptor::wait_write,
                     [this, w, dir](const boost::system::error_code& ec) {
                       w->armed[dir] = false;
                       if (ec || w->removed) return;
                       Dispatch(w, dir);
                     });
  }

  void Dispatch(const std::shared_ptr<Watcher>& w, int dir) {
    const int bit = dir == 0 ? kRead : kWrite;
    if (w->events & bit) {
      std::shared_ptr<Callback> fn = w->fn;
      (*fn)(bit);
    }
    if (!w->removed && (w->events & bit) && !w->armed[dir] && !is_stopped) Arm(w, dir);
  }
};

AsioEventLoop::AsioEventLoop(asio::io_context* ioc) : impl_(std::make_unique<Impl>(ioc)) {}

AsioEventLoop::~AsioEventLoop() {
  for (auto& [fd, w] : impl_->watches) {
    w->removed = true;
    if (w->ok) w->sd.release();
  }
}

void AsioEventLoop::Watch(int fd, int events, std::function<void(int ready)> fn) {
  if (impl_->is_stopped) return;
  auto& slot = impl_->watches[fd];
  if (!slot) slot = std::make_shared<Watcher>(*impl_->ioc, fd);
  std::shared_ptr<Watcher> w = slot;
  w->events = events & (kRead | kWrite);
  w->fn = std::make_shared<Callback>(std::move(fn));
  if (!w->ok) {
    // The reactor refused the descriptor: let the owner act on it now rather than never (a
    // client then sees the socket's real state, e.g. an error, or times out).
    std::shared_ptr<Callback> cb = w->fn;
    int ev = w->events;
    asio::post(*impl_->ioc, [w, cb, ev] {
      if (!w->removed) (*cb)(ev);
    });
    return;
  }
  if ((w->events & kRead) && !w->armed[0]) impl_->Arm(w, 0);
  if ((w->events & kWrite) && !w->armed[1]) impl_->Arm(w, 1);
}

void AsioEventLoop::Unwatch(int fd) {
  auto it = impl_->watches.find(fd);
  if (it == impl_->watches.end()) return;
  std::shared_ptr<Watcher> w = std::move(it->second);
  impl_->watches.erase(it);
  w->removed = true;
  if (w->ok) {
    boost::system::error_code ec;
    w->sd.cancel(ec);
    w->sd.release();  // deregisters from epoll; the owner closes the descriptor
  }
}

uint64_t AsioEventLoop::RunAfter(int64_t delay_ms, std::function<void()> fn) {
  if (impl_->is_stopped) {
    fn();
    return 0;
  }
  uint64_t id = impl_->next_timer++;
  auto timer = std::make_unique<asio::steady_timer>(
      *impl_->ioc, std::chrono::milliseconds(std::max<int64_t>(delay_ms, 0)));
  Impl* impl = impl_.get();
  timer->async_wait([impl, id](const boost::system::error_code& ec) {
    if (ec) return;
    auto it = impl->timers.find(id);
    if (it == impl->timers.end()) return;
    std::function<void()> f = std::move(it->second.fn);
    impl->timers.erase(it);
    f();
  });
  impl_->timers.emplace(id, Impl::Timer{std::move(timer), std::move(fn)});
  return id;
}

void AsioEventLoop::CancelTimer(uint64_t id) { impl_->timers.erase(id); }

void AsioEventLoop::Post(std::function<void()> fn) { asio::post(*impl_->ioc, std::move(fn)); }

void AsioEventLoop::AtStop(std::function<void()> fn) {
  if (impl_->is_stopped) {
    fn();
    return;
  }
  impl_->stop_hooks.push_back(std::move(fn));
}

bool AsioEventLoop::stopped() const { return impl_->is_stopped; }

asio::io_context* AsioEventLoop::context() const { return impl_->ioc; }

void AsioEventLoop::Stopped() {
  impl_->is_stopped = true;
  std::vector<std::function<void()>> hooks;
  hooks.swap(impl_->stop_hooks);
  for (auto& h : hooks) h();
  while (!impl_->timers.empty()) {
    auto it = impl_->timers.begin();
    std::function<void()> f = std::move(it->second.fn);
    impl_->timers.erase(it);
    f();
  }
  for (auto& [fd, w] : impl_->watches) {
    w->removed = true;
    if (w->ok) w->sd.release();
  }
  impl_->watches.clear();
}

struct AsioLoopThread::Impl {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  AsioEventLoop loop{&ioc};
  std::thread thread;
  bool stopped = false;
};

AsioLoopThread::AsioLoopThread() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([impl = impl_.get()] {
    SetThreadName("event-loop");
    EventLoop::SetCurrent(&impl->loop);
    impl->ioc.run();
    impl->loop.Stopped();
    EventLoop::SetCurrent(nullptr);
  });
}

AsioLoopThread::~AsioLoopThread() { Stop(); }

EventLoop* AsioLoopThread::loop() { return &impl_->loop; }

void AsioLoopThread::RunSync(std::function<void()> fn) {
  std::promise<void> done;
  asio::post(impl_->ioc, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

void AsioLoopThread::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->work.reset();
  impl_->ioc.stop();
  impl_->thread.join();
}

}  // namespace vault::net
