#include "util/task.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <vector>

#include "util/async_mutex.h"
#include "util/thread_pool.h"

namespace vault {
namespace {

Task<int> Leaf(int v) { co_return v * 2; }

Task<int> Chain() {
  int a = co_await Leaf(1);
  int b = co_await Leaf(a);
  co_return a + b;
}

TEST(TaskTest, ChainsRunInlineAndProduceTheValue) { EXPECT_EQ(SyncWait(Chain()), 6); }

TEST(TaskTest, UnstartedTaskIsFreedWithoutRunning) {
  bool ran = false;
  auto make = [&]() -> Task<int> {
    ran = true;
    co_return 1;
  };
  { Task<int> t = make(); }
  EXPECT_FALSE(ran);
}

TEST(TaskTest, StartTaskCallsDoneOnceSynchronouslyWhenNothingSuspends) {
  int calls = 0, got = 0;
  StartTask(Chain(), [&](int v) {
    ++calls;
    got = v;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, 6);
}

// A callback API completing on another thread, after a delay.
void AsyncAdd(int a, int b, std::function<void(int)> cb) {
  std::thread([=] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    cb(a + b);
  }).detach();
}

Task<int> UsesCallback(int x) {
  int s = co_await AwaitCallback<int>([&](auto cb) { AsyncAdd(x, 1, cb); });
  int t = co_await AwaitCallback<int>([&](auto cb) { cb(s * 10); });  // completes synchronously
  co_return t;
}

TEST(TaskTest, AwaitCallbackResumesAcrossThreadsAndInline) {
  EXPECT_EQ(SyncWait(UsesCallback(4)), 50);
}

TEST(TaskTest, ManyConcurrentTasksEachCompleteOnce) {
  std::atomic<int> done{0}, sum{0};
  for (int i = 0; i < 200; ++i) {
    StartTask(UsesCallback(i), [&](int v) {
      sum += v;
      ++done;
    });
  }
  while (done.load() < 200) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  int want = 0;
  for (int i = 0; i < 200; ++i) want += (i + 1) * 10;
  EXPECT_EQ(sum.load(), want);
}

class ThreadExecutor : public Executor {
 public:
  void Post(std::function<void()> fn) override { std::thread(std::move(fn)).detach(); }
};

Task<std::thread::id> HopTo(Executor* ex) {
  co_await ResumeOn(ex);
  co_return std::this_thread::get_id();
}

TEST(TaskTest, ResumeOnMovesToTheExecutor) {
  ThreadExecutor ex;
  EXPECT_NE(SyncWait(HopTo(&ex)), std::this_thread::get_id());
  EXPECT_EQ(SyncWait(HopTo(nullptr)), std::this_thread::get_id());
}

// A value after `delay_ms` on a thread of its own (0: inline, without suspending).
Task<int> Later(int v, int delay_ms, std::atomic<int>* started) {
  ++*started;
  if (delay_ms == 0) co_return v;
  int got = co_await AwaitCallback<int>([&](std::function<void(int)> cb) {
    std::thread([cb, v, delay_ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      cb(v);
    }).detach();
  });
  co_return got;
}

Task<std::vector<int>> Gather(std::vector<int> delays, std::atomic<int>* started) {
  std::vector<Task<int>> tasks;
  for (size_t i = 0; i < delays.size(); ++i)
    tasks.push_back(Later(static_cast<int>(i) + 1, delays[i], started));
  std::vector<int> out = co_await WhenAll(std::move(tasks));
  co_return out;
}

TEST(TaskTest, WhenAllRunsTasksConcurrentlyAndKeepsTheirOrder) {
  std::atomic<int> started{0};
  // Finishing in the order 3, 1, 4, 2 (and 5 inline): the results keep the tasks' order.
  auto t0 = std::chrono::steady_clock::now();
  std::vector<int> got = SyncWait(Gather({60, 150, 20, 90, 0}, &started));
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(started.load(), 5);
  // Together, not one after the other (which would take 320 ms).
  EXPECT_LT(elapsed, std::chrono::milliseconds(300));
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));

  EXPECT_EQ(SyncWait(Gather({0, 0, 0}, &started)), (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(SyncWait(Gather({}, &started)).empty());
}

// The lock is held across a suspension and handed to waiters in order; nobody is ever in the
// critical section with another.
TEST(AsyncMutexTest, HoldsAcrossSuspensionsAndHandsOverInOrder) {
  AsyncMutex mu;
  std::vector<std::function<void()>> parked;  // the suspensions, resumed by the test
  std::vector<int> order;
  int inside = 0, max_inside = 0;
  auto critical = [&](int id) -> Task<int> {
    AsyncMutex::Guard g = co_await mu.Lock();
    max_inside = std::max(max_inside, ++inside);
    co_await AwaitCallback<int>(
        [&](std::function<void(int)> cb) { parked.push_back([cb] { cb(0); }); });
    order.push_back(id);
    --inside;
    co_return id;
  };
  std::vector<int> done;
  for (int i = 0; i < 3; ++i) StartTask(critical(i), [&](int id) { done.push_back(id); });
  ASSERT_EQ(parked.size(), 1u);  // only the first got in; the others wait for the lock
  for (size_t i = 0; i < parked.size(); ++i) parked[i]();  // each release lets the next in
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(done, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(max_inside, 1);
  EXPECT_TRUE(mu.TryLock());
  mu.Unlock();
}

class FakeLoop : public EventLoop {
 public:
  void Watch(int, int, std::function<void(int)>) override {}
  void Unwatch(int) override {}
  uint64_t RunAfter(int64_t, std::function<void()>) override { return 0; }
  void CancelTimer(uint64_t) override {}
  void Post(std::function<void()> fn) override {
    std::lock_guard lock(mu);
    posted.push_back(std::move(fn));
  }
  void AtStop(std::function<void()>) override {}
  bool stopped() const override { return false; }
  std::mutex mu;
  std::vector<std::function<void()>> posted;
};

Task<std::thread::id> BlockingThenWhere(ThreadPool* pool, std::thread::id* ran_on) {
  int v = co_await RunBlocking(pool, [&] {
    *ran_on = std::this_thread::get_id();
    return 7;
  });
  EXPECT_EQ(v, 7);
  co_return std::this_thread::get_id();
}

// RunBlocking runs the work on the pool and resumes the caller on its own loop when it has one,
// else on the pool's thread; on the pool itself it runs inline.
TEST(RunBlockingTest, RunsOnThePoolAndResumesWhereTheCallerWas) {
  ThreadPool pool(2, "test-pool");
  FakeLoop loop;
  std::thread::id ran_on, resumed_on;
  std::atomic<bool> finished{false};
  EventLoop::SetCurrent(&loop);
  StartTask(BlockingThenWhere(&pool, &ran_on), [&](std::thread::id id) {
    resumed_on = id;
    finished = true;
  });
  EventLoop::SetCurrent(nullptr);
  // The caller's continuation comes back as a post to its loop; run it here, on "the loop".
  for (int i = 0; i < 1000 && !finished; ++i) {
    std::vector<std::function<void()>> fns;
    {
      std::lock_guard lock(loop.mu);
      fns.swap(loop.posted);
    }
    for (auto& fn : fns) fn();
    if (!finished) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the pool's turn
  }
  ASSERT_TRUE(finished);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_EQ(resumed_on, std::this_thread::get_id());

  // Without a loop the caller continues on the pool thread that ran the work.
  std::thread::id ran2;
  std::thread::id resumed2 = SyncWait(BlockingThenWhere(&pool, &ran2));
  EXPECT_EQ(resumed2, ran2);
  EXPECT_NE(ran2, std::this_thread::get_id());

  // Already on the pool: inline.
  std::promise<std::pair<std::thread::id, std::thread::id>> where;
  pool.Post([&] {
    std::thread::id ran3;
    std::thread::id resumed3 = SyncWait(BlockingThenWhere(&pool, &ran3));
    where.set_value({ran3, resumed3});
  });
  auto [ran3, resumed3] = where.get_future().get();
  EXPECT_EQ(ran3, resumed3);
}

}  // namespace
}  // namespace vault
